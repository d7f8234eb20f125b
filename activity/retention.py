"""How much history the ledger keeps: the newest ``settings.HUB_COMPLETED_ACTIVITIES_KEPT``
completed activities (100,000), by id. Only completed activities without conflict decisions are
ever removed: pending, processing, failed, ignored and cancelled ones stay, and so does every
activity the Activity screen's conflict filter finds. The workers trim as they complete work
(``integrations.engine.upkeep``) and beat every 10 minutes, so the cap holds however fast work
arrives (a backfill completes 100,000 activities in about a minute)."""

from __future__ import annotations

from django.conf import settings

from activity.models import ArtifactActivity

DELETE_BATCH = 10_000


def trimmable():
    """The completed activities the cap counts and removes."""
    return ArtifactActivity.objects.filter(status=ArtifactActivity.Status.COMPLETED, conflict="")


def trim_completed(limit: int | None = None) -> int:
    """Delete the trimmable activities past the newest ``limit`` (by id; default the setting), in
    chunks of ``DELETE_BATCH``; returns how many went.

    Ids follow creation, and the primary key answers both the bound and each chunk: one query finds
    the newest id to remove, then every chunk is one ``DELETE`` of an id range (MariaDB refuses
    ``LIMIT`` in an ``IN`` subquery, and a list of 10,000 ids would be 10,000 parameters). Each
    statement commits on its own, so no transaction holds a million row locks. Two trims at once
    are harmless: both delete below the same bound, a row the other removed first is simply not
    found, and neither goes past the newest ``limit``."""
    if limit is None:
        limit = settings.HUB_COMPLETED_ACTIVITIES_KEPT
    rows = trimmable()
    bound = rows.order_by("-id").values_list("id", flat=True)[limit : limit + 1].first()
    if bound is None:
        return 0
    removed, done_below = 0, None
    while True:
        left = rows.filter(id__lte=bound)
        if done_below is not None:
            left = left.filter(id__gt=done_below)
        chunk_end = left.order_by("id").values_list("id", flat=True)[DELETE_BATCH - 1 : DELETE_BATCH].first()
        chunk_end = bound if chunk_end is None else chunk_end
        removed += left.filter(id__lte=chunk_end).delete()[0]
        if chunk_end >= bound:
            return removed
        done_below = chunk_end
