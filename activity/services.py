"""What the Activity screen's actions do to the ledger — the one place they change state.

Each action takes a queryset (one row or every row a filter selects, so single and bulk actions share
the code), changes only the rows for which the action makes sense, logs who did it, and returns how
many rows it changed. Actions that need the sync engine (Retry, Prioritize, Recreate, Sync now) only
flip ledger state: the engine's workers claim due activities by status, ``next_retry_at`` and
``priority`` and see ``recreate``, so no view ever talks to a connector.

The integration hooks at the bottom stand in for ``integrations`` until its models land; it
replaces them with ``set_integration_hooks`` in its AppConfig.ready.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker, LedgerSettings

logger = logging.getLogger("hub.activity")
deleted_pairs_log = logging.getLogger("hub.deleted_pairs")

Status = ArtifactActivity.Status
BATCH = 2000


def _record(user, action: str, count: int, what: str) -> None:
    logger.info("%s: %s %d %s", getattr(user, "username", user) or "system", action, count, what)


def _next_priority(queryset: QuerySet) -> int:
    top = queryset.aggregate(top=Max("priority"))["top"]
    return (top or 0) + 1


# Artifact activities ---------------------------------------------------------------------------


def prioritize_activities(activities: QuerySet, user=None) -> int:
    """Move pending and failed activities to the front of the queue; a failed one is due now."""
    waiting = activities.filter(status__in=ArtifactActivity.WAITING)
    priority = _next_priority(ArtifactActivity.objects.filter(status__in=ArtifactActivity.WAITING))
    now = timezone.now()
    with transaction.atomic():
        count = waiting.filter(status=Status.PENDING).update(priority=priority, updated=now)
        count += waiting.filter(status=Status.FAILED).update(
            priority=priority, next_retry_at=now, updated=now
        )
    _record(user, "prioritized", count, "artifact activities")
    return count


def cancel_activities(activities: QuerySet, user=None) -> int:
    """Pending or failed work is dropped; the artifact's next change makes a new activity."""
    count = activities.filter(status__in=ArtifactActivity.WAITING).update(
        status=Status.CANCELLED, waiting_key=None, next_retry_at=None, updated=timezone.now()
    )
    _record(user, "cancelled", count, "artifact activities")
    return count


def ignore_activities(activities: QuerySet, user=None) -> int:
    count = activities.filter(status__in=ArtifactActivity.WAITING).update(
        status=Status.IGNORED, waiting_key=None, next_retry_at=None, updated=timezone.now()
    )
    _record(user, "ignored", count, "artifact activities")
    return count


def retry_activities(activities: QuerySet, user=None) -> int:
    """Failed activities become due now, whether or not a retry was scheduled (they stay failed
    until a worker claims them)."""
    count = activities.filter(status=Status.FAILED).update(
        next_retry_at=timezone.now(), updated=timezone.now()
    )
    _record(user, "retried", count, "artifact activities")
    return count


def recreate_activities(activities: QuerySet, user=None) -> int:
    """Failed because the twin was deleted: the engine creates a new twin and re-pairs it."""
    now = timezone.now()
    count = activities.filter(status=Status.FAILED, twin_deleted=True).update(
        recreate=True, next_retry_at=now, updated=now
    )
    _record(user, "asked to recreate the twins of", count, "artifact activities")
    return count


def stop_ignoring_activities(activities: QuerySet, user=None) -> int:
    """Ignored activities go back to Failed (not scheduled: the administrator retries them).

    An ignored activity whose artifact has changed since has a waiting activity already; that one
    carries the newer change, so the ignored one is cancelled instead of making a second.
    """
    ids = list(activities.filter(status=Status.IGNORED).values_list("id", flat=True))
    now = timezone.now()
    moved = superseded = 0
    for start in range(0, len(ids), BATCH):
        rows = ArtifactActivity.objects.filter(id__in=ids[start : start + BATCH], status=Status.IGNORED)
        keyed = {
            pk: ArtifactActivity.make_waiting_key(integration, side, artifact)
            for pk, integration, side, artifact in rows.values_list(
                "id", "integration_id", "source_side", "artifact_id"
            )
        }
        with transaction.atomic():
            # Read into Python first: MariaDB refuses an UPDATE whose subquery reads the same table.
            taken = set(
                ArtifactActivity.objects.filter(waiting_key__in=keyed.values()).values_list(
                    "waiting_key", flat=True
                )
            )
            back, cancel = [], []
            for pk, key in keyed.items():
                (cancel if key in taken else back).append(pk)
                taken.add(key)  # two ignored rows of one artifact: only the first goes back
            superseded += ArtifactActivity.objects.filter(id__in=cancel).update(
                status=Status.CANCELLED, updated=now
            )
            moved += ArtifactActivity.objects.filter(id__in=back).update(
                status=Status.FAILED,
                waiting_key=ArtifactActivity.waiting_key_expression(),
                next_retry_at=None,
                updated=now,
            )
    _record(user, "stopped ignoring", moved, f"artifact activities ({superseded} superseded)")
    return moved


