"""Per-day counters and person sightings for the Metrics screens, written inside the transaction
that completes the activities of a batch."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

from django.db import connection
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from metrics.models import CountTotal, DailyCount, MonthlyCount, PersonSeen, PersonSighting, RepositoryPerson

# Personal details are taken again from a person read for a sync (reconciliation reads the source
# person) once they are this old: a renamed person shows the new name in the reports within a week.
REFRESH_AFTER = timedelta(days=7)


def record(completed: Iterable[tuple[object, bool]]) -> None:
    """Count each ``(processor, created)`` of a batch: one update per counter row, however many
    activities the batch completed (the person sightings too: one per month and place)."""
    today = timezone.now().date()
    counts: Counter = Counter()
    batch = Sightings()
    for processor, created in completed:
        target = processor.target
        key = (processor.integration.pk, target.repository.pk, target.collection.model_id)
        counts[key, "created" if created else "updated"] += 1
        sight_persons(processor, today, batch)
    batch.write()
    for ((integration_id, repository_id, model_id), column), number in sorted(counts.items()):
        key = {
            "day": today,
            "integration_id": integration_id,
            "repository_id": repository_id,
            "model_id": model_id,
        }
        add(DailyCount, key, column, number)
        keys = {k: v for k, v in key.items() if k != "day"}
        add(MonthlyCount, {**keys, "month": today.replace(day=1)}, column, number)
        add(CountTotal, keys, column, number)


class Sightings:
    """The person sightings of one batch, summed per month and place, and the batch's repository
    people. ``write`` looks the people up with one query per repository, shares the person
    identifier of those reconciliation matched, and adds the batch's counts to the sightings that
    exist with one locking read (in key order, so two batches lock the rows they share in the same
    order) and one UPDATE. People and sightings seen for the first time cost one INSERT each
    kind and one more read, whatever their number."""

    # Up to this many sightings are added one UPDATE each (in key order): a single artifact's
    # update pays no extra read for the bulk path.
    ONE_BY_ONE = 2
    CHUNK = 500  # values in one IN list (SQLite's limit of bound variables stays far away)

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.defaults: dict[tuple, dict] = {}
        self.wanted: dict[tuple[int, str], object] = {}  # (repository, person id) → the person read
        self.matches: set[tuple[tuple[int, str], tuple[int, str]]] = set()

    def want(self, repository_id: int, person_id: str, person) -> None:
        key = (repository_id, person_id)
        if self.wanted.get(key) is None:  # a person read once in the batch is kept
            self.wanted[key] = person

    def match(self, source: tuple[int, str], target: tuple[int, str]) -> None:
        self.want(*target, None)
        self.matches.add((source, target))

    def add(self, sighting: tuple, defaults: dict) -> None:
        self.counts[sighting] += 1
        self.defaults.setdefault(sighting, defaults)

    def write(self) -> None:
        people = self.people()
        for source, target in sorted(self.matches):
            one, other = people[source], people[target]
            if not (one.person_uid and one.person_uid == other.person_uid):
                share_person(one, other)
        self.write_sightings()

    def people(self) -> dict[tuple[int, str], RepositoryPerson]:
        """Every repository person of the batch: read with one query per repository (and chunk);
        a person not known yet, or whose details are a week old and were read now, goes through
        ``identify``."""
        found = self.read_people(self.wanted)
        missing = [key for key in sorted(self.wanted) if key not in found]
        if missing:  # people seen for the first time: one INSERT, then read back (another batch's too)
            now = timezone.now()
            RepositoryPerson.objects.bulk_create(
                [
                    RepositoryPerson(
                        repository_id=repository_id,
                        person_id=person_id,
                        **details(self.wanted[repository_id, person_id]),
                        refreshed=now if self.wanted[repository_id, person_id] else None,
                    )
                    for repository_id, person_id in missing
                ],
                ignore_conflicts=True,
            )
            found.update(self.read_people(missing))
        now = timezone.now()
        for key in sorted(self.wanted):
            person, row = self.wanted[key], found.get(key)
            if row is None or (person and stale(row, now) and any(details(person).values())):
                found[key] = identify(*key, person)
        return found

    def read_people(self, keys) -> dict[tuple[int, str], RepositoryPerson]:
        found: dict[tuple[int, str], RepositoryPerson] = {}
        by_repository: dict[int, list[str]] = {}
        for repository_id, person_id in sorted(keys):
            by_repository.setdefault(repository_id, []).append(person_id)
        for repository_id, ids in by_repository.items():
            for start in range(0, len(ids), self.CHUNK):
                for row in RepositoryPerson.objects.filter(
                    repository_id=repository_id, person_id__in=ids[start : start + self.CHUNK]
                ):
                    found[repository_id, row.person_id] = row
        return found

    def write_sightings(self) -> None:
        keys = sorted(self.counts)
        if len(keys) <= self.ONE_BY_ONE:
            for sighting in keys:
                self.write_one(sighting)
            return
        existing = self.existing(keys)
        missing = [key for key in keys if key not in existing]
        if missing:
            # New months or places: their rows made with a count of 0 in one INSERT (a row another
            # batch made meanwhile is left as it is), then read and locked with the others; the
            # PersonSeen rollup likewise, for the people the integration may never have seen.
            PersonSighting.objects.bulk_create(
                [
                    PersonSighting(**dict(zip(SIGHTING_KEY, key, strict=True)), **self.defaults[key], count=0)
                    for key in missing
                ],
                ignore_conflicts=True,
            )
            seen = sorted({(key[3], key[1], key[2]) for key in missing})
            PersonSeen.objects.bulk_create(
                [PersonSeen(integration_id=i, repository_id=r, person_id=p) for i, r, p in seen],
                ignore_conflicts=True,
            )
            existing.update(self.existing(missing))
        number = Case(
            *(When(pk=pk, then=Value(self.counts[key])) for key, pk in existing.items()),
            default=Value(0),
            output_field=IntegerField(),
        )
        PersonSighting.objects.filter(pk__in=existing.values()).update(count=F("count") + number)

    def write_one(self, sighting: tuple) -> None:
        number = self.counts[sighting]
        key = dict(zip(SIGHTING_KEY, sighting, strict=True))
        if PersonSighting.objects.filter(**key).update(count=F("count") + number):
            return
        row, created = PersonSighting.objects.get_or_create(
            **key, defaults={**self.defaults[sighting], "count": number}
        )
        if not created:  # another batch wrote it first
            PersonSighting.objects.filter(pk=row.pk).update(count=F("count") + number)
        else:  # a new month or place: maybe a person the integration never saw
            PersonSeen.objects.get_or_create(
                integration_id=key["integration_id"],
                repository_id=key["repository_id"],
                person_id=key["person_id"],
            )

    def existing(self, keys: list[tuple]) -> dict[tuple, int]:
        """The primary keys of the sightings of ``keys`` that exist, read (and, in a transaction,
        locked) in key order, as the one-by-one UPDATEs lock theirs. The query asks for each key
        column's values of the batch, so it may return other combinations of them; only the
        batch's own are kept."""
        wanted, found = set(keys), {}
        people = sorted({key[2] for key in keys})
        for start in range(0, len(people), self.CHUNK):
            query = PersonSighting.objects.filter(
                **{
                    f"{name}__in": sorted({key[n] for key in keys})
                    for n, name in enumerate(SIGHTING_KEY)
                    if name != "person_id"
                },
                person_id__in=people[start : start + self.CHUNK],
            ).order_by(*SIGHTING_KEY)
            if connection.in_atomic_block:
                query = query.select_for_update()
            for pk, *key in query.values_list("pk", *SIGHTING_KEY):
                if tuple(key) in wanted:
                    found[tuple(key)] = pk
        return found


