"""User counting for the license (Metrics → User Count): how many distinct people Hub processed
since the license renewal date, and over the last twelve months.

Who counts: a person seen in a person field of an artifact Hub processed (``PersonSighting``), named
by the generated repository person identifier (``RepositoryPerson.uid``). The pipeline, the same
for both figures and for the User Count Report:

1. **raw data**: every sighting row of the period (a month row counts when its last sighting in
   that month was on or after the period's first day);
2. **deduplicated**: the repository people with at least one *counted* sighting — not in a
   Non-production integration, not an Excluded User field, not a Requester field in an
   integration that Involves ITSM — one row each;
3. **reconciled**: those people joined into persons, where person reconciliation matched them
   (the shared generated person identifier) or a Person Reconciliation Override says so; the count
   is the number of persons;
4. **unmatched**: the counted repository people no other one was joined with.

Nothing is enforced with it: it tells you how many users to license at renewal. (The license's
``max_users`` limits the console's users, 30016E.)
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from metrics.models import PersonOverride, PersonSighting, RepositoryPerson, UserCountSettings

RAW_COLUMNS = [
    "Repository ID",
    "Repository",
    "Tasktop Generated Repository Person Identifier",
    "Generated Person Identifier",
    "Username",
    "Display Name",
    "Email",
    "Integration ID",
    "Integration",
    "Project",
    "Field",
    "User Type",
    "Month",
    "Count",
    "Counted",
    "Reason",
]
PERSON_COLUMNS = [*RAW_COLUMNS[:7], "Integrations", "Fields"]  # who they are, then where counted
RECONCILED_COLUMNS = ["Person", "Repository People", "Repositories", "Usernames", "Emails"]
TEMPLATE_COLUMNS = [
    "Repository ID",
    "Tasktop Generated Repository Person Identifier",
    "Overridden Repository ID",
    "Overridden Tasktop Generated Repository Person Identifier",
]
FINAL_COLUMNS = [
    "Count",
    "From",
    "To",
    "Raw Rows",
    "Repository People Seen",
    "Repository People Counted",
    "Users",
    "Unmatched",
]
TYPE_LABELS = dict(UserCountSettings.USER_TYPES)


# --- the periods ----------------------------------------------------------------------------------


def _same_day(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=year, day=28)


def renewal_anchor(config: UserCountSettings) -> date | None:
    """The date whose anniversaries the count starts from: the Start Date, else the license's."""
    if config.start_date:
        return config.start_date
    from hub import licensing

    license = licensing.current().license
    return license.created if license else None


def current_start(config: UserCountSettings, today: date) -> date:
    """The most recent anniversary of the renewal date on or before ``today`` (a year ago when no
    license and no Start Date say otherwise)."""
    anchor = renewal_anchor(config) or _same_day(today, today.year - 1)
    start = _same_day(anchor, today.year)
    return start if start <= today else _same_day(anchor, today.year - 1)


def rolling_start(today: date) -> date:
    return _same_day(today, today.year - 1)


# --- the pipeline ---------------------------------------------------------------------------------


@dataclass
class Person:
    """One repository person in the period, with what the report says about them."""

    repository_id: int
    person_id: str
    uid: str = ""
    person_uid: str = ""
    username: str = ""
    display_name: str = ""
    email: str = ""
    counted: bool = False
    integrations: set = field(default_factory=set)
    fields: set = field(default_factory=set)


@dataclass
class Breakdown:
    start: date
    end: date
    raw: list[list[str]]
    people: dict[tuple[int, str], Person]
    persons: list[list[Person]]  # the reconciled persons, each its repository people

    @property
    def counted(self) -> list[Person]:
        return [p for p in self.people.values() if p.counted]

    @property
    def unmatched(self) -> list[Person]:
        return [group[0] for group in self.persons if len(group) == 1]

    @property
    def users(self) -> int:
        return len(self.persons)


