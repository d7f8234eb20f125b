"""The Time Tracking style's worklogs: each time entry of a paired artifact copied to the twin
exactly once, and a later edit of its duration carried over.

Which entry is whose copy is kept in the pair (``ArtifactPair.time_entry_map``, committed with the
pair like the comment map): ``{"A:<id>": {"twin": "B:<id>", "seconds": n}, "B:<id>": {...}}``, both
ways, with the duration last synchronized. A worker killed between creating an entry in the target
and committing the pair leaves an entry that no map names; the next attempt adopts it instead of
filing it again, because it matches the source entry on day, duration and comment and no other
source entry claims it (``adoptable``). That is the same rule as the artifact's own creation
intents and markers: the remote write may happen twice only if the record says it did not.
"""

from __future__ import annotations

from typing import Any

from connectors.time_entries import NewTimeEntry, TimeEntry, TimeEntryFilter

TIME_ENTRIES_TYPE = "time_entries"


def time_entries_key(model_types: dict[str, str]) -> str | None:
    """The model field that carries worklogs: the first of type Time Entries."""
    return next((key for key, kind in model_types.items() if kind == TIME_ENTRIES_TYPE), None)


def setting_of(field_flows: dict, key: str) -> dict:
    value = (field_flows or {}).get(key)
    return value if isinstance(value, dict) else {"flow": value or "none"}


def flows_toward(field_flows: dict, key: str, direction: str) -> bool:
    return setting_of(field_flows, key).get("flow") in (direction, "both")


def filter_of(field_flows: dict, key: str, direction: str) -> TimeEntryFilter | None:
    """The Time Entry Filtering of one direction (``{"filter": {"a_to_b": {...}}}`` on the field flow)."""
    return TimeEntryFilter.of((setting_of(field_flows, key).get("filter") or {}).get(direction))


def _fingerprint(entry: TimeEntry) -> tuple:
    return (entry.date, entry.seconds, (entry.comment or "").strip())


def adoptable(entry: TimeEntry, candidates: list[TimeEntry]) -> TimeEntry | None:
    """The first unclaimed target entry that is this entry's copy by its values."""
    wanted = _fingerprint(entry)
    return next((candidate for candidate in candidates if _fingerprint(candidate) == wanted), None)


class TimeEntryCopier:
    """One activity's worklogs from the source artifact to its twin (``Processor`` calls it)."""

    def __init__(self, processor, key: str):
        self.processor, self.key = processor, key
        self.source, self.target = processor.source, processor.target
        self._activities: dict[str, Any] | None = None

    def activity_for_target(self, activity_id: str) -> str:
        """The target's activity of the same name (case-insensitive), else its default one."""
        if self._activities is None:
            source_names = {a.id: a.name.casefold() for a in self.source.connector.time_entry_activities()}
            target = self.target.connector.time_entry_activities()
            by_name = {a.name.casefold(): a.id for a in target}
            default = next((a.id for a in target if a.default), target[0].id if target else "")
            self._activities = {"names": source_names, "by_name": by_name, "default": default}
        name = self._activities["names"].get(activity_id, "")
        return self._activities["by_name"].get(name, self._activities["default"])

    def worker_for_target(self, worker: str) -> str:
        """The worker as a person of the target, or "" (the connection's user) where the target
        cannot file time under another worker (CCRRTT-50011W says so on the integration)."""
        if not worker or not self.target.connector.time_entry_capabilities.other_worker:
            return ""
        return self.processor.persons.target_id(worker, self.key) or ""

    def copy(self, artifact_id: str, twin_id: str, pair) -> int:
        processor = self.processor
        direction = processor.direction()
        flows = processor.integration.field_flows
        if not flows_toward(flows, self.key, direction):
            return 0
        if not (
            self.source.connector.time_entry_capabilities.supported
            and self.target.connector.time_entry_capabilities.supported
        ):
            return 0
        wanted = filter_of(flows, self.key, direction)
        here, there = self.source.name, self.target.name
        entries = self.source.connector.time_entries(artifact_id)
        twins = {f"{there}:{e.id}": e for e in self.target.connector.time_entries(twin_id)}
        known = pair.time_entry_map = dict(pair.time_entry_map or {})
        unclaimed = [e for key, e in twins.items() if key not in known]
        writes = 0
        for entry in entries:
            own = f"{here}:{entry.id}"
            if own in known:
                writes += self.carry_duration(entry, known, twins)
                continue
            if wanted is not None and not wanted.admits(entry):
                continue
            copy = adoptable(entry, unclaimed)
            if copy is not None:
                unclaimed.remove(copy)
            else:
                copy = self.target.connector.create_time_entry(
                    twin_id,
                    NewTimeEntry(
                        worker=self.worker_for_target(entry.worker),
                        date=entry.date,
                        duration=entry.duration,
                        comment=entry.comment,
                        activity=self.activity_for_target(entry.activity),
                    ),
                )
                writes += 1
            known[own] = {"twin": f"{there}:{copy.id}", "seconds": entry.seconds}
            known[f"{there}:{copy.id}"] = {"twin": own, "seconds": copy.seconds}
        return writes

    def carry_duration(self, entry: TimeEntry, known: dict, twins: dict[str, TimeEntry]) -> int:
        """An entry copied before: its new duration (and comment) go to the copy unless the copy
        was edited itself since (then the copy's own activity carries that edit back)."""
        record = known[f"{self.source.name}:{entry.id}"]
        copy = twins.get(record["twin"])
        if copy is None or entry.seconds == record["seconds"]:
            return 0  # deleted in the target (not filed again), or unchanged here
        if copy.seconds == entry.seconds:
            writes = 0
        elif copy.seconds == known.get(record["twin"], {}).get("seconds", copy.seconds):
            self.target.connector.update_time_entry(copy.id, duration=entry.duration, comment=entry.comment)
            writes = 1
        else:
            return 0  # both edited: the one processed later wins when its own activity runs
        record["seconds"] = entry.seconds
        known[record["twin"]] = {"twin": f"{self.source.name}:{entry.id}", "seconds": entry.seconds}
        return writes