SIGHTING_KEY = ("month", "repository_id", "person_id", "integration_id", "project", "field")


def add(counter, key: dict, column: str, number: int) -> None:
    if not counter.objects.filter(**key).update(**{column: F(column) + number}):
        row, _ = counter.objects.get_or_create(**key)  # the first of its key; another may race us
        counter.objects.filter(pk=row.pk).update(**{column: F(column) + number})


def sight_persons(processor, today, batch: Sightings | None = None) -> None:
    """Each person of the processor once per month and place, counted, under the repository
    person Hub generated for them; a person reconciliation matched on the other side shares one
    person identifier with its match. Into ``batch`` when given (``record`` writes it), else at
    once."""
    own = batch is None
    batch = Sightings() if batch is None else batch
    month = today.replace(day=1)
    persons = processor.persons
    source_repository = processor.source.repository.pk
    target_repository = processor.target.repository.pk
    for key, person_id in sorted(persons.fields):
        person = persons.seen.get(person_id)
        batch.want(source_repository, person_id, person)
        matched = persons.matched(person_id)
        if matched:
            batch.match((source_repository, person_id), (target_repository, matched))
        batch.add(
            (
                month,
                source_repository,
                person_id,
                processor.integration.pk,
                processor.activity.source_project,
                key,
            ),
            {
                "username": getattr(person, "username", ""),
                "email": getattr(person, "email", ""),
                "collection_id": processor.source.collection.pk,
            },
        )
    if own:
        batch.write()


def details(person) -> dict[str, str]:
    return {
        "username": getattr(person, "username", ""),
        "email": getattr(person, "email", ""),
        "display_name": getattr(person, "display_name", ""),
    }


def stale(row: RepositoryPerson, now) -> bool:
    return row.refreshed is None or now - row.refreshed >= REFRESH_AFTER


def identify(repository_id: int, person_id: str, person) -> RepositoryPerson:
    taken = details(person)
    found, created = RepositoryPerson.objects.get_or_create(
        repository_id=repository_id,
        person_id=person_id,
        defaults={**taken, "refreshed": timezone.now() if person else None},
    )
    if not created and person and any(taken.values()) and stale(found, timezone.now()):
        RepositoryPerson.objects.filter(pk=found.pk).update(**taken, refreshed=timezone.now())
    return found


def share_person(one: RepositoryPerson, other: RepositoryPerson) -> None:
    """Give both the same generated person identifier (the one either has already, or a new one)."""
    shared = one.person_uid or other.person_uid or uuid.uuid4()
    RepositoryPerson.objects.filter(pk__in=[one.pk, other.pk]).exclude(person_uid=shared).update(
        person_uid=shared
    )
    one.person_uid = other.person_uid = shared
