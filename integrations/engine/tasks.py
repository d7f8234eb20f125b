"""Celery tasks of the engine: thin shells. The database is the record of work; a task only says
"look now", so a lost message or a restarted broker loses nothing (the next beat tick looks again)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

from celery import shared_task

BATCH = 100  # the first batch of a process, before its pace is known
MIN_BATCH = 4
MAX_BATCH = 500
BUDGET = 5.0  # seconds of processing per task before yielding the worker
MAX_WAKE_UPS = 8
# Activities per second this process managed in its last batch. A claim takes what fits into one
# BUDGET at that pace (MIN_BATCH to MAX_BATCH): against a slow tool (Redmine, about a second per
# activity) a process no longer holds 100 rows for minutes while the other processes find nothing
# to claim; against the local tracker it takes MAX_BATCH at once, so what every batch costs
# whatever its size (the claim, the integration's context, the gates) is shared by 500 activities
# (issue #19: throughput), and the batch still takes well under a second (issue #20: latency).
_pace: dict[str, float] = {}


def batch_size() -> int:
    pace = _pace.get("per_s")
    if not pace:
        return BATCH
    return max(MIN_BATCH, min(MAX_BATCH, int(pace * BUDGET)))


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during one batch (at most ``MAX_BATCH`` activities, about one
    ``BUDGET``): a batch's rows, models and artifacts stay alive until it ends, so every collection
    of CPython's young generations during it walked them again and found nothing to free (issue
    #19: the collector's share of a worker's CPU). Reference counting frees what it always did;
    cycles made during the batch are collected after it. Left as it was if already paused."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def wake_workers(found: int) -> None:
    """Enough wake-ups for the found work to spread over several workers (sent as each page of
    detection is committed, so processing starts while detection reads on)."""
    for _ in range(min(MAX_WAKE_UPS, 1 + found // (BATCH * 2))):
        process.delay()


@shared_task(name="integrations.engine.detect", ignore_result=True)
def detect(integration_id: int) -> int:
    from integrations.engine import detection

    return detection.detect(integration_id, on_recorded=wake_workers)


@shared_task(name="integrations.engine.full_scan", ignore_result=True)
def full_scan(integration_id: int) -> int:
    from integrations.engine import detection

    return detection.detect(integration_id, full=True, on_recorded=wake_workers)


@shared_task(name="integrations.engine.process", ignore_result=True)
def process() -> int:
    """Work through due activities in batches until none is left (then the next wake-up), or until
    ``BUDGET`` seconds have passed: then a fresh wake-up goes to the back of the queue, so a
    detection waiting behind this task runs first instead of waiting for the whole backlog. After
    each batch the process trims the completed activities past the cap when its turn has come
    (``upkeep``)."""
    from hub.gates import integration_work_allowed
    from integrations.engine import processing, upkeep
    from integrations.gateway import work

    total, deadline = 0, time.monotonic() + BUDGET
    while True:
        if not integration_work_allowed()[0]:  # once a round, for the batch and the gateway work
            return total
        size, started = batch_size(), time.monotonic()
        with collector_paused():
            activities = processing.process_batch(limit=size, gated=True)
        if activities:
            _pace["per_s"] = activities / max(time.monotonic() - started, 1e-3)
        claimed = activities + work.process_due(limit=BATCH, after_batch=True)
        total += claimed
        upkeep.after_batch(claimed)  # the completed-activity cap, between two beats
        if activities < size and claimed < BATCH:
            return total
        if time.monotonic() >= deadline:
            process.delay()
            return total
