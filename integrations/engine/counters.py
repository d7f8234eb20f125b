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
    activities the batch completed."""
    today = timezone.now().date()
    counts: Counter = Counter()
    for processor, created in completed:
        target = processor.target
        key = (processor.integration.pk, target.repository.pk, target.collection.model_id)
        counts[key, "created" if created else "updated"] += 1
        sight_persons(processor, today)
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


def add(counter, key: dict, column: str, number: int) -> None:
    if not counter.objects.filter(**key).update(**{column: F(column) + number}):
        row, _ = counter.objects.get_or_create(**key)  # the first of its key; another may race us
        counter.objects.filter(pk=row.pk).update(**{column: F(column) + number})


def sight_persons(processor, today) -> None:
    """Each person of the batch once per month and place, counted, under the repository person
    Hub generated for them; a person reconciliation matched on the other side shares one person
    identifier with its match."""
    month = today.replace(day=1)
    persons = processor.persons
    source_repository = processor.source.repository.pk
    target_repository = processor.target.repository.pk
    for key, person_id in sorted(persons.fields):
        person = persons.seen.get(person_id)
        identified = identify(source_repository, person_id, person)
        matched = persons.matched(person_id)
        if matched:
            share_person(identified, identify(target_repository, matched, None))
        sighting = {
            "month": month,
            "repository_id": source_repository,
            "person_id": person_id,
            "integration_id": processor.integration.pk,
            "project": processor.activity.source_project,
            "field": key,
        }
        if not PersonSighting.objects.filter(**sighting).update(count=F("count") + 1):
            _, created = PersonSighting.objects.get_or_create(
                **sighting,
                defaults={
                    "username": getattr(person, "username", ""),
                    "email": getattr(person, "email", ""),
                    "collection_id": processor.source.collection.pk,
                },
            )
            if created:  # a new month or place: maybe a person the integration never saw
                PersonSeen.objects.get_or_create(
                    integration_id=processor.integration.pk,
                    repository_id=source_repository,
                    person_id=person_id,
                )


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
