"""Per-day counters and person sightings for the Metrics screens, written inside the transaction
that completes the activities of a batch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db.models import F
from django.utils import timezone

from metrics.models import DailyCount, PersonSighting


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
        if not DailyCount.objects.filter(**key).update(**{column: F(column) + number}):
            row, _ = DailyCount.objects.get_or_create(**key)  # the day's first; another may race us
            DailyCount.objects.filter(pk=row.pk).update(**{column: F(column) + number})


def sight_persons(processor, today) -> None:
    month = today.replace(day=1)
    persons = processor.persons
    for key, person_id in sorted(persons.fields):
        person = persons.seen.get(person_id)
        PersonSighting.objects.get_or_create(
            month=month,
            repository_id=processor.source.repository.pk,
            person_id=person_id,
            integration_id=processor.integration.pk,
            project=processor.activity.source_project,
            field=key,
            defaults={
                "username": getattr(person, "username", ""),
                "email": getattr(person, "email", ""),
                "collection_id": processor.source.collection.pk,
            },
        )
