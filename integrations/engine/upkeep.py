"""The workers keep the ledger's cap on completed activities themselves (issue #19: scale).

Beat trims every 10 minutes, but a backfill of 1,000,000 artifacts completes 100,000 activities in
about a minute, so between two beats the table would grow to ten times the cap (and every claim,
count and page of the Activity screen with it). Each worker process therefore trims after its
batches, once it has processed about ``TRIM_AFTER`` activities since its last trim or ``TRIM_EVERY``
seconds have passed, whichever comes first: at most a few hundred rows past the cap per worker,
and one bound query per thousand activities when under it. At the same turn the worker refreshes
the planner statistics of a table that has grown far past its last analyze, and where autovacuum
is off vacuums a table full of dead rows (``integrations.engine.planner``)."""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError

from activity import retention
from integrations.engine import claims, heartbeat, planner

logger = logging.getLogger("hub.engine")

TRIM_AFTER = 1_000  # activities this process has processed since its last trim
TRIM_EVERY = 60.0  # seconds since this process's last trim
LOCK_KEY = "ledger:trim-completed"

# This process's count since its last trim (a forked worker starts from its parent's, harmlessly).
_since = {"processed": 0, "at": time.monotonic()}


def after_batch(processed: int) -> int:
    """Count ``processed`` activities (claimed by the batch just run) and trim when due; returns
    how many completed activities were removed."""
    _since["processed"] += processed
    if _since["processed"] < TRIM_AFTER and time.monotonic() - _since["at"] < TRIM_EVERY:
        return 0
    _since.update(processed=0, at=time.monotonic())
    removed = trim()
    # The same cadence for the tables' statistics and, where autovacuum is off, their dead rows.
    planner.refresh_stale()
    planner.vacuum_dead()
    return removed


def trim() -> int:
    """Trim the completed activities past the cap unless another worker is trimming right now (it
    removes the same rows; waiting for it would only repeat its bound query). A failure (a lock
    timeout, a deadlock with the beat's trim) is logged and left to the next trim: the batch's work
    is committed already and must not fail for housekeeping."""
    holder = heartbeat.worker_name()
    if not claims.lock_many([LOCK_KEY], holder):
        return 0
    try:
        return retention.trim_completed()
    except DatabaseError:
        logger.warning("Trimming the completed activities failed; the next trim tries again", exc_info=True)
        return 0
    finally:
        claims.unlock_many([LOCK_KEY], holder)
