"""The periodic tasks of the configuration domain, stored for django-celery-beat after migrate."""

from __future__ import annotations

from hub import schedules

SCHEDULES = (
    ("Validate the configuration", "integrations.validate_configuration", {"minute": "7"}),
    (
        "Purge configuration history older than six months",
        "integrations.purge_history",
        {"minute": "17", "hour": "3"},
    ),
)


def install(**_kwargs) -> None:
    schedules.install(SCHEDULES)
