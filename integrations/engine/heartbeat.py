"""Which worker processes are alive: each beats into ``WorkerHeartbeat`` every ``INTERVAL``; one
whose beat is older than ``TIMEOUT`` is dead, and the next claim round of any worker releases its
claims and locks (``claims.release_stale``).

Why not look at pids: under Celery's prefork pool the claims are held by a pool child, whose pid
means nothing on another machine, is reused by the system, and changes when the pool replaces a
child after ``max_tasks_per_child``. A heartbeat answers the same way whatever died — the parent,
a child, both — and on every machine. The name of a process (``host:pid:nonce``) is new for each
process incarnation, so a reused pid never passes for the process that had it before.

The beat runs on a daemon thread of every process that processes (started by the Celery signals
``worker_init`` and ``worker_process_init``, see ``hub.celery``), so a batch that takes minutes does
not look dead; ``process_batch`` also beats before it claims, so a process without the thread
(tests, a management command) is alive while it works. Clocks of the machines are assumed to be
kept in step (NTP): a skew of a few seconds is far below the timeout.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterable

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

logger = logging.getLogger("hub.engine")

INTERVAL = 5.0  # seconds between two beats
TIMEOUT = dt.timedelta(seconds=15)  # three missed beats: dead
FORGET = dt.timedelta(days=1)  # rows of processes dead this long are deleted

_me: tuple[int, str] | None = None
_name = ""  # this process's Celery node name, once ``start`` was given one
_thread: tuple[int, threading.Event] | None = None


def worker_name() -> str:
    """This process's name, ``host:pid:nonce``; a forked child gets a name of its own."""
    global _me
    pid = os.getpid()
    if _me is None or _me[0] != pid:
        _me = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}")
    return _me[1]


def process_of(holder: str) -> str:
    """The process a claim or lock holder names (``…:batch`` is a batch of that process)."""
    return holder.removesuffix(":batch")


def beat(worker: str | None = None, now: dt.datetime | None = None, name: str = "") -> None:
    """``name``: the Celery node of this process, when it is a worker's (kept from the first beat
    that gives one)."""
    from integrations.models import WorkerHeartbeat

    worker, now = worker or worker_name(), now or timezone.now()
    name = name or _name
    rows = WorkerHeartbeat.objects.filter(worker=worker)
    changes = {"beat_at": now, **({"name": name} if name else {})}
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            WorkerHeartbeat.objects.create(worker=worker, pid=os.getpid(), started=now, **changes)
    except IntegrityError:  # another thread of this process made it meanwhile
        rows.update(**changes)


def recent(within: dt.timedelta, now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """The workers (Celery node, else process) that beat within ``within``, with their last beat."""
    from integrations.models import WorkerHeartbeat

    now = now or timezone.now()
    last: dict[str, dt.datetime] = {}
    for row in WorkerHeartbeat.objects.filter(beat_at__gte=now - within).only("worker", "name", "beat_at"):
        if row.node not in last or last[row.node] < row.beat_at:
            last[row.node] = row.beat_at
    return dict(sorted(last.items()))


def alive(holders: Iterable[str], now: dt.datetime | None = None) -> set[str]:
    """Those of ``holders`` whose process beat within ``TIMEOUT``."""
    from integrations.models import WorkerHeartbeat

    now = now or timezone.now()
    by_process = {holder: process_of(holder) for holder in holders}
    beating = set(
        WorkerHeartbeat.objects.filter(
            worker__in=set(by_process.values()), beat_at__gte=now - TIMEOUT
        ).values_list("worker", flat=True)
    )
    return {holder for holder, process in by_process.items() if process in beating}


def forget_dead(now: dt.datetime | None = None) -> None:
    from integrations.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(beat_at__lt=(now or timezone.now()) - FORGET).delete()


def _beat_forever(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            beat()
        except Exception:  # noqa: BLE001 - the database away for a moment: beat again next time
            logger.warning("Worker heartbeat failed; trying again in %s s", INTERVAL, exc_info=True)
            close_old_connections()
            connection.close()
        stop.wait(INTERVAL)
    connection.close()


def start(name: str = "") -> None:
    """Beat on a daemon thread of this process from now on (once per process; a forked child
    starts its own, since threads do not survive a fork). ``name``: the Celery node."""
    global _thread, _name
    if name:
        _name = name
    pid = os.getpid()
    if _thread is not None and _thread[0] == pid:
        return
    stop = threading.Event()
    _thread = (pid, stop)
    threading.Thread(target=_beat_forever, args=(stop,), name="hub-heartbeat", daemon=True).start()


def stop() -> None:
    global _thread
    if _thread is not None and _thread[0] == os.getpid():
        _thread[1].set()
    _thread = None
