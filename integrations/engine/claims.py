"""Claiming due activities in batches, and the per-artifact locks.

Workers claim with ``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL,
MySQL/MariaDB, Oracle), so any number of workers share the queue without taking a row twice; SQLite
serializes writers and runs a single worker. A claimed row leaves the waiting state (its
``waiting_key`` is cleared), so a change detected while it is processed becomes a new pending row.
A worker that dies leaves its rows *processing*; they return to the queue after ``STALE``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from activity.models import ArtifactActivity
from hub.ids import is_digits
from integrations.models import SyncLock

Status = ArtifactActivity.Status
STALE = dt.timedelta(minutes=10)
LOCK_STALE = dt.timedelta(minutes=10)


# The order of the activity_claim_order index (status, -priority, created): the scan stops after
# ``limit`` rows instead of sorting every pending one.
CLAIM_ORDER = ("-priority", "created")


def claim(worker: str, integration_ids: Iterable[int], limit: int = 50) -> list[ArtifactActivity]:
    """Take up to ``limit`` due activities: highest priority first, then oldest.

    Pending and failed-and-due rows are asked for separately, each through its own index (one
    query with ``OR`` scans every row of the integration, completed ones included — with the
    100,000 completed activities the ledger keeps, that is most of a second per claim). Rows locked
    beyond ``limit`` are let go when the transaction ends."""
    now = timezone.now()
    ids = list(integration_ids)
    if not ids:
        return []
    with transaction.atomic():
        candidates = []
        for status, due in (
            (Status.PENDING, Q()),
            (Status.FAILED, Q(next_retry_at__lte=now)),
            *(
                [(Status.IGNORED, Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now))]
                if retry_ignored()
                else []
            ),
        ):
            rows = ArtifactActivity.objects.filter(due, status=status, integration_id__in=ids).order_by(
                *CLAIM_ORDER
            )
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            rows = list(rows[:limit])
            candidates += without_newer_change(rows) if status == Status.IGNORED else rows
        claimed = sorted(candidates, key=lambda a: (-a.priority, a.created, a.id))[:limit]
        if claimed:
            ArtifactActivity.objects.filter(id__in=[a.id for a in claimed]).update(
                status=Status.PROCESSING, claimed_by=worker, claimed_at=now, waiting_key=None, updated=now
            )
    for activity in claimed:
        activity.status, activity.claimed_by, activity.claimed_at = Status.PROCESSING, worker, now
        activity.waiting_key = None
    return claimed


def retry_ignored() -> bool:
    """The Activity screen's switch: ignored activities are retried like failed ones while it is on."""
    from activity.models import LedgerSettings

    return LedgerSettings.get().auto_retry_ignored


def without_newer_change(ignored: list[ArtifactActivity]) -> list[ArtifactActivity]:
    """Ignored activities whose artifact has no waiting activity (that one carries a newer change
    and the same work: one activity per artifact in a batch)."""
    keys = {
        a.pk: ArtifactActivity.make_waiting_key(a.integration_id, a.source_side, a.artifact_id)
        for a in ignored
    }
    waiting = set(
        ArtifactActivity.objects.filter(waiting_key__in=keys.values()).values_list("waiting_key", flat=True)
    )
    return [a for a in ignored if keys[a.pk] not in waiting]