def user_type(config: UserCountSettings, repository_id: int, field_name: str) -> str:
    return config.user_types.get(f"{repository_id}:{field_name}", UserCountSettings.STANDARD)


def exclusion(config: UserCountSettings, sighting: PersonSighting) -> str:
    """Why a sighting is not counted; empty when it is."""
    flags = config.integrations.get(str(sighting.integration_id), {})
    kind = user_type(config, sighting.repository_id, sighting.field)
    if flags.get("non_production"):
        return "Non-production integration"
    if kind == UserCountSettings.EXCLUDED:
        return "Excluded User"
    if kind == UserCountSettings.REQUESTER and flags.get("itsm"):
        return "Requester in an integration that involves ITSM"
    return ""


def _bounds(start: date) -> tuple[date, datetime]:
    """The period's first month and first moment."""
    return start.replace(day=1), timezone.make_aware(datetime.combine(start, time.min))


def sightings_since(start: date):
    """The sighting rows of the period: later months whole, the first month's rows whose last
    sighting was on or after ``start``."""
    from django.db.models import Q

    first, since = _bounds(start)
    order = ("month", "repository_id", "person_id", "integration_id", "project", "field")
    return (
        PersonSighting.objects.filter(Q(month__gt=first) | Q(month=first, last_seen__gte=since))
        .order_by(*order)
        # named tuples, not model instances: a year of sightings is tens of thousands of rows
        .values_list(*order, "count", "last_seen", "username", "email", named=True)
    )


class _Names:
    def __init__(self):
        from integrations.models import Integration, Repository

        self.repositories = dict(Repository.objects.values_list("pk", "label"))
        self.integrations = dict(Integration.objects.values_list("pk", "name"))
        self.people = {(p.repository_id, p.person_id): p for p in RepositoryPerson.objects.all()}

    def repository(self, pk: int) -> str:
        return self.repositories.get(pk, f"(deleted repository {pk})")

    def integration(self, pk: int) -> str:
        return self.integrations.get(pk, f"(deleted integration {pk})")


def breakdown(
    start: date,
    end: date,
    config: UserCountSettings,
    sightings=None,
    names: _Names | None = None,
    overrides: list[tuple[str, str]] | None = None,
    with_raw: bool = True,
) -> Breakdown:
    """``with_raw`` False: only the counts (the screen), not the report's raw rows."""
    names = names or _Names()
    rows = sightings_since(start) if sightings is None else sightings
    people: dict[tuple[int, str], Person] = {}
    raw = []
    reasons: dict[tuple, str] = {}
    for s in rows:
        key = (s.repository_id, s.person_id)
        person = people.get(key)
        if person is None:
            known = names.people.get(key)
            person = people[key] = Person(
                s.repository_id,
                s.person_id,
                uid=str(known.uid) if known else "",
                person_uid=str(known.person_uid or "") if known else "",
                username=(known.username if known else "") or s.username,
                display_name=known.display_name if known else "",
                email=(known.email if known else "") or s.email,
            )
        place = (s.integration_id, s.repository_id, s.field)  # all a reason depends on
        reason = reasons.get(place)
        if reason is None:
            reason = reasons[place] = exclusion(config, s)
        if not reason:
            person.counted = True
            person.integrations.add(names.integration(s.integration_id))
            person.fields.add(s.field)
        if not with_raw:
            continue
        raw.append(
            [
                str(s.repository_id),
                names.repository(s.repository_id),
                person.uid,
                person.person_uid,
                person.username,
                person.display_name,
                person.email,
                str(s.integration_id),
                names.integration(s.integration_id),
                s.project,
                s.field,
                TYPE_LABELS[user_type(config, s.repository_id, s.field)],
                s.month.strftime("%Y-%m"),
                str(s.count),
                "no" if reason else "yes",
                reason,
            ]
        )
    return Breakdown(start, end, raw, people, reconcile(people, overrides))


def override_pairs() -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, b in PersonOverride.objects.values_list("person_uid", "other_person_uid")]


