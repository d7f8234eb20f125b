"""Beat entries: one change-detection task and one full-scan task per running integration, at its
own interval or cron expression, else the Settings → General → Change Detection default. Stored as
django-celery-beat ``PeriodicTask`` rows, rewritten whenever an integration starts or stops or the
default changes."""

from __future__ import annotations

import json
import logging

from celery.schedules import crontab
from cron_descriptor import get_description

DETECT_TASK = "integrations.engine.detect"
FULL_SCAN_TASK = "integrations.engine.full_scan"
PROCESS_TASK = "integrations.engine.process"
PREFIX = "Hub engine:"
log = logging.getLogger("hub.engine")


class InvalidCron(ValueError):
    pass


def parse_cron(expression: str) -> dict[str, str]:
    """Five fields (minute hour day-of-month month day-of-week) as crontab keyword arguments;
    raises InvalidCron with a message a person can act on."""
    parts = expression.split()
    if len(parts) != 5:
        raise InvalidCron(
            "A cron expression has five fields: minute, hour, day of month, month, day of week."
        )
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    fields = {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }
    try:
        crontab(**fields)
    except (ValueError, IndexError, KeyError) as error:
        raise InvalidCron(f"“{expression}” is not a valid cron expression: {error}") from None
    return fields


def describe(expression: str) -> str:
    """A readable description, e.g. “Every 30 minutes, between 09:00 AM and 05:59 PM, Monday through
    Friday”."""
    parse_cron(expression)
    return get_description(expression)


def _crontab_row(expression: str):
    from django_celery_beat.models import CrontabSchedule

    row, _ = CrontabSchedule.objects.get_or_create(**parse_cron(expression), timezone="UTC")
    return row


def _interval_row(seconds: int):
    from django_celery_beat.models import IntervalSchedule

    row, _ = IntervalSchedule.objects.get_or_create(every=max(1, seconds), period=IntervalSchedule.SECONDS)
    return row


def detection_schedule(integration) -> dict:
    from integrations.models import ChangeDetectionSettings

    if integration.detection_cron:
        return {"crontab": _crontab_row(integration.detection_cron), "interval": None}
    if integration.detection_interval:
        return {"interval": _interval_row(integration.detection_interval), "crontab": None}
    default = ChangeDetectionSettings.get()
    if default.cron:
        return {"crontab": _crontab_row(default.cron), "interval": None}
    return {"interval": _interval_row(default.interval), "crontab": None}


def cadence(integration) -> str:
    """How often change detection runs for this integration, in words (for messages)."""
    from integrations.models import ChangeDetectionSettings

    default = ChangeDetectionSettings.get()
    cron = integration.detection_cron or ("" if integration.detection_interval else default.cron)
    if cron:
        return describe(cron).lower()
    return f"every {integration.detection_interval or default.interval} seconds"


def sync_integration(integration) -> None:
    """Write (or remove) the beat entries of one integration."""
    from django_celery_beat.models import PeriodicTask

    names = (f"{PREFIX} detect {integration.pk}", f"{PREFIX} full scan {integration.pk}")
    if not integration.running:
        PeriodicTask.objects.filter(name__in=names).delete()
        return
    try:
        _write_entries(integration, names)
    except InvalidCron as error:
        # Stored before schedules were validated on every path: no entries rather than a failing
        # save, which would leave the integration impossible to rename, stop or delete.
        PeriodicTask.objects.filter(name__in=names).delete()
        log.warning("Integration %s has no change detection: %s", integration.pk, error)


def _write_entries(integration, names: tuple[str, str]) -> None:
    from django_celery_beat.models import PeriodicTask

    from integrations.models import ChangeDetectionSettings

    arguments = json.dumps([integration.pk])
    PeriodicTask.objects.update_or_create(
        name=names[0],
        defaults={"task": DETECT_TASK, "args": arguments, "enabled": True, **detection_schedule(integration)},
    )
    full_scan = integration.full_scan_cron or ChangeDetectionSettings.get().full_scan_cron
    if full_scan:
        PeriodicTask.objects.update_or_create(
            name=names[1],
            defaults={
                "task": FULL_SCAN_TASK,
                "args": arguments,
                "enabled": True,
                "crontab": _crontab_row(full_scan),
                "interval": None,
            },
        )
    else:
        PeriodicTask.objects.filter(name=names[1]).delete()


def sync_all() -> None:
    """Every integration's entries, plus the processing wake-up every few seconds (the database is
    the record; the wake-up only makes idle workers look)."""
    from django_celery_beat.models import PeriodicTask

    from integrations.models import Integration

    for integration in Integration.objects.all():
        sync_integration(integration)
    PeriodicTask.objects.update_or_create(
        name=f"{PREFIX} process due activities",
        defaults={"task": PROCESS_TASK, "interval": _interval_row(5), "crontab": None, "enabled": True},
    )
