"""The periodic tasks of the configuration domain, stored for django-celery-beat after migrate."""

from __future__ import annotations

SCHEDULES = (
    # (name, task, crontab fields)
    ("Validate the configuration", "integrations.validate_configuration", {"minute": "7"}),
    (
        "Purge configuration history older than six months",
        "integrations.purge_history",
        {"minute": "17", "hour": "3"},
    ),
)


def install(**_kwargs) -> None:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for name, task, fields in SCHEDULES:
        schedule, _ = CrontabSchedule.objects.get_or_create(
            **{
                "minute": "*",
                "hour": "*",
                "day_of_week": "*",
                "day_of_month": "*",
                "month_of_year": "*",
                **fields,
            }
        )
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "crontab": schedule})
