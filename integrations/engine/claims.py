"""Claiming due activities in batches, and the per-artifact locks.

Workers claim with ``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL,
MySQL/MariaDB, Oracle), so any number of workers share the queue without taking a row twice; SQLite
serializes writers and runs a single worker. A claimed row leaves the waiting state (its
``waiting_key`` is cleared), so a change detected while it is processed becomes a new pending row.
A worker that dies leaves its rows *processing*; they return to the queue once its heartbeat has
stopped for ``heartbeat.TIMEOUT`` (``release_stale``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from activity.models import ArtifactActivity
from integrations.engine import heartbeat
from integrations.models import SyncLock

Status = ArtifactActivity.Status


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


def release_stale(now: dt.datetime | None = None) -> int:
    """Rows and locks of workers that stopped beating (``heartbeat.TIMEOUT``) go back to the queue.

    Run by every worker at each claim round, so several may release the same rows at the same
    moment. Each caller locks the rows it releases (``SKIP LOCKED``: the rows another caller is
    releasing are that one's) and writes them with a condition — still *processing* — instead of
    saving what it read earlier, so each row is released once. A released row waits again under its
    artifact's waiting key; where a *different* row already waits for that artifact (a change
    detected meanwhile, which carries the same work), the released one is cancelled instead.
    Returns how many rows this caller released."""
    now = now or timezone.now()
    processing = ArtifactActivity.objects.filter(status=Status.PROCESSING)
    holders = set(processing.values_list("claimed_by", flat=True).distinct())
    dead = holders - heartbeat.alive(holders, now)
    released = release_rows(dead, now) if dead else 0
    locks = set(SyncLock.objects.values_list("holder", flat=True).distinct())
    gone = locks - heartbeat.alive(locks, now)
    if gone:
        SyncLock.objects.filter(holder__in=gone, acquired__lt=now - heartbeat.TIMEOUT).delete()
    heartbeat.forget_dead(now)
    return released


REPLACED = "Replaced by a newer change of the same artifact."


def release_rows(dead: set[str], now: dt.datetime) -> int:
    # A claim younger than the timeout is kept even without a beat: a worker beats before it claims,
    # so only a process that never beats (an older version, say) gets here that fast.
    rows = ArtifactActivity.objects.filter(
        Q(claimed_at__lt=now - heartbeat.TIMEOUT) | Q(claimed_at__isnull=True),
        status=Status.PROCESSING,
        claimed_by__in=dead,
    ).order_by("pk")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        found = {
            pk: (holder, ArtifactActivity.make_waiting_key(integration_id, side, artifact_id))
            for pk, integration_id, side, artifact_id, holder in rows.values_list(
                "pk", "integration_id", "source_side", "artifact_id", "claimed_by"
            )
        }
        if not found:
            return 0
        # Keys another row waits under; a row this release put back before (another caller's, or
        # this row itself) is not a newer change of its own artifact.
        newer = set(
            ArtifactActivity.objects.filter(waiting_key__in=[key for _, key in found.values()])
            .exclude(pk__in=found)
            .values_list("waiting_key", flat=True)
        )
        cancel = [pk for pk, (_, key) in found.items() if key in newer]
        back = [pk for pk in found if pk not in set(cancel)]
        mine = ArtifactActivity.objects.filter(status=Status.PROCESSING, claimed_by__in=dead)
        released = {"claimed_by": "", "claimed_at": None, "updated": now}
        count = mine.filter(pk__in=cancel).update(
            status=Status.CANCELLED, message=REPLACED, waiting_key=None, **released
        )
        try:
            with transaction.atomic():
                count += mine.filter(pk__in=back).update(
                    status=Status.PENDING, waiting_key=ArtifactActivity.waiting_key_expression(), **released
                )
        except IntegrityError:  # a change detected in between waits already: row by row
            count += sum(requeue(pk, *found[pk], now) for pk in back)
    return count


def requeue(pk: int, holder: str, key: str, now: dt.datetime) -> int:
    """Release one row a dead ``holder`` left; 0 when another caller released it first."""
    mine = ArtifactActivity.objects.filter(pk=pk, status=Status.PROCESSING, claimed_by=holder)
    released = {"claimed_by": "", "claimed_at": None, "updated": now}
    cancel = {"status": Status.CANCELLED, "message": REPLACED, "waiting_key": None, **released}
    with transaction.atomic():
        if ArtifactActivity.objects.filter(waiting_key=key).exclude(pk=pk).exists():
            return mine.update(**cancel)
        try:
            with transaction.atomic():
                return mine.update(status=Status.PENDING, waiting_key=key, **released)
        except IntegrityError:  # a newer change was detected in between: it waits already
            return mine.update(**cancel)


class Busy(Exception):
    """Another worker holds the artifact (CCRRTT-17004W); retried soon."""

    code = "CCRRTT-17004W"


def lock_key(integration_id: int, side: str, artifact_id: str) -> str:
    return f"{integration_id}:{side}:{artifact_id}"


def _advisory_id(key: str) -> int:
    """A stable signed 64-bit number for a lock key (PostgreSQL advisory locks take one)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def _lock_name(key: str, database: str | None = None) -> str:
    """A MySQL lock name (at most 64 characters) for a lock key. ``GET_LOCK`` names are global to the
    server, unlike PostgreSQL's advisory locks, which belong to one database: the database's name is
    part of the hash, or two Hubs sharing a MariaDB server (or two test databases, one per test
    worker) would take each other's locks for integrations with the same id."""
    scoped = f"{database or connection.settings_dict['NAME']}\0{key}"
    return "hub:" + hashlib.sha256(scoped.encode()).hexdigest()[:56]


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
