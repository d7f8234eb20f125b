"""Time entries (worklogs) in the connector SDK: what a connector that keeps time returns, and
what it can do with it. The Time Tracking integration style reads and writes them through the
``Connector`` hooks ``time_entries``, ``time_entries_changed_since``, ``create_time_entry`` and
``update_time_entry``; a connector without time entries keeps the defaults, which refuse.

Time entries are not values of ``Artifact.fields``: a tool keeps them as records of their own
(Redmine's ``/time_entries.json``), often without touching the artifact's update time, so they are
listed by their own clock and copied one by one, each exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The repository field id under which a connector with time entries offers them to a mapping
# (its type is FieldType.TIME_ENTRIES); the value is never in ``Artifact.fields``.
TIME_ENTRIES_FIELD = "time_entries"

# The parts of a time entry, in the order the screens show them; the time entry schema of a
# connector names those it keeps (``TimeEntryCapabilities.schema``).
TIME_ENTRY_PARTS = ("worker", "date", "duration", "comment", "activity")


@dataclass(frozen=True)
class TimeEntry:
    """One worklog on one artifact. ``worker`` is a person id of the repository ("" when the tool
    did not say); ``activity`` an id of ``time_entry_activities()``; ``updated`` the tool's clock."""

    id: str
    artifact_id: str
    worker: str
    date: dt.date
    duration: dt.timedelta
    comment: str = ""
    activity: str = ""
    updated: dt.datetime | None = None

    @property
    def seconds(self) -> int:
        return int(self.duration.total_seconds())


@dataclass(frozen=True)
class NewTimeEntry:
    """What ``create_time_entry`` takes. ``worker`` empty: the connection's user."""

    worker: str
    date: dt.date
    duration: dt.timedelta
    comment: str = ""
    activity: str = ""


@dataclass(frozen=True)
class TimeEntryActivity:
    id: str
    name: str
    default: bool = False


@dataclass(frozen=True)
class TimeEntryCapabilities:
    """Who has what: the Time Tracking style's validation reads these (CCRRTT-50011W, 50012E, 17029E)."""

    supported: bool = False
    other_worker: bool = False  # can file time under another worker than the connection's user
    filtering: bool = False  # time_entries_changed_since can be narrowed by activity and date
    schema: tuple[str, ...] = TIME_ENTRY_PARTS  # the parts it keeps


NO_TIME_ENTRIES = TimeEntryCapabilities()


@dataclass(frozen=True)
class TimeEntryFilter:
    """Time Entry Filtering of one direction of a collection pair: only entries of these activities
    (all when empty) dated on or after ``since`` (any when None) are copied."""

    activities: tuple[str, ...] = ()
    since: dt.date | None = None

    @classmethod
    def of(cls, settings: dict | None) -> TimeEntryFilter | None:
        """The filter a flow's settings describe (``{"activities": [...], "since": "YYYY-MM-DD"}``),
        or None when there is none. Raises ValueError for a malformed one."""
        if not settings:
            return None
        activities = settings.get("activities") or []
        if not isinstance(activities, list) or not all(isinstance(a, str) for a in activities):
            raise ValueError("activities is a list of activity ids")
        since = settings.get("since") or None
        if since is not None:
            since = dt.date.fromisoformat(str(since))
        if not activities and since is None:
            return None
        return cls(tuple(activities), since)

    def admits(self, entry: TimeEntry) -> bool:
        if self.activities and entry.activity not in self.activities:
            return False
        return self.since is None or entry.date >= self.since
