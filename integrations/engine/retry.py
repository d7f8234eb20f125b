"""When a failed activity is tried again: about 30 s after the first failure, then at growing
intervals up to a cap. A transient failure with the server's own wait (Retry-After) waits at least
that long."""

from __future__ import annotations

import datetime as dt

FIRST = dt.timedelta(seconds=30)
FACTOR = 2
CAP = dt.timedelta(hours=1)
MAX_DOUBLINGS = 16  # FIRST × 2**16 is far beyond CAP already


def delay(retry_count: int, *, server_wait: float | None = None) -> dt.timedelta:
    """The wait before retry number ``retry_count + 1`` (``retry_count`` failures so far, ≥ 1)."""
    # The exponent stops growing once the cap is reached: 30 s × 2**44 is past what a timedelta holds.
    doublings = min(max(0, retry_count - 1), MAX_DOUBLINGS)
    wait = min(FIRST * FACTOR**doublings, CAP)
    if server_wait:
        wait = max(wait, dt.timedelta(seconds=server_wait))
    return wait


def next_retry(now: dt.datetime, retry_count: int, *, server_wait: float | None = None) -> dt.datetime:
    return now + delay(retry_count, server_wait=server_wait)
