"""The ``activitiesCanProcess`` health check: whether workers may process now, and none is stuck."""

from __future__ import annotations

from django.utils import timezone

from hub import health


@health.register("activitiesCanProcess")
def activities_can_process() -> health.Result:
    from activity.models import ArtifactActivity
    from hub.gates import integration_work_allowed
    from integrations.engine import heartbeat

    allowed, reason = integration_work_allowed()
    if not allowed:
        return health.Result(health.FAIL, reason)
    from integrations.models import Integration

    # The documentation has it judge only Work Item styles: Gateway and Enterprise Data Stream
    # activities are left out.
    others = Integration.objects.exclude(
        style__in=[Integration.Style.WORK_ITEM_SYNC, Integration.Style.CONTAINER_WORK_ITEM]
    ).values("pk")
    work_items = ArtifactActivity.objects.exclude(integration_id__in=others)
    # Stuck: claimed by a process whose heartbeat stopped (``heartbeat.TIMEOUT``) and not yet put
    # back by a claim round — no worker is running them. A long batch of a live worker is not stuck.
    now = timezone.now()
    claimed = work_items.filter(
        status=ArtifactActivity.Status.PROCESSING, claimed_at__lt=now - heartbeat.TIMEOUT
    )
    holders = set(claimed.values_list("claimed_by", flat=True).distinct())
    dead = holders - heartbeat.alive(holders, now)
    stuck = claimed.filter(claimed_by__in=dead).count() if dead else 0
    if stuck:
        return health.Result(
            health.FAIL, f"{stuck} activities are held by workers that stopped (no heartbeat)."
        )
    due = work_items.filter(status=ArtifactActivity.Status.PENDING).count()
    return health.Result(health.PASS, f"Workers may process; {due} pending activities.")
