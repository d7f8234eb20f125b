"""Change detection: ask each side's connector what changed since the side's watermark (minus an
overlap), turn each artifact into one waiting activity, and move the watermark only after those
rows are committed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from functools import partial

from django.db import transaction
from django.db.models.fields.json import KeyTextTransform
from django.urls import reverse
from django.utils import timezone

from activity import error_cap
from activity.blockers import DETECTION_PREFIX, clear_blocker, raise_blocker
from activity.models import ArtifactActivity, ArtifactPair, Blocker
from connectors.errors import ConnectorError
from connectors.types import ChangedItem
from hub import prometheus
from hub.bulk import insert_rows
from integrations.engine import claims, connections, containers, heartbeat, planner, schedule, settled
from integrations.engine.context import REVISION, IntegrationContext, may_work, other
from integrations.models import ChangeWatermark, Integration

logger = logging.getLogger("hub.engine")
OVERLAP = dt.timedelta(seconds=10)
PAGE_SIZE = 500


def _seen_revisions(integration_id: int, side: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    """Per artifact, the revision Hub last synchronized (a change it wrote itself is skipped here)
    and its settled stamp (``integrations.engine.settled``)."""
    column = f"{side.lower()}_artifact_id"
    snapshot = f"{side.lower()}_snapshot"
    # Only the revision key, extracted by the database: decoding whole snapshots cost more.
    rows = ArtifactPair.objects.filter(integration_id=integration_id, **{f"{column}__in": ids}).values_list(
        column, KeyTextTransform(REVISION, snapshot), f"{side.lower()}_settled"
    )
    return {artifact: (revision or "", settled_stamp) for artifact, revision, settled_stamp in rows}


def already_seen(item, seen: tuple[str, str] | None, *, full: bool = False) -> bool:
    """Whether the listed ``item`` is as Hub last saw it: at the revision Hub synchronized, or at
    the settled "last changed" time (a listing that gives no more than that, as Redmine's). A full
    scan trusts only the revision: it is also what finds changes that move no "last changed" time
    (a relation made in Redmine)."""
    if seen is None:
        return False
    revision, settled_stamp = seen
    if item.revision and revision == item.revision:
        return True
    return not full and bool(settled_stamp) and settled.stamp(item.updated) == settled_stamp


def record_changes(context: IntegrationContext, side: str, project: str, items, *, full: bool = False) -> int:
    """Upsert one waiting activity per changed artifact; returns how many are new or refreshed."""
    integration = context.integration
    ids = [item.id for item in items]
    seen = _seen_revisions(integration.pk, side, ids)
    items = [item for item in items if not already_seen(item, seen.get(item.id), full=full)]
    if not items:
        return 0
    source, target = context.sides[side].collection, context.sides[other(side)].collection
    return record_waiting(integration, side, source, target, project, items)


def record_waiting(integration, side: str, source, target, project: str, items) -> int:
    """Upsert one waiting activity per item (detection's, or an event hint's); returns how many."""
    keys = {item.id: ArtifactActivity.make_waiting_key(integration.pk, side, item.id) for item in items}
    now = timezone.now()
    a, b = (source, target) if side == "A" else (target, source)
    collection_pair = f"{a.name} ↔ {b.name}"[:300]
    with transaction.atomic():
        waiting = set(
            ArtifactActivity.objects.filter(waiting_key__in=keys.values()).values_list(
                "waiting_key", flat=True
            )
        )
        ArtifactActivity.objects.filter(
            waiting_key__in=waiting, status=ArtifactActivity.Status.PENDING
        ).update(updated=now)
        # Two columns differ per row; the rest is the page's, prepared once (hub.bulk).
        insert_rows(
            ArtifactActivity,
            {
                "integration_id": integration.pk,
                "integration_name": integration.name,
                "source_side": side,
                "source_collection_id": source.pk,
                "source_collection_name": source.name,
                "target_collection_id": target.pk,
                "target_collection_name": target.name,
                "source_project": project,
                "collection_pair_name": collection_pair,
            },
            [
                {"artifact_id": item.id, "waiting_key": keys[item.id]}
                for item in items
                if keys[item.id] not in waiting
            ],
            ignore_conflicts=True,
        )
    return len(items)


def detect_side(context: IntegrationContext, side: str, *, full: bool = False, on_recorded=None) -> int:
    """One pass over every project of one side; returns the number of activities recorded.
    ``on_recorded(n)`` is told of each page's committed activities, so workers can start on them
    while later pages are still being read."""
    integration, found = context.integration, 0
    side_context = context.sides[side]
    for project in side_context.collection.project_ids():
        watermark, _ = ChangeWatermark.objects.get_or_create(
            integration=integration, side=side, project=project
        )
        since = None if full else watermark.position
        pages = changed_pages(
            side_context.connector,
            side_context.collection,
            watermark,
            full=full,
            artifact_types=containers.detected_types(context, side),
        )
        for page in pages:
            recorded = record_changes(context, side, project, page.items, full=since is None)
            if any(found < mark <= found + recorded for mark in ANALYZE_AT):
                refresh_planner_statistics()  # before the wake-ups: their claims plan on it
            if recorded and on_recorded is not None:
                on_recorded(recorded)
            found += recorded
        if integration.style == Integration.Style.TIME_TRACKING:
            recorded = record_time_entry_changes(context, side, project, since)
            if recorded and on_recorded is not None:
                on_recorded(recorded)
            found += recorded
    return found


# Activities one detection has recorded at which the activity table's planner statistics are
# refreshed (issue #19; integrations/engine/planner.py says why). An initial detection of 200,000
# items fills the table within minutes of its being analyzed empty: the planner then expects one
# pending row and answers each claim by reading and sorting every pending row (1.1 s a claim at
# 156,000 pending, 27 ms once analyzed).
ANALYZE_AT = (5_000, 50_000, 500_000)


def refresh_planner_statistics() -> None:
    """``ANALYZE`` the activity table."""
    planner.analyze([ArtifactActivity._meta.db_table])


def record_time_entry_changes(context: IntegrationContext, side: str, project: str, since) -> int:
    """Artifacts whose worklogs changed since the watermark: a tool such as Redmine files a time
    entry without touching the issue's ``updated_on``, so the artifacts' own listing misses them."""
    connector = context.sides[side].connector
    if not connector.time_entry_capabilities.supported:
        return 0
    entries = connector.time_entries_changed_since(project, None if since is None else since - OVERLAP)
    newest: dict[str, dt.datetime] = {}
    for entry in entries:
        updated = entry.updated or timezone.now()
        newest[entry.artifact_id] = max(newest.get(entry.artifact_id, updated), updated)
    if not newest:
        return 0
    items = [ChangedItem(artifact_id, updated) for artifact_id, updated in newest.items()]
    source, target = context.sides[side].collection, context.sides[other(side)].collection
    return record_waiting(context.integration, side, source, target, project, items)


def changed_pages(
    connector,
    collection,
    watermark: ChangeWatermark,
    *,
    full: bool = False,
    artifact_types=None,
    with_values: bool = False,
    fields=None,
):
    """The pages of what changed in the watermark's project since it (everything on a full scan).
    The caller commits what it makes of each page before asking for the next; after the last one
    the watermark moves (also shared by the Enterprise Data Stream). ``with_values``: each page
    carries its artifacts' field values (``fields`` alone, if given) in ``page.artifacts``."""
    since = None if full else watermark.position
    started = time.monotonic()  # the duration of a full scan: reading and the caller's recording
    cursor, newest, server_time = None, None, None
    # The collection's repository query narrows what is read; only connectors that run queries
    # take one (for the others validation blocks the integration with 1413E before detection).
    narrowed = {"query": collection.query} if collection.query.strip() else {}
    list_page = (
        partial(connector.changed_field_values, fields=fields) if with_values else connector.changed_since
    )
    while True:
        page = list_page(
            watermark.project,
            since,
            artifact_types=collection.artifact_types if artifact_types is None else artifact_types,
            overlap=OVERLAP,
            cursor=cursor,
            page_size=PAGE_SIZE,
            **narrowed,
        )
        server_time = server_time or page.server_time
        yield page
        if page.items:
            last = max(item.updated for item in page.items)
            newest = last if newest is None else max(newest, last)
        cursor = page.next_cursor
        if not cursor:
            break
    # Everything up to the tool's clock when the scan began is recorded (committed by the caller).
    position = server_time or newest
    if position is not None and (watermark.position is None or position > watermark.position):
        watermark.position = position
    if full or since is None:
        watermark.last_full_scan = timezone.now()
        watermark.last_full_scan_seconds = round(time.monotonic() - started, 3)
    watermark.save()


def failure_key(integration_id: int, side: str) -> str:
    return f"{DETECTION_PREFIX}{integration_id}:{side}"


def report_failure(context: IntegrationContext, side: str, error: Exception) -> None:
    """A side whose change detection failed: a blocker of its integration on the Activity screen
    (and the integration's page) with the code, the specific message, the integration and
    repository, and when it is tried again. It stops nothing (see ``activity.blockers``): the
    next detection runs as scheduled and clears it once the side is read again."""
    integration, collection = context.integration, context.sides[side].collection
    if isinstance(error, ConnectorError):
        code, message = error.code, context.masked(error.message)
    else:  # a bug or an unexpected answer: visible, not only in the worker's log
        logger.error(
            "Change detection of %s, side %s, failed unexpectedly\n%s",
            integration.name,
            side,
            context.masked(traceback.format_exc()),
        )
        code, message = "CCRRTT-0001E", context.masked(f"{type(error).__name__}: {error}")
    raise_blocker(
        failure_key(integration.pk, side),
        code,
        f"Change detection in “{collection.name}” (side {side}) of integration “{integration.name}” "
        f"failed: {message} It is tried again at the next change detection "
        f"({schedule.cadence(integration)}); this clears when it succeeds.",
        impact=Blocker.Impact.AFFECTED,
        integration_ids=[integration.pk],
        related=[
            {
                "label": f"Integration “{integration.name}”",
                "url": reverse("integration-edit", args=[integration.pk]),
            },
            {
                "label": f"Repository “{collection.repository.label}”",
                "url": reverse("repository-edit", args=[collection.repository.pk]),
            },
        ],
    )


def detect_and_report(context: IntegrationContext, side: str, *, full: bool, on_recorded=None) -> int:
    """One side; a failure is reported and does not keep the other side from being read."""
    try:
        found = detect_side(context, side, full=full, on_recorded=on_recorded)
    except Exception as error:
        report_failure(context, side, error)
        return 0
    clear_blocker(failure_key(context.integration.pk, side))
    return found


def detect(integration_id: int, *, full: bool = False, on_recorded=None) -> int:
    integration = Integration.objects.select_related(
        "collection_a__repository", "collection_b__repository"
    ).get(pk=integration_id)
    if integration.style == Integration.Style.ENTERPRISE_DATA_STREAM:
        from integrations import eds  # rows to a table, not activities

        return eds.stream(integration_id, full=full)
    connections.check(integration)
    allowed, reason = may_work(integration)
    if not allowed:
        logger.info("No change detection for %s: %s", integration.name, reason)
        return 0
    if error_cap.check():
        logger.info("No change detection for %s: %s", integration.name, error_cap.CODE)
        return 0
    holder = heartbeat.worker_name()
    held = claims.lock_many([detection_lock(integration_id)], holder)
    if not held and not full:
        logger.info("Change detection of %s runs in another worker: not started twice", integration.name)
        return 0
    try:
        context = IntegrationContext.load(integration_id)
        try:
            with prometheus.timed(prometheus.DETECTION, integration_id):
                sides = ("A", "B")
                found = sum(detect_and_report(context, s, full=full, on_recorded=on_recorded) for s in sides)
            try:  # containers that are not artifacts (Redmine versions) have no activities
                containers.sync_object_containers(context)
            except Exception:  # noqa: BLE001 - the next detection tries again
                logger.warning(
                    "Synchronizing the container pairs of %s failed", integration.name, exc_info=True
                )
        finally:
            context.close()
    finally:
        claims.unlock_many(held, holder)
    Integration.objects.filter(pk=integration_id).update(last_change_detected=timezone.now())
    return found


def detection_lock(integration_id: int) -> str:
    """The lock one detection of an integration holds while it pages (issue #19). An initial
    detection of 200,000 artifacts pages for minutes, and beat asks for one every interval: without
    it every worker ran its own copy of the same listing, one after another, and none was left to
    process what they found. A detection asked for meanwhile is dropped, not queued — the running
    one pages to the end of the list, so it sees every change made before it gets there, and the
    next tick sees the rest. A full scan (the user's Run full scan) runs anyway."""
    return f"detect:{integration_id}"