def reconcile(people: dict[tuple[int, str], Person], overrides=None) -> list[list[Person]]:
    """The counted repository people joined into persons (union-find): by the generated person
    identifier reconciliation shares, and by the overrides (pairs of generated repository person
    identifiers). Returned in a stable order: by repository, then person id."""
    counted = sorted((p for p in people.values() if p.counted), key=lambda p: (p.repository_id, p.person_id))
    parent = {id(p): id(p) for p in counted}
    by_uid = {p.uid: p for p in counted if p.uid}

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(a: Person, b: Person):
        ra, rb = root(id(a)), root(id(b))
        if ra != rb:
            parent[rb] = ra

    shared: dict[str, Person] = {}
    for p in counted:
        if p.person_uid:
            if p.person_uid in shared:
                join(shared[p.person_uid], p)
            else:
                shared[p.person_uid] = p
    if overrides is None:
        overrides = override_pairs()
    for a, b in overrides:
        if a in by_uid and b in by_uid:
            join(by_uid[a], by_uid[b])
    groups: dict[int, list[Person]] = defaultdict(list)
    for p in counted:
        groups[root(id(p))].append(p)
    return list(groups.values())


# --- the figures ----------------------------------------------------------------------------------


@dataclass
class Figures:
    current: Breakdown
    rolling: Breakdown
    monthly: list[tuple[str, int]]  # (YYYY-MM, users seen that month), the last 12 months


def figures(today: date | None = None, with_raw: bool = False) -> Figures:
    today = today or timezone.localdate()
    config = UserCountSettings.get()
    names = _Names()
    overrides = override_pairs()
    start_current, start_rolling = current_start(config, today), rolling_start(today)
    earliest = min(start_current, start_rolling)
    rows = list(sightings_since(earliest))

    def within(start: date):  # sightings_since's condition, on the rows read once
        first, since = _bounds(start)
        return [s for s in rows if s.month > first or (s.month == first and s.last_seen >= since)]

    current = breakdown(start_current, today, config, within(start_current), names, overrides, with_raw)
    rolling = breakdown(start_rolling, today, config, within(start_rolling), names, overrides, with_raw)
    by_month = defaultdict(list)
    for s in rows:
        by_month[s.month].append(s)
    monthly = []
    months = [today.replace(day=1)]
    while len(months) < 12:
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    for month in reversed(months):
        of_month = breakdown(month, today, config, by_month[month], names, overrides, with_raw=False)
        monthly.append((month.strftime("%Y-%m"), of_month.users))
    return Figures(current, rolling, monthly)


# --- the User Count Report ------------------------------------------------------------------------


