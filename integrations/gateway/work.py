"""The workers' side of the Gateway: received payloads become activities, activities become target
artifacts (created, or found by the key identifier and updated), with pairs, retries and the
Activity screen like any sync (``integrations.engine.processing`` does the bookkeeping)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from activity import error_cap
from activity.blockers import blocks_integration
from activity.models import ArtifactActivity, ArtifactPair
from connectors.errors import ConnectorError, OperationUnsupported
from extensions.errors import ExtensionError, LicenseRefused
from hub import jsonload
from integrations.engine import claims, mapping, processing
from integrations.gateway import intake, shapes
from integrations.models import GatewayPayload, Integration
from integrations.models.integrations import Style

logger = logging.getLogger("hub.engine")
Status = ArtifactActivity.Status
UNLICENSED = "CCRRTT-20006E"
LOOKUP_FAILED = "CCRRTT-1408E"


class Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def process_due(limit: int = 100, worker: str | None = None, *, after_batch: bool = False) -> int:
    """Transform received payloads, then write due gateway activities; returns the work done.
    ``after_batch``: called in the same round as ``processing.process_batch(gated=True)``, whose
    caller checked the gates and which released dead workers' claims already — each costs several
    queries, and the process task runs a round per batch of 100."""
    from hub.gates import integration_work_allowed

    if not after_batch and not integration_work_allowed()[0]:
        return 0
    # Keeps the 0002E blocker current, which pauses the intake (``intake.unavailable``); what was
    # received already is still written, retries included, as with detection.
    error_cap.check()
    worker = worker or processing.worker_name()
    done = transform_received(limit)
    if not after_batch:
        claims.release_stale()
    return done + write_due(worker, limit)


# --- payload → activities ---------------------------------------------------------------------


def transform_received(limit: int = 100) -> int:
    done = 0
    for payload_id in GatewayPayload.objects.filter(status=GatewayPayload.Status.RECEIVED).values_list(
        "pk", flat=True
    )[:limit]:
        done += transform_one(payload_id)
    return done


def transform_one(payload_id: int) -> int:
    """Transform one payload and record its activities in one transaction: a worker killed before
    the commit leaves it *received* for the next one, and the status guard below makes sure two
    workers never both turn it into activities."""
    with transaction.atomic():
        rows = GatewayPayload.objects.filter(pk=payload_id, status=GatewayPayload.Status.RECEIVED)
        if connection.features.has_select_for_update_skip_locked:
            # Lock the payload row alone: MariaDB has no FOR UPDATE OF, and locking the joined
            # collection there would make a second worker skip every payload of that collection.
            rows = rows.select_for_update(skip_locked=True)
        locked = rows.values_list("pk", flat=True).first()
        if locked is None:
            return 0
        payload = GatewayPayload.objects.select_related("collection__model", "collection__extension").get(
            pk=locked
        )
        try:
            artifacts = transformed(payload)
            with transaction.atomic():  # a savepoint: a failure below leaves the payload to refuse
                payload.artifacts = artifacts
                queue(payload)
        except Exception as error:  # noqa: BLE001 - a payload that cannot be processed is refused, visibly
            refusal = (
                error if isinstance(error, Refused) else Refused(processing.UNEXPECTED, repr(error)[:500])
            )
            payload.status, payload.code, payload.message = (
                GatewayPayload.Status.REFUSED,
                refusal.code,
                refusal.message,
            )
            payload.artifacts = []
            record_refusal(payload)
        else:
            payload.status = GatewayPayload.Status.TRANSFORMED if artifacts else GatewayPayload.Status.IGNORED
        payload.processed = timezone.now()
        payload.save(update_fields=["status", "code", "message", "artifacts", "processed"])
    return 1


def transformed(payload: GatewayPayload) -> list[dict[str, Any]]:
    """The payload's artifacts as model values. Refused (with its code) when the extension fails or
    an artifact does not fit the model."""
    from extensions.payloads import transform_payload

    collection = payload.collection
    fields = shapes.infos(collection.model)
    raw = jsonload.loads(payload.body)
    if collection.extension is None:
        items = shapes.artifacts_of(raw)
    else:
        try:
            items = transform_payload(
                collection.extension,
                raw,
                parameters=payload.parameters,
                headers=payload.headers,
                model_fields=list(fields),
            )
        except LicenseRefused as error:
            raise Refused(UNLICENSED, f"Gateway collection “{collection.name}”: {error.message}") from error
        except ExtensionError as error:
            raise Refused(error.code, error.message) from error
    artifacts = []
    for number, item in enumerate(items, start=1):
        values, problems = shapes.model_values(fields, item)
        if problems:
            code = "CCRRTT-17024E" if collection.extension else intake.INVALID_DATA
            raise Refused(code, f"Artifact {number}: " + " ".join(problems))
        artifacts.append(values)
    return artifacts


def queue(payload: GatewayPayload) -> None:
    for integration in intake.listeners(payload.collection):
        ArtifactActivity.objects.bulk_create(
            [
                ArtifactActivity(
                    **shapes.related(integration, payload.collection),
                    artifact_id=f"{payload.pk}.{number}",
                    formatted_id=f"payload {payload.pk} #{number}",
                    summary=shapes.summary_of(values),
                    waiting_key=ArtifactActivity.make_waiting_key(
                        integration.pk, "A", f"{payload.pk}.{number}"
                    ),
                )
                for number, values in enumerate(payload.artifacts, start=1)
            ]
        )


def record_refusal(payload: GatewayPayload) -> None:
    for integration in intake.listeners(payload.collection):
        ArtifactActivity.objects.create(
            **shapes.related(integration, payload.collection),
            artifact_id=f"payload-{payload.pk}",
            summary=f"Payload {payload.pk} refused",
            status=Status.IGNORED,
            code=payload.code,
            message=f"{payload.message}\nBody: {payload.body[: intake.SHOWN_BODY]}",
        )


# --- activities → target artifacts ---------------------------------------------------------------


def gateway_integrations() -> list[int]:
    """Running Gateway integrations, and running EDS integrations reading a gateway collection, that
    no blocker holds (their activities wait, stored, until it is cleared)."""
    running = (
        Integration.objects.filter(running=True)
        .filter(
            Q(style=Style.GATEWAY) | Q(style=Style.ENTERPRISE_DATA_STREAM, gateway_collection__isnull=False)
        )
        .values_list("pk", flat=True)
    )
    return [pk for pk in running if not blocks_integration(pk)]


def claim(worker: str, limit: int) -> list[ArtifactActivity]:
    """Pending, or failed and due, activities of running Gateway integrations. Refusals (ignored)
    are never claimed: nothing of them can be written."""
    ids = gateway_integrations()
    if not ids:
        return []
    now = timezone.now()
    with transaction.atomic():
        due = Q(status=Status.PENDING) | Q(status=Status.FAILED, next_retry_at__lte=now)
        rows = ArtifactActivity.objects.filter(due, integration_id__in=ids).order_by(*claims.CLAIM_ORDER)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        claimed = list(rows[:limit])
        ArtifactActivity.objects.filter(pk__in=[a.pk for a in claimed]).update(
            status=Status.PROCESSING, claimed_by=worker, claimed_at=now, waiting_key=None, updated=now
        )
    for activity in claimed:
        activity.status, activity.claimed_by, activity.claimed_at, activity.waiting_key = (
            Status.PROCESSING,
            worker,
            now,
            None,
        )
    return claimed


def write_due(worker: str, limit: int = 100) -> int:
    activities = claim(worker, limit)
    integrations = Integration.objects.select_related(
        "collection_b__repository", "collection_b__model", "sql_collection__model", "gateway_collection"
    ).in_bulk({a.integration_id for a in activities})
    streamed: dict[int, list[ArtifactActivity]] = {}
    for activity in activities:
        integration = integrations[activity.integration_id]
        if integration.style == Style.ENTERPRISE_DATA_STREAM:
            streamed.setdefault(integration.pk, []).append(activity)
            continue
        try:
            write(integration, activity)
        except Exception as error:  # noqa: BLE001 - classified and shown on the Activity screen
            processing.settle(activity, error)
    for integration_id, batch in streamed.items():
        stream_rows(integrations[integration_id], batch)
    return len(activities)


def stream_rows(integration: Integration, activities: list[ArtifactActivity]) -> None:
    """An EDS integration reading a gateway collection: the batch's artifacts become rows of its
    table in one upsert. Each activity completes, or all fail with the table's error and are
    retried like any activity (the payloads stay stored)."""
    from integrations import eds

    try:
        artifacts = [(a.artifact_id, values_of(a)) for a in activities]
        eds.write_gateway_rows(integration, artifacts)
    except Exception as error:  # noqa: BLE001 - classified and shown on the Activity screen
        for activity in activities:
            processing.settle(activity, error)
        return
    with transaction.atomic():
        for activity, (_, values) in zip(activities, artifacts, strict=True):
            processing.completed(
                activity,
                ArtifactActivity.Result.UPDATED,
                {k: {"original": None, "new": v} for k, v in values.items()},
            )
            activity.target_project = integration.sql_collection.table
            activity.save()


def values_of(activity: ArtifactActivity) -> dict[str, Any]:
    payload_id, _, number = activity.artifact_id.partition(".")
    payload = GatewayPayload.objects.get(pk=int(payload_id))
    return payload.artifacts[int(number) - 1]


def write(integration: Integration, activity: ArtifactActivity) -> None:
    """Create the target artifact, or (twinless update) change the one the key identifier names."""
    from connectors import registry

    target = integration.collection_b
    values = values_of(activity)
    with registry.connect(target.repository.settings()) as connector:
        # Only the fields the artifact carries: the tool keeps its defaults (or values) for the others.
        # A commit message's formatted ids become the work items the commit links to (11.15).
        fields = mapping.to_repository(
            mapping.lines_of(target),
            with_references(integration, connector, values),
            only=values,
            resolve=lambda key: linked(integration, connector, key),
        )
        if integration.twinless_update:
            artifact = located(integration, connector, values)
            written = connector.update_artifact(artifact.id, fields)
            result = ArtifactActivity.Result.UPDATED
        else:
            written = created(
                connector, target, fields, marker=f"hub-gateway-{integration.pk}-{activity.artifact_id}"
            )
            result = ArtifactActivity.Result.CREATED
    with transaction.atomic():
        pair = ArtifactPair.objects.filter(
            integration_id=integration.pk, a_artifact_id=activity.artifact_id
        ).first()
        pair = pair or ArtifactPair(
            integration_id=integration.pk,
            integration_name=integration.name,
            a_artifact_id=activity.artifact_id,
            a_formatted_id=activity.formatted_id,
            a_summary=activity.summary,
        )
        processing.set_side(pair, "B", written)
        pair.a_snapshot = pair.b_snapshot = values
        pair.last_synced_at = timezone.now()
        pair.save()
        processing.completed(activity, result, {k: {"original": None, "new": v} for k, v in values.items()})
        activity.target_project = written.project or ""
        activity.save()


def created(connector, target, fields: dict[str, Any], *, marker: str):
    """The new artifact in the collection's first project and artifact type. A retry after a worker
    died between the tool's create and our commit finds the first one by its marker instead."""
    project, artifact_type = target.project_ids()[0], (target.artifact_types or [""])[0]
    if connector.capabilities.creation_marker:
        try:
            existing = connector.find_by_marker(project, artifact_type, marker)
        except OperationUnsupported:
            existing = None
        if existing is not None:
            return existing
        return connector.create_artifact(project, artifact_type, fields, marker=marker)
    return connector.create_artifact(project, artifact_type, fields)