def remove_completed_activities(activities: QuerySet, user=None) -> int:
    count, _ = activities.filter(status=Status.COMPLETED).delete()
    _record(user, "removed", count, "completed artifact activities")
    return count


def set_auto_retry_ignored(enabled: bool, user=None) -> None:
    """With the switch on, the engine retries ignored activities on the failed schedule."""
    LedgerSettings.objects.update_or_create(pk=1, defaults={"auto_retry_ignored": enabled})
    logger.info(
        "%s: auto retry of ignored activities %s", getattr(user, "username", user), "on" if enabled else "off"
    )


# Artifact pairs --------------------------------------------------------------------------------


def request_sync(pairs: QuerySet, sides: Iterable[str] = ("A", "B"), user=None) -> int:
    """Make each pair's artifact on ``sides`` pending, so the engine reads it and syncs its twin.

    An artifact that already has a waiting activity keeps that one row: it is made due now and
    moved to the front instead of getting a second.
    """
    sides = tuple(sides)
    now = timezone.now()
    touched = 0
    fields = ["id", "integration_id", "integration_name", *ArtifactPair.side_columns(sides)]
    batch: list[ArtifactActivity] = []

    def flush():
        nonlocal touched
        keys = [a.waiting_key for a in batch]
        with transaction.atomic():
            existing = set(
                ArtifactActivity.objects.filter(waiting_key__in=keys).values_list("waiting_key", flat=True)
            )
            ArtifactActivity.objects.filter(waiting_key__in=existing).update(
                priority=F("priority") + 1, next_retry_at=now, updated=now
            )
            ArtifactActivity.objects.bulk_create(
                [a for a in batch if a.waiting_key not in existing], ignore_conflicts=True
            )
        touched += len(batch)
        batch.clear()

    for pair in pairs.only(*fields).order_by().iterator(chunk_size=BATCH):
        for side in sides:
            values = pair.side(side)
            batch.append(
                ArtifactActivity(
                    integration_id=pair.integration_id,
                    integration_name=pair.integration_name,
                    source_side=side,
                    artifact_id=values["artifact_id"],
                    formatted_id=values["formatted_id"],
                    summary=values["summary"],
                    url=values["url"],
                    source_project=values["project"],
                    status=Status.PENDING,
                    priority=1,
                    message="Synchronization requested from the Activity screen.",
                    waiting_key=ArtifactActivity.make_waiting_key(
                        pair.integration_id, side, values["artifact_id"]
                    ),
                )
            )
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    _record(user, f"requested sync from side {'+'.join(sides)} of", touched, "artifacts")
    return touched


def delete_pairs(pairs: QuerySet, user=None) -> int:
    """Forget associations. Each is written to deleted-pairs.log first: once gone, change detection
    may create a duplicate twin, and the log is how an administrator finds out what was there."""
    who = getattr(user, "username", user) or "system"
    deleted = 0
    ids = list(pairs.values_list("id", flat=True))
    for start in range(0, len(ids), BATCH):
        chunk = ArtifactPair.objects.filter(id__in=ids[start : start + BATCH])
        with transaction.atomic():
            for pair in chunk.only("id", "integration_id", "integration_name", *ArtifactPair.side_columns()):
                deleted_pairs_log.info(
                    "deleted by %s: integration %s (%s); A %s %s %r <%s>; B %s %s %r <%s>",
                    who,
                    pair.integration_id,
                    pair.integration_name,
                    pair.a_artifact_id,
                    pair.a_formatted_id,
                    pair.a_summary,
                    pair.a_url,
                    pair.b_artifact_id,
                    pair.b_formatted_id,
                    pair.b_summary,
                    pair.b_url,
                )
            deleted += chunk.delete()[0]
    _record(user, "deleted", deleted, "artifact pairs")
    return deleted


def ledger_of(integration_id: int) -> dict[str, QuerySet]:
    """What the ledger holds for one integration, by what the deletion screen calls it."""
    return {
        "artifact pairs": ArtifactPair.objects.filter(integration_id=integration_id),
        "artifact activities (its synchronization history)": ArtifactActivity.objects.filter(
            integration_id=integration_id
        ),
    }


def forget_integration(integration_id: int, user=None) -> None:
    """A deleted integration's pairs (logged, as any deleted pair) and activities go with it: kept,
    they would list an integration that no longer exists and no action could work on them."""
    ledger = ledger_of(integration_id)
    delete_pairs(ledger.pop("artifact pairs"), user)
    for rows in ledger.values():
        rows.delete()


# Blockers --------------------------------------------------------------------------------------

# Parts of Hub that can re-run what raised a blocker (a configuration migration) register here by
# key prefix, e.g. ``BLOCKER_RETRY["migration:"] = run_configuration_migration``.
BLOCKER_RETRY: dict[str, Callable[[Blocker], None]] = {}


def retry_blockers(blockers: QuerySet, user=None) -> int:
    """Re-run the configuration migration behind each migration blocker. Without a registered
    runner the blocker is cleared and the next validation raises it again if the cause remains."""
    count = 0
    for blocker in blockers.filter(kind=Blocker.Kind.MIGRATION):
        runner = next((fn for prefix, fn in BLOCKER_RETRY.items() if blocker.key.startswith(prefix)), None)
        if runner:
            runner(blocker)
        else:
            blocker.delete()
        count += 1
    _record(user, "retried", count, "blockers")
    return count


