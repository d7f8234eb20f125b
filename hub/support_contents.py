"""What each member of the Support and Usage Report says (hub.support_report packs them).

Every function returns plain data from the operational database and never a secret: repository
and SMTP settings are picked field by field, configuration comes from the export's snapshots, and
URLs pass through the credential redaction the logs use.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Sum
from django.utils import timezone

from hub.addresses import redact
from settings_app import environment


def issues() -> dict:
    """What the Activity screen shows as problems: blockers and failed activities."""
    from activity.models import ArtifactActivity, Blocker

    failed = ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).order_by("-updated")
    return {
        "blockers": [
            {
                "code": b.code,
                "message": redact(b.message),
                "impact": b.impact,
                "integration_ids": b.integration_ids,
                "created": b.created,
                "updated": b.updated,
            }
            for b in Blocker.objects.order_by("created", "id")
        ],
        "failed_activities": [
            {
                "id": a.pk,
                "integration": a.integration_name,
                "artifact": a.formatted_id or a.artifact_id,
                "code": a.code,
                "message": redact(a.message),
                "retry_count": a.retry_count,
                "next_retry_at": a.next_retry_at,
                "last_error_at": a.last_error_at,
            }
            for a in failed.iterator()
        ],
    }


def configuration() -> dict:
    """Every configuration element as the configuration export writes it (secrets are never part of
    a snapshot), plus the email server settings without their password."""
    from extensions.models import Extension, KeyValueStore
    from integrations import snapshots
    from integrations.models import (
        GatewayCollection,
        Integration,
        Model,
        Repository,
        RepositoryCollection,
        SqlCollection,
    )
    from integrations.snapshots import ElementType

    kinds = [
        (ElementType.REPOSITORY, Repository.objects.all()),
        (ElementType.MODEL, Model.objects.prefetch_related("fields")),
        (ElementType.COLLECTION, RepositoryCollection.objects.select_related("repository", "model")),
        (ElementType.MAPPING, RepositoryCollection.objects.prefetch_related("mappings")),
        (ElementType.GATEWAY_COLLECTION, GatewayCollection.objects.select_related("model")),
        (ElementType.SQL_COLLECTION, SqlCollection.objects.all()),
        (ElementType.INTEGRATION, Integration.objects.select_related("collection_a", "collection_b")),
        (ElementType.EXTENSION, Extension.objects.all()),
        (ElementType.KEY_VALUE_STORE, KeyValueStore.objects.all()),
        (ElementType.COLLECTION_EXTENSIONS, RepositoryCollection.objects.all()),
    ]
    document = {str(kind): [snapshots.snapshot(kind, obj) for obj in rows] for kind, rows in kinds}
    from settings_app import notifications

    document["notifications"] = notifications.snapshot(notifications.current())
    return document


def version() -> str:
    try:
        return metadata.version("hub")
    except metadata.PackageNotFoundError:
        return "unknown"


def broker_kind() -> str:
    url = settings.HUB["hub.broker.url"]
    return url.split(":", 1)[0] if url else "filesystem (embedded)"


def hub_details() -> dict:
    from hub import licensing
    from hub.instance import host_name, instance_id

    status = licensing.current()
    label = environment.current()
    return {
        "product": "Hub",
        "version": version(),
        "python": sys.version.split()[0],
        "django": metadata.version("django"),
        "platform": platform.platform(),
        "instance_id": instance_id(),
        "host": host_name(),
        "environment": {key: label[key] for key in ("name", "type")},
        "database": connection.vendor,
        "broker": broker_kind(),
        "license": {
            **(licensing.describe(status.license) if status.license else {}),
            "problem": str(status.problem) if status.problem else None,
        },
        "generated": timezone.now(),
    }


def _mapping_line(mapping) -> str:
    params = f" {mapping.params}" if mapping.params else ""
    fields = f"{', '.join(mapping.repository_fields)} -> {', '.join(mapping.model_fields)}"
    return f"{fields} [{mapping.transform}]{params}"


def mappings() -> list[tuple[str, str]]:
    """Per collection: its mapping lines, collection → model, then model → collection."""
    from integrations.models import RepositoryCollection

    out = []
    for collection in RepositoryCollection.objects.select_related("repository", "model").prefetch_related(
        "mappings"
    ):
        lines = list(collection.mappings.all())
        model = collection.model.name if collection.model_id else "(no model)"
        text = [f"Collection {collection.name} (repository {collection.repository.label}, model {model})", ""]
        text += ["Collection to model:"] + [f"  {_mapping_line(m)}" for m in lines if m.reads]
        text += ["", "Model to collection:"] + [f"  {_mapping_line(m)}" for m in lines if m.writes]
        out.append((collection.name, "\n".join(text) + "\n"))
    return out


def metrics() -> dict:
    """Creates and updates per integration, repository and model, over all the counters kept."""
    from metrics.models import DailyCount

    def totals(*keys):
        rows = DailyCount.objects.values(*keys).annotate(created=Sum("created"), updated=Sum("updated"))
        return list(rows.order_by(*keys))

    first = DailyCount.objects.order_by("day").values_list("day", flat=True).first()
    return {
        "counted_since": first,
        "by_integration": totals("integration_id"),
        "by_repository": totals("repository_id"),
        "by_model": totals("model_id"),
        "by_day": totals("day"),
    }


def change_detection() -> dict:
    """Per integration: whether it runs, how far each side's projects have been read, and the work
    waiting for it."""
    from activity.models import ArtifactActivity
    from integrations.models import ChangeWatermark, Integration

    waiting = dict(
        ArtifactActivity.objects.filter(status__in=ArtifactActivity.WAITING)
        .values_list("integration_id")
        .annotate(n=Count("id"))
    )
    processed = dict(
        ArtifactActivity.objects.filter(status=ArtifactActivity.Status.COMPLETED)
        .values_list("integration_id")
        .annotate(last=Max("updated"))
    )
    marks: dict[int, list] = {}
    for mark in ChangeWatermark.objects.order_by("integration_id", "side", "project"):
        marks.setdefault(mark.integration_id, []).append(
            {
                "side": mark.side,
                "project": mark.project,
                "position": mark.position,
                "last_full_scan": mark.last_full_scan,
                "last_full_scan_seconds": mark.last_full_scan_seconds,
            }
        )
    return {
        "integrations": [
            {
                "id": i.pk,
                "name": i.name,
                "style": i.style,
                "running": i.running,
                "last_change_detected": i.last_change_detected,
                "last_artifact_processed": i.last_artifact_processed,
                "waiting_activities": waiting.get(i.pk, 0),
                "last_processed": processed.get(i.pk),
                "watermarks": marks.get(i.pk, []),
            }
            for i in Integration.objects.order_by("name")
        ]
    }


def repository_metadata() -> list[tuple[str, dict]]:
    """What Hub knows of each repository without asking the tool again: its connector and what the
    connector can do, its limits and the last connection test."""
    from connectors import registry
    from integrations.models import Repository

    kinds = registry.kinds()
    out = []
    for r in Repository.objects.order_by("label"):
        connector = kinds.get(r.kind)
        capabilities = connector.capabilities if connector else None
        out.append(
            (
                r.label,
                {
                    "label": r.label,
                    "connector": r.kind,
                    "connector_name": getattr(connector, "label", r.kind),
                    "url": redact(r.url),
                    "enabled": r.enabled,
                    "api_rate_limit_per_minute": r.events_per_minute or None,
                    "default_page_size": capabilities.max_page_size if capabilities else None,
                    "capabilities": vars(capabilities) if capabilities else None,
                    "timeout_seconds": r.timeout,
                    "connector_timezone": "UTC",
                    "state": {
                        "last_test_code": r.last_test_code,
                        "last_test_message": redact(r.last_test_message),
                        "last_test_at": r.last_test_at,
                        "needs_new_credentials": r.needs_new_credentials,
                    },
                    "extra": r.extra,
                },
            )
        )
    return out


def schemas() -> list[tuple[str, dict]]:
    """Per collection, the repository fields its mapping uses with the types the live schema gave
    when they were mapped, and the model's fields. (Asking every tool for its live schema while
    support waits for a download would make the report as slow as the slowest tool.)"""
    from integrations.models import RepositoryCollection

    out = []
    for c in RepositoryCollection.objects.select_related("repository", "model").prefetch_related(
        "mappings", "projects", "model__fields"
    ):
        repository_fields: dict[str, str] = {}
        for m in c.mappings.all():
            for field in m.repository_fields:
                repository_fields.setdefault(field, m.repository_field_types.get(field, ""))
        out.append(
            (
                c.name,
                {
                    "collection": c.name,
                    "repository": c.repository.label,
                    "connector": c.repository.kind,
                    "projects": c.project_ids(),
                    "artifact_types": c.artifact_types,
                    "repository_fields": [{"id": k, "type": t} for k, t in sorted(repository_fields.items())],
                    "model": c.model.name if c.model_id else None,
                    "model_fields": [
                        {"key": f.key, "label": f.label, "type": f.type} for f in c.model.fields.all()
                    ]
                    if c.model_id
                    else [],
                },
            )
        )
    return out


def usage_report_csv() -> bytes:
    from metrics import usage

    return usage.report_csv(personal=False)


def usage_overview() -> dict:
    from metrics import usage

    return usage.overview()