def with_references(integration: Integration, connector, values: dict[str, Any]) -> dict[str, Any]:
    """Relationship(s) values that name a formatted id (``{"id": "WEB-1"}``), looked up in the
    repository the Relationship Field Configuration names (11.06) when that is the target's; other
    values, and references into another repository, are written as they came."""
    configured = integration.gateway_collection.relationship_repositories or {}
    resolved = dict(values)
    for key, repository_id in configured.items():
        value = values.get(key)
        if value in (None, "", []) or str(repository_id) != str(integration.collection_b.repository_id):
            continue
        ids = [
            linked(integration, connector, v) if mapping.FORMATTED_ID.fullmatch(str(v)) else v
            for v in (value if isinstance(value, list) else [value])
        ]
        resolved[key] = ids if isinstance(value, list) else ids[0]
    return resolved


def linked(integration: Integration, connector, formatted: str) -> str:
    """The artifact id of the work item a commit message or a relationship names (1408E when
    there is none)."""
    try:
        found = connector.search_by_formatted_id(formatted)
    except ConnectorError as error:
        if error.transient:
            raise
        found = None
    if found is None:
        raise processing.Failure(
            LOOKUP_FAILED,
            f"“{formatted}” (in a commit message or a relationship) names no artifact of the collection "
            f"“{integration.collection_b.name}”.",
        )
    return found.id


def located(integration: Integration, connector, values: dict[str, Any]):
    """The target artifact the key identifier's value names (1408E when it names none)."""
    key = integration.key_identifier
    formatted = values.get(key)
    if not isinstance(formatted, str) or not formatted.strip():
        raise processing.Failure(
            LOOKUP_FAILED, f"The artifact has no formatted id in its key identifier “{key}”."
        )
    try:
        found = connector.search_by_formatted_id(formatted.strip())
    except ConnectorError as error:
        if error.transient:
            raise
        raise processing.Failure(
            LOOKUP_FAILED, f"“{formatted}” is not a valid formatted id: {error.message}"
        ) from error
    if found is None:
        raise processing.Failure(
            LOOKUP_FAILED,
            f"No artifact with the formatted id “{formatted}” is in the collection "
            f"“{integration.collection_b.name}”.",
        )
    return found
