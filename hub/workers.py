"""Sync workers say they are alive: a thread of each worker's main process writes a heartbeat row
every ``PERIOD`` seconds (into the operational database, which every machine shares), and each
worker process enables ``faulthandler`` into ``HUB_HOME/crash-reports`` so a crash leaves its
traceback for the Support and Usage Report."""

from __future__ import annotations

import faulthandler
import logging
import os
import threading
from datetime import timedelta

from django.db import close_old_connections
from django.utils import timezone

PERIOD = 15
RECENT = timedelta(minutes=1)
log = logging.getLogger(__name__)


def beat(name: str, started) -> None:
    from metrics.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"pid": os.getpid(), "started": started, "seen": timezone.now()}
    )


def seen_recently(now=None) -> list[str]:
    from metrics.models import WorkerHeartbeat

    since = (now or timezone.now()) - RECENT
    return list(
        WorkerHeartbeat.objects.filter(seen__gte=since).order_by("name").values_list("name", flat=True)
    )


def start_heartbeat(name: str) -> threading.Event:
    """Beat now and then every ``PERIOD`` seconds until the returned event is set."""
    stop = threading.Event()
    started = timezone.now()

    def run() -> None:
        while True:
            try:
                close_old_connections()
                beat(name, started)
            except Exception as exc:  # noqa: BLE001 — a missed beat shows as a missing worker
                log.warning("The worker heartbeat could not be written (%s).", type(exc).__name__)
            if stop.wait(PERIOD):
                return

    threading.Thread(target=run, name="hub-worker-heartbeat", daemon=True).start()
    return stop


def enable_crash_reports() -> None:
    """Tracebacks of a fatal error in this process go to a file of its own; an empty one is
    removed again at a clean exit (``remove_empty_crash_report``)."""
    from hub.support_report import crash_reports_dir

    directory = crash_reports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    handle = (directory / f"worker-{os.getpid()}.log").open("a")
    faulthandler.enable(handle, all_threads=True)
    global _crash_file
    _crash_file = handle


_crash_file = None


def remove_empty_crash_report() -> None:
    if _crash_file is None:
        return
    faulthandler.disable()
    _crash_file.close()
    path = _crash_file.name
    if os.path.exists(path) and not os.path.getsize(path):
        os.unlink(path)
