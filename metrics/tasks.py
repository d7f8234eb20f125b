"""Celery tasks: thin shells around ``metrics.usage``."""

from celery import shared_task

from metrics import usage


@shared_task(name="metrics.purge_people")
def purge_people() -> int:
    return usage.purge()


@shared_task(name="metrics.refresh_people")
def refresh_people() -> int:
    return usage.refresh_people()