def dead_here(holder: str) -> bool:
    """Whether ``holder`` ("host:pid[:…]") is a process of this machine that no longer runs."""
    host, _, rest = holder.partition(":")
    pid = rest.split(":")[0]
    if host != socket.gethostname() or not is_digits(pid):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release_stale(now: dt.datetime | None = None) -> int:
    """Rows a dead worker left *processing* go back to the queue (or give way to a newer pending row
    for the same artifact, which carries the same work). A worker of this machine that is gone is
    noticed at once; one of another machine after ``STALE``."""
    now = now or timezone.now()
    released = 0
    processing = ArtifactActivity.objects.filter(status=Status.PROCESSING)
    holders = set(processing.values_list("claimed_by", flat=True).distinct())
    dead = [holder for holder in holders if dead_here(holder)]
    for activity in processing.filter(Q(claimed_at__lt=now - STALE) | Q(claimed_by__in=dead)):
        key = ArtifactActivity.make_waiting_key(
            activity.integration_id, activity.source_side, activity.artifact_id
        )
        with transaction.atomic():
            if ArtifactActivity.objects.filter(waiting_key=key).exists():
                activity.status = Status.CANCELLED
                activity.message = "Replaced by a newer change of the same artifact."
            else:
                activity.status = Status.PENDING
            activity.claimed_by, activity.claimed_at = "", None
            activity.save()
        released += 1
    SyncLock.objects.filter(acquired__lt=now - LOCK_STALE).delete()
    for holder in set(SyncLock.objects.values_list("holder", flat=True)):
        if dead_here(holder):
            SyncLock.objects.filter(holder=holder).delete()
    return released


class Busy(Exception):
    """Another worker holds the artifact (CCRRTT-17004W); retried soon."""

    code = "CCRRTT-17004W"


def lock_key(integration_id: int, side: str, artifact_id: str) -> str:
    return f"{integration_id}:{side}:{artifact_id}"


def _advisory_id(key: str) -> int:
    """A stable signed 64-bit number for a lock key (PostgreSQL advisory locks take one)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def _lock_name(key: str) -> str:
    """A MySQL lock name (at most 64 characters) for a lock key."""
    return "hub:" + hashlib.sha256(key.encode()).hexdigest()[:56]


def _try_lock(key: str, holder: str) -> bool:
    try:
        with transaction.atomic():
            SyncLock.objects.create(key=key, holder=holder, acquired=timezone.now())
    except IntegrityError:
        return False
    return True


# (PostgreSQL function, MySQL/MariaDB function) of the session advisory locks
TAKE = ("pg_try_advisory_lock", "GET_LOCK")
RELEASE = ("pg_advisory_unlock", "RELEASE_LOCK")


def _advisory(functions: tuple[str, str], keys: list[str]) -> list[bool] | None:
    """Call one advisory-lock function for every key in one statement; None where the database has
    no advisory locks."""
    postgres, mysql = functions
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT k, {postgres}(k) FROM unnest(%s::bigint[]) AS k",  # noqa: S608 - our constants
                [[_advisory_id(key) for key in keys]],
            )
            answers = dict(cursor.fetchall())
            return [bool(answers[_advisory_id(key)]) for key in keys]
        if connection.vendor == "mysql":
            wait = ", 0" if mysql == "GET_LOCK" else ""
            cursor.execute(
                "SELECT " + ", ".join([f"{mysql}(%s{wait})"] * len(keys)), [_lock_name(k) for k in keys]
            )
            return [answer == 1 for answer in cursor.fetchone()]
    return None


def lock_many(keys: Iterable[str], holder: str) -> set[str]:
    """Take as many of ``keys`` as are free, without waiting; returns the keys now held.

    PostgreSQL and MySQL/MariaDB: session advisory locks, all in one statement — no write, and the
    server drops them when a killed worker's connection goes. Elsewhere: a ``SyncLock`` row per key
    (insert-to-acquire), cleaned up when its holder is found dead or stale."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return set()
    answers = _advisory(TAKE, keys)
    if answers is None:
        return {key for key in keys if _try_lock(key, holder)}
    return {key for key, taken in zip(keys, answers, strict=True) if taken}


def unlock_many(keys: Iterable[str], holder: str) -> None:
    keys = list(keys)
    if keys and _advisory(RELEASE, keys) is None:
        SyncLock.objects.filter(key__in=keys, holder=holder).delete()


@contextmanager
def locked(keys: list[str], holder: str):
    """Hold the locks of all ``keys`` for the block, or raise ``Busy`` holding none."""
    taken = lock_many(keys, holder)
    try:
        if len(taken) < len(set(keys)):
            busy = next(key for key in keys if key not in taken)
            raise Busy(f"Another worker is synchronizing this artifact ({busy}); trying again shortly.")
        yield
    finally:
        unlock_many(taken, holder)
