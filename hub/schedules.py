"""Fixed periodic tasks stored for django-celery-beat after migrate: one mechanism every app uses
for its housekeeping (the engine's per-integration entries are its own, in integrations.engine)."""

from __future__ import annotations

from collections.abc import Iterable

# (name shown in beat, task name, crontab fields that differ from "every")
Schedule = tuple[str, str, dict]


def install(schedules: Iterable[Schedule]) -> None:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    every = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
    for name, task, fields in schedules:
        schedule, _ = CrontabSchedule.objects.get_or_create(**{**every, **fields})
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "crontab": schedule})
