"""How much history the ledger keeps: at most ``COMPLETED_LIMIT`` completed activities, oldest
removed first. The engine calls ``trim_completed`` after it records completions (cheaply, it is one
count on an index) and beat calls it on a schedule, so the limit holds however work arrives."""

from __future__ import annotations

from activity.models import ArtifactActivity

COMPLETED_LIMIT = 100_000
DELETE_BATCH = 10_000


def trim_completed(limit: int = COMPLETED_LIMIT) -> int:
    """Delete the oldest completed activities beyond ``limit``; returns how many went."""
    completed = ArtifactActivity.objects.filter(status=ArtifactActivity.Status.COMPLETED)
    removed = 0
    while True:
        excess = completed.count() - limit
        if excess <= 0:
            return removed
        # Ids in creation order: deleting by id keeps each statement small and portable (MariaDB
        # cannot DELETE with LIMIT through a subquery on the same table).
        oldest = completed.order_by("created", "id").values_list("id", flat=True)
        ids = list(oldest[: min(excess, DELETE_BATCH)])
        removed += ArtifactActivity.objects.filter(id__in=ids).delete()[0]