def resolve_blockers(blockers: QuerySet, user=None) -> int:
    """Acknowledge blockers that only need the administrator to have read them."""
    count, _ = blockers.filter(kind=Blocker.Kind.ACKNOWLEDGE).delete()
    _record(user, "resolved", count, "blockers")
    return count


def remove_blockers(blockers: QuerySet, user=None) -> int:
    """Unblock now; validation (hourly) raises a blocker again if its cause is still there."""
    count, _ = blockers.delete()
    _record(user, "removed", count, "blockers")
    return count


# Background jobs -------------------------------------------------------------------------------


def prioritize_jobs(jobs: QuerySet, user=None) -> int:
    priority = _next_priority(BackgroundJob.objects.exclude(status=BackgroundJob.Status.COMPLETED))
    now = timezone.now()
    count = jobs.filter(status__in=[BackgroundJob.Status.PENDING, BackgroundJob.Status.PROCESSING]).update(
        priority=priority
    )
    count += jobs.filter(status=BackgroundJob.Status.FAILED, next_retry_at__isnull=False).update(
        priority=priority, next_retry_at=now
    )
    _record(user, "prioritized", count, "background jobs")
    return count


def remove_completed_jobs(jobs: QuerySet, user=None) -> int:
    count, _ = jobs.filter(status=BackgroundJob.Status.COMPLETED).delete()
    _record(user, "removed", count, "completed background jobs")
    return count


# Integration hooks -----------------------------------------------------------------------------

RUNNING = "running"
STOPPED = "stopped"


# The integrations app depends on this one (blockers), so it is imported inside the functions.


def _integration(integration_id: int):
    from integrations.models import Integration

    return Integration.objects.filter(pk=integration_id).first()


def _state_from_configuration(integration_id: int) -> str:
    """Running means started and not blocked: what the engine would process now."""
    from integrations import services as configuration

    integration = _integration(integration_id)
    if integration is None:
        return STOPPED
    return RUNNING if configuration.state(integration).state == configuration.State.RUNNING else STOPPED


def _stop_in_configuration(integration_id: int) -> None:
    from integrations import services as configuration

    if (integration := _integration(integration_id)) is not None:
        configuration.stop(integration)


def _names_from_configuration() -> dict[int, str]:
    from integrations.models import Integration

    return dict(Integration.objects.values_list("id", "name"))


def _work_item_synchronizations() -> set[int]:
    from integrations.models import Integration

    return set(
        Integration.objects.filter(style=Integration.Style.WORK_ITEM_SYNC).values_list("id", flat=True)
    )


def _field_flows_from_configuration(integration_id: int) -> dict[str, str]:
    """``{model field key: "a_to_b" | "b_to_a" | "both" | "none"}``, every field of the model listed
    (a field the integration leaves unset flows both ways, as the engine reads it)."""
    integration = _integration(integration_id)
    if integration is None or integration.collection_a is None or integration.collection_a.model is None:
        return {}
    keys = integration.collection_a.model.fields.values_list("key", flat=True)
    return {key: integration.field_flows.get(key, "both") for key in keys}


@dataclass
class IntegrationHooks:
    """How the ledger asks about integrations, which it does not own. Tests swap them with
    ``set_integration_hooks`` to stand in for a running engine."""

    state: Callable[[int], str] = _state_from_configuration
    stop: Callable[[int], None] = _stop_in_configuration
    # Names for the filters; the ledger's own denormalized names cover deleted integrations.
    names: Callable[[], dict[int, str]] = _names_from_configuration
    # Pairs can be exported only from work item synchronizations.
    exportable: Callable[[], set[int]] = _work_item_synchronizations
    # Field flow per model field: the pair details grey out the source side of one-way fields.
    field_flows: Callable[[int], dict[str, str]] = _field_flows_from_configuration


hooks = IntegrationHooks()


def set_integration_hooks(**replacements) -> IntegrationHooks:
    """Replace some hooks; returns the previous ones so a test can put them back."""
    global hooks
    previous = hooks
    hooks = IntegrationHooks(**{**previous.__dict__, **replacements})
    return previous


def integration_state(integration_id: int) -> str:
    return hooks.state(integration_id)


def stop_integration(integration_id: int) -> None:
    hooks.stop(integration_id)


def known_integrations() -> dict[int, str]:
    """Integration id → name, from the hook and from what the ledger has seen. Finding the distinct
    ids of a million pairs takes a while, so the answer is cached for a minute."""
    return cache.get_or_set("activity:known-integrations", _known_integrations, 60)


def _known_integrations() -> dict[int, str]:
    names: dict[int, str] = {}
    for model in (ArtifactActivity, ArtifactPair):
        names.update(
            model.objects.exclude(integration_id=None)
            .order_by()
            .values_list("integration_id", "integration_name")
            .distinct()
        )
    names.update(hooks.names())
    return dict(sorted(names.items(), key=lambda item: item[1].lower()))
