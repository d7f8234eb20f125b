"""Per-day counters and person sightings for the Metrics screens, written inside the transaction
that completes the activities of a batch."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

from django.db.models import F
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
    """The person sightings of one batch, summed per month and place and written once each, in
    key order (two batches updating the same rows lock them in the same order), and the batch's
    repository people, each looked up once."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.defaults: dict[tuple, dict] = {}
        self.people: dict[tuple[int, str], RepositoryPerson] = {}

    def person(self, repository_id: int, person_id: str, person) -> RepositoryPerson:
        key = (repository_id, person_id)
        if key not in self.people or (person and self.people[key].refreshed is None):
            self.people[key] = identify(repository_id, person_id, person)
        return self.people[key]

    def add(self, sighting: tuple, defaults: dict) -> None:
        self.counts[sighting] += 1
        self.defaults.setdefault(sighting, defaults)

    def write(self) -> None:
        names = ("month", "repository_id", "person_id", "integration_id", "project", "field")
        for sighting, number in sorted(self.counts.items()):
            key = dict(zip(names, sighting, strict=True))
            if PersonSighting.objects.filter(**key).update(count=F("count") + number):
                continue
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
        identified = batch.person(source_repository, person_id, person)
        matched = persons.matched(person_id)
        if matched:
            other = batch.person(target_repository, matched, None)
            if not (identified.person_uid and identified.person_uid == other.person_uid):
                share_person(identified, other)
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


def identify(repository_id: int, person_id: str, person) -> RepositoryPerson:
    details = {
        "username": getattr(person, "username", ""),
        "email": getattr(person, "email", ""),
        "display_name": getattr(person, "display_name", ""),
    }
    found, created = RepositoryPerson.objects.get_or_create(
        repository_id=repository_id,
        person_id=person_id,
        defaults={**details, "refreshed": timezone.now() if person else None},
    )
    stale = found.refreshed is None or timezone.now() - found.refreshed >= REFRESH_AFTER
    if not created and person and any(details.values()) and stale:
        RepositoryPerson.objects.filter(pk=found.pk).update(**details, refreshed=timezone.now())
    return found


def share_person(one: RepositoryPerson, other: RepositoryPerson) -> None:
    """Give both the same generated person identifier (the one either has already, or a new one)."""
    shared = one.person_uid or other.person_uid or uuid.uuid4()
    RepositoryPerson.objects.filter(pk__in=[one.pk, other.pk]).exclude(person_uid=shared).update(
        person_uid=shared
    )
    one.person_uid = other.person_uid = shared
