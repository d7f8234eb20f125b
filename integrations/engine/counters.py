"""Per-day counters and person sightings for the Metrics screens, written inside the transaction
that completes an activity."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from metrics.models import DailyCount, PersonSighting


def record(processor, *, created: bool) -> None:
    today = timezone.now().date()
    target = processor.target
    column = "created" if created else "updated"
    key = {
        "day": today,
        "integration_id": processor.integration.pk,
        "repository_id": target.repository.pk,
        "model_id": target.collection.model_id,
    }
    if not DailyCount.objects.filter(**key).update(**{column: F(column) + 1}):
        row, _ = DailyCount.objects.get_or_create(**key)  # the day's first; another may race us
        DailyCount.objects.filter(pk=row.pk).update(**{column: F(column) + 1})
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
