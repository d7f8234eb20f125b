"""Realistic ledger data: thousands of activities and pairs across several integrations, made with
bulk_create so a test can afford them."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker

INTEGRATIONS = {1: "Jira Bugs ↔ Redmine Defects", 2: "GitLab Issues ↔ Jira Stories", 3: "ServiceNow ↔ Azure"}
Status = ArtifactActivity.Status


def activities(
    count: int, status: str = Status.COMPLETED, *, start: int = 0, spread: bool = False, **fields
) -> list[ArtifactActivity]:
    now = timezone.now()
    rows = []
    for n in range(start, start + count):
        integration_id = fields.get("integration_id", 1 + n % len(INTEGRATIONS))
        side = fields.get("source_side", "AB"[n % 2])
        artifact_id = fields.get("artifact_id", str(10_000 + n))
        values = {
            "integration_id": integration_id,
            "integration_name": INTEGRATIONS.get(integration_id, f"Integration {integration_id}"),
            "source_side": side,
            "source_collection_name": "Jira Bugs" if side == "A" else "Redmine Defects",
            "target_collection_name": "Redmine Defects" if side == "A" else "Jira Bugs",
            "source_project": "Project PROJ",
            "target_project": "Project web",
            "collection_pair_name": "Jira Bugs/Redmine Defects",
            "artifact_id": artifact_id,
            "formatted_id": f"PROJ-{artifact_id}",
            "summary": f"Login fails for user {n}",
            "url": f"https://jira.example.com/browse/PROJ-{artifact_id}",
            "status": status,
        }
        if status == Status.COMPLETED:
            values.update(result="updated", changed_fields={"Summary": ["Old", "New"]})
        if status == Status.FAILED:
            values.update(
                code="CCRRTT-1002E",
                message="Connector failed to read the person.",
                retry_count=3,
                last_error_at=now,
            )
        values.update(fields)
        row = ArtifactActivity(**values)
        if row.status in ArtifactActivity.WAITING:
            row.waiting_key = ArtifactActivity.make_waiting_key(
                row.integration_id, row.source_side, row.artifact_id
            )
        rows.append(row)
    created = ArtifactActivity.objects.bulk_create(rows, batch_size=2000)
    if spread:
        spread_created(ArtifactActivity, [row.pk for row in created], minutes_ago=start)
    return created


def spread_created(model, pks: list[int], minutes_ago: int = 0) -> None:
    """auto_now_add stamps every row with the same instant; give them one minute apart instead,
    the first one the newest, as a day of real traffic would."""
    now = timezone.now()
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        model.objects.filter(pk__in=chunk).update(
            created=Case(
                *[
                    When(pk=pk, then=Value(now - timedelta(minutes=minutes_ago + start + i)))
                    for i, pk in enumerate(chunk)
                ],
                output_field=DateTimeField(),
            )
        )


def pairs(count: int, *, start: int = 0, **fields) -> list[ArtifactPair]:
    rows = []
    for n in range(start, start + count):
        integration_id = fields.get("integration_id", 1 + n % len(INTEGRATIONS))
        values = {
            "integration_id": integration_id,
            "integration_name": INTEGRATIONS.get(integration_id, f"Integration {integration_id}"),
            "a_artifact_id": str(n),
            "a_formatted_id": f"PROJ-{n}",
            "a_summary": f"Checkout button broken {n}",
            "a_url": f"https://jira.example.com/browse/PROJ-{n}",
            "a_project": "PROJ",
            "a_snapshot": {"Summary": f"Checkout button broken {n}", "Priority": "High", "Status": "Open"},
            "b_artifact_id": str(500_000 + n),
            "b_formatted_id": f"#{500_000 + n}",
            "b_summary": f"Checkout button broken {n}",
            "b_url": f"https://redmine.example.com/issues/{500_000 + n}",
            "b_project": "web",
            "b_snapshot": {"Summary": f"Checkout button broken {n}", "Priority": "Urgent", "Status": "New"},
            "comment_map": {"A:1": "B:7"},
            "last_synced_at": timezone.now(),
        }
        values.update(fields)
        rows.append(ArtifactPair(**values))
    return ArtifactPair.objects.bulk_create(rows, batch_size=2000)


def job(**fields) -> BackgroundJob:
    values = {
        "kind": BackgroundJob.Kind.PROJECT_REPLACEMENT,
        "name": "Replace project PROJ",
        "status": "processing",
        "progress": 40,
    }
    values.update(fields)
    return BackgroundJob.objects.create(**values)


def blocker(key: str = "integration:1:route", **fields) -> Blocker:
    values = {
        "key": key,
        "code": "CCRRTT-1401E",
        "message": "Integration must specify at least one route.",
        "impact": Blocker.Impact.AFFECTED,
        "integration_ids": [1],
    }
    values.update(fields)
    return Blocker.objects.create(**values)
