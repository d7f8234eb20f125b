"""Keep the beat entries in step with the configuration: an integration started, stopped or
re-scheduled, or the default schedule changed, rewrites its entries. The first detection of a newly
started integration has no watermark, so it is the initial scan that pairs or creates everything in
scope."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from integrations.models import ChangeDetectionSettings, Integration


@receiver(post_save, sender=Integration)
def integration_saved(sender, instance: Integration, **_kwargs) -> None:
    from integrations.engine import schedule

    schedule.sync_integration(instance)


@receiver(post_delete, sender=Integration)
def integration_deleted(sender, instance: Integration, **_kwargs) -> None:
    from django_celery_beat.models import PeriodicTask

    from integrations.engine import schedule

    PeriodicTask.objects.filter(name__startswith=f"{schedule.PREFIX} ").filter(
        name__endswith=f" {instance.pk}"
    ).delete()


@receiver(post_save, sender=ChangeDetectionSettings)
def defaults_saved(sender, **_kwargs) -> None:
    from integrations.engine import schedule

    schedule.sync_all()


def install(**_kwargs) -> None:
    from integrations.engine import schedule

    schedule.sync_all()


def connect(app_config) -> None:
    from integrations.engine import health  # noqa: F401 - registers the activitiesCanProcess check

    post_migrate.connect(install, sender=app_config, weak=False)
