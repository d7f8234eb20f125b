"""Celery tasks of the configuration domain: thin shells around plain functions."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

HISTORY_KEPT = dt.timedelta(days=183)  # six months


@shared_task(name="integrations.validate_configuration")
def validate_configuration() -> int:
    """Hourly: problems that arise without a save (a project gone, a repository changed). The
    configuration migrations run first for what still needs them, so a configuration migration
    issue that was removed while its cause remains comes back, and one whose cause went clears."""
    from integrations import configuration_migrations, validation

    configuration_migrations.run()
    return len(validation.validate())


def purge_history(now: dt.datetime | None = None) -> int:
    from hub.models import ConfigurationChange

    cutoff = (now or timezone.now()) - HISTORY_KEPT
    deleted, _ = ConfigurationChange.objects.filter(time__lt=cutoff).delete()
    return deleted


def purge_stale_imports() -> int:
    """Uploads of configuration changes nobody imported, and remainders nobody downloaded."""
    from django.conf import settings

    from hub import uploads
    from integrations import transfer

    return uploads.remove_stale(settings.HUB_HOME / "imports", transfer.STALE_UPLOAD_SECONDS)


@shared_task(name="integrations.purge_history")
def purge_history_task() -> int:
    purge_stale_imports()
    return purge_history()
