"""The Celery app. Tasks are thin shells around plain functions; the database is the record of
work and the broker only carries wake-up signals, so losing the broker loses no work."""

import gc
import os

from celery import Celery
from celery.signals import (
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _follow_log_level(**_kwargs):
    from hub.logconfig import apply_current_level

    apply_current_level()


@task_prerun.connect
def _beat_while_working(task=None, **_kwargs):
    """Every process that runs tasks — a prefork pool child, or the solo pool's worker — beats
    (``integrations.engine.heartbeat``), so its claims are released soon after it dies, whatever
    killed it. Not for a task run eagerly inside another program (a test, a command)."""
    if task is not None and not task.request.is_eager:
        from integrations.engine import heartbeat

        heartbeat.start(name=task.request.hostname or "")


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs):
    """The worker's main process beats under its node name too, before any task arrives: System
    Information and ``/metrics`` show an idle worker."""
    from integrations.engine import heartbeat

    heartbeat.start(name=getattr(sender, "hostname", "") or f"worker-{os.getpid()}")
    if "prefork" not in type(getattr(sender, "pool", None)).__module__:  # solo/threads: tasks run here
        from extensions.services import start_sandbox_if_used

        start_sandbox_if_used()
    load_connectors()
    freeze_startup_objects()


def load_connectors() -> None:
    """Import the built-in connectors while the worker starts, not in the first task that connects
    to a repository: that was the first detection after Run, which waited for every connector
    module (and its tool's client library) to be imported — 20 % of a worker's detection samples
    in py-spy (issue #19). Imported here, they join the frozen start-up heap as well."""
    from connectors import registry

    registry.kinds()


def freeze_startup_objects() -> None:
    """Move every object alive once the process is ready (Django, the models, the connectors, the
    imported modules: several hundred thousand) into the collector's permanent generation. Each
    full collection walks the whole old generation; with the start-up heap in it, a worker spent a
    quarter of its CPU on collections while syncing (issue #19). Objects made later are collected
    as before; what start-up made stays alive for the process's life anyway."""
    gc.collect()
    gc.freeze()


_frozen_after_first_task = False


@task_postrun.connect
def _freeze_after_first_task(task=None, **_kwargs):
    """A worker's first task imports what start-up did not (the engine's connectors, the tools'
    clients, their caches): once it is done and its garbage collected, what is left joins the
    permanent generation too. Once per process; not for a task run eagerly in another program."""
    global _frozen_after_first_task  # noqa: PLW0603 - once per process
    if _frozen_after_first_task or task is None or task.request.is_eager:
        return
    _frozen_after_first_task = True
    freeze_startup_objects()


@worker_process_init.connect
def _start_extension_sandbox(**_kwargs):
    """A prefork pool child starts its JavaScript sandbox before its first task (see
    ``extensions.services.start_sandbox_if_used``). The connections inherited from the parent are
    closed first, as Celery's own Django fix-up does in this same signal."""
    from django.db import connections

    from extensions.services import start_sandbox_if_used

    connections.close_all()
    start_sandbox_if_used()
    load_connectors()
    freeze_startup_objects()


@worker_process_init.connect
def _enable_crash_reports(**_kwargs):
    from hub import workers

    workers.enable_crash_reports()


@worker_process_shutdown.connect
def _tidy_crash_reports(**_kwargs):
    from hub import workers

    workers.remove_empty_crash_report()
