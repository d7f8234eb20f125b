"""Sync workers say they are alive through the engine's heartbeat (``integrations.engine.heartbeat``,
one ``WorkerHeartbeat`` table in the operational database, which every machine shares): System
Information lists the workers seen within ``RECENT``. Each worker process also enables
``faulthandler`` into ``HUB_HOME/crash-reports`` so a crash leaves its traceback for the Support and
Usage Report."""

from __future__ import annotations

import faulthandler
import os
from datetime import timedelta

RECENT = timedelta(minutes=1)


def seen_recently(now=None) -> list[str]:
    """The Celery nodes (or, for a process that is no worker's, the process) that beat within
    ``RECENT``."""
    from integrations.engine import heartbeat

    return list(heartbeat.recent(RECENT, now))


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
