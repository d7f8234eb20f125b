"""The per-repository event rate limit, shared by every worker on every machine.

A token bucket per repository kept in one row of the operational database: taking a token is a
short transaction that locks the row (``SELECT … FOR UPDATE``; on SQLite the whole database is
write-locked by the transaction, which serves the same purpose). No Redis is needed, so it works
on the embedded default too.

The bucket holds at most ``BURST_SECONDS`` worth of events, so an idle repository does not let a
whole minute's worth through at once.
"""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.errors import EventRateLimited

BURST_SECONDS = 10.0


def _capacity(events_per_minute: int) -> float:
    return max(1.0, events_per_minute * BURST_SECONDS / 60.0)


def try_acquire(key: str, events_per_minute: float, capacity: float | None = None) -> float:
    """Take one token if there is one and return 0; otherwise return the seconds until there is.
    ``capacity`` (the burst) defaults to ten seconds' worth."""
    from connectors.models import EventRateBucket

    if events_per_minute <= 0:
        return 0.0
    rate = events_per_minute / 60.0
    capacity = capacity or _capacity(events_per_minute)
    for _ in range(2):  # a second round only when another worker created the row first
        try:
            with transaction.atomic():
                bucket = EventRateBucket.objects.select_for_update().filter(key=key).first()
                now = timezone.now()  # read under the lock, so refills never go backwards
                if bucket is None:
                    EventRateBucket.objects.create(key=key, tokens=capacity - 1, refreshed=now)
                    return 0.0
                now = max(now, bucket.refreshed)
                elapsed = (now - bucket.refreshed).total_seconds()
                tokens = min(capacity, bucket.tokens + elapsed * rate)
                if tokens >= 1.0:
                    bucket.tokens, bucket.refreshed = tokens - 1.0, now
                    bucket.save(update_fields=["tokens", "refreshed"])
                    return 0.0
                return (1.0 - tokens) / rate
        except IntegrityError:
            continue
    return 1.0 / rate


def acquire(key: str, events_per_minute: float, *, max_wait: float, capacity: float | None = None) -> None:
    """Take one token, waiting up to ``max_wait`` seconds for it; past that raise EventRateLimited
    (transient, with the wait) so the engine retries the work later instead of holding a worker."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = try_acquire(key, events_per_minute, capacity)
        if wait <= 0:
            return
        if time.monotonic() + wait > deadline:
            raise EventRateLimited(
                f"The repository's event rate limit ({events_per_minute:g} per minute) is used up; "
                "events will be processed later.",
                retry_after=wait,
            )
        time.sleep(wait)