def _csv(header: list[str], rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _person_row(p: Person, names: _Names) -> list[str]:
    return [
        str(p.repository_id),
        names.repository(p.repository_id),
        p.uid,
        p.person_uid,
        p.username,
        p.display_name,
        p.email,
        ", ".join(sorted(p.integrations)),
        ", ".join(sorted(p.fields)),
    ]


def _breakdown_files(folder: str, b: Breakdown, names: _Names) -> dict[str, bytes]:
    def person_rows(people):
        return [_person_row(p, names) for p in people]

    reconciled = []
    for number, group in enumerate(b.persons, start=1):
        reconciled.append(
            [
                str(number),
                "; ".join(p.uid or f"{p.repository_id}:{p.person_id}" for p in group),
                "; ".join(names.repository(p.repository_id) for p in group),
                "; ".join(p.username for p in group),
                "; ".join(p.email for p in group),
            ]
        )
    return {
        f"{folder}/1-raw-data.csv": _csv(RAW_COLUMNS, b.raw),
        f"{folder}/2-deduplicated-based-on-user-fields.csv": _csv(PERSON_COLUMNS, person_rows(b.counted)),
        f"{folder}/3-reconciled-based-on-settings.csv": _csv(RECONCILED_COLUMNS, reconciled),
        f"{folder}/4-unmatched-based-on-settings.csv": _csv(PERSON_COLUMNS, person_rows(b.unmatched)),
    }


def final_row(label: str, b: Breakdown) -> list[str]:
    return [
        label,
        b.start.isoformat(),
        b.end.isoformat(),
        str(len(b.raw)),
        str(len(b.people)),
        str(len(b.counted)),
        str(b.users),
        str(len(b.unmatched)),
    ]


def settings_document(config: UserCountSettings, today: date) -> dict:
    anchor = renewal_anchor(config)
    return {
        "startDate": config.start_date.isoformat() if config.start_date else None,
        "renewalDate": anchor.isoformat() if anchor else None,
        "currentCountFrom": current_start(config, today).isoformat(),
        "rollingCountFrom": rolling_start(today).isoformat(),
        "integrationExclusions": config.integrations,
        "userTypes": config.user_types,
        "personReconciliationOverrides": [
            {
                "repositoryId": o.repository_id,
                "repositoryPersonIdentifier": str(o.person_uid),
                "overriddenRepositoryId": o.other_repository_id,
                "overriddenRepositoryPersonIdentifier": str(o.other_person_uid),
            }
            for o in PersonOverride.objects.order_by("pk")
        ],
    }


def report_zip(today: date | None = None) -> bytes:
    """The User Count Report: the two breakdown folders, the final counts, the reconciliation
    template (header only: fill it from 1-raw-data.csv) and the settings used."""
    today = today or timezone.localdate()
    result = figures(today, with_raw=True)
    names = _Names()
    files = {
        **_breakdown_files("current-usage-breakdown", result.current, names),
        **_breakdown_files("12-month-usage-breakdown", result.rolling, names),
        "final-counts.csv": _csv(
            FINAL_COLUMNS,
            [
                final_row("Current User Count", result.current),
                final_row("Rolling 12 Month Count", result.rolling),
            ],
        ),
        "person-reconciliation-template.csv": _csv(TEMPLATE_COLUMNS, []),
        "user-count-settings.json": json.dumps(
            settings_document(UserCountSettings.get(), today), indent=2
        ).encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- Person Reconciliation Overrides: Bulk Edit ---------------------------------------------------


def parse_bulk(text: str) -> tuple[list[tuple[int, str, int, str]], list[str]]:
    """Rows pasted from person-reconciliation-template.csv, without its header: four values a line,
    separated by tabs (a spreadsheet's copy) or commas. Returns the rows that name known repository
    people, and a message per line that does not."""
    import uuid

    known = {str(p.uid): p.repository_id for p in RepositoryPerson.objects.all()}
    rows, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        values = [v.strip() for v in (line.split("\t") if "\t" in line else next(csv.reader([line])))]
        if len(values) != 4:
            errors.append(f"Line {number}: expected 4 values, found {len(values)}.")
            continue
        try:
            repository_a, repository_b = int(values[0]), int(values[2])
            uid_a, uid_b = str(uuid.UUID(values[1])), str(uuid.UUID(values[3]))
        except ValueError:
            errors.append(f"Line {number}: repository ids are numbers and person identifiers UUIDs.")
            continue
        if uid_a == uid_b:
            errors.append(f"Line {number}: a person cannot be their own duplicate.")
        elif known.get(uid_a) != repository_a:
            errors.append(f"Line {number}: no person {uid_a} in repository {repository_a}.")
        elif known.get(uid_b) != repository_b:
            errors.append(f"Line {number}: no person {uid_b} in repository {repository_b}.")
        else:
            rows.append((repository_a, uid_a, repository_b, uid_b))
    return rows, errors


def add_overrides(rows: list[tuple[int, str, int, str]]) -> int:
    added = 0
    for repository_a, uid_a, repository_b, uid_b in rows:
        _, created = PersonOverride.objects.get_or_create(
            person_uid=uid_a,
            other_person_uid=uid_b,
            defaults={"repository_id": repository_a, "other_repository_id": repository_b},
        )
        added += created
    return added
