"""Preview works out what Run would do — twins to create and where, twins to find by their
creation marker, values to write, failures with their codes — and writes nothing anywhere: not a
row of Hub's database, not a request that changes the tool."""

import pytest
from django.apps import apps
from django.urls import reverse

from connectors import registry
from connectors.local.connector import LocalConnector
from integrations.engine import preview
from integrations.engine.preview import Outcome
from integrations.models import CreationIntent, Integration, Route
from tests.engine.sync import change, items, new_item, run

WRITES = (
    "create_artifact",
    "create_artifacts",
    "update_artifact",
    "add_comment",
    "upload_attachment",
    "perform_transition",
    "delete_artifact",
)


def rows() -> dict[str, int]:
    """Every table's row count, and the local trackers' item revisions (a write raises one)."""
    counted = {model._meta.label: model.objects.count() for model in apps.get_models()}
    from connectors.local.models import LocalItem

    counted["revisions"] = sum(LocalItem.objects.values_list("revision", flat=True))
    return counted


@pytest.fixture
def tool_writes(monkeypatch):
    """Every call of a local connector method that changes a tracker."""
    calls: list[str] = []
    for name in WRITES:
        original = getattr(LocalConnector, name, None)
        if original is None:
            continue

        def recording(self, *args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(LocalConnector, name, recording)
    return calls


def by_id(result, item) -> preview.ArtifactPreview:
    return next(a for a in result.artifacts if a.side == "A" and a.artifact_id == str(item.pk))


def test_preview_counts_the_twins_to_create_and_where(integration, licensed):
    new_item("alpha", "DEMO", "Crash on save", priority="high")
    new_item("alpha", "DEMO", "Slow start", priority="low")
    result = preview.preview(integration.pk)
    assert result.creations == [("B", "Beta defects", "WEB", 2)]
    assert result.counts["create"] == 2 and result.counts["fail"] == 0


def test_preview_shows_what_each_field_would_become(integration, licensed):
    item = new_item("alpha", "DEMO", "Crash on save", priority="high")
    shown = by_id(preview.preview(integration.pk), item)
    assert shown.outcome == Outcome.CREATE and shown.target_project == "WEB"
    assert shown.writes == {"summary": "Crash on save", "priority": "high"}


def test_preview_writes_no_row_and_sends_no_write_to_the_tool(integration, licensed, tool_writes):
    new_item("alpha", "DEMO", "Crash on save", priority="high")
    new_item("beta", "WEB", "Typo on the home page")
    before = rows()
    result = preview.preview(integration.pk)
    assert result.counts["create"] == 1 and result.counts["not_created"] == 1  # creation A → B only
    assert rows() == before
    assert tool_writes == []


def test_an_artifact_that_meets_no_route_condition_would_fail_with_17008E(integration, licensed):
    Route.objects.filter(integration=integration).update(
        condition={"field": "priority", "operator": "equals", "value": "high"}
    )
    high = new_item("alpha", "DEMO", "Crash", priority="high")
    low = new_item("alpha", "DEMO", "Cosmetic", priority="low")
    result = preview.preview(integration.pk)
    assert by_id(result, high).outcome == Outcome.CREATE
    failed = by_id(result, low)
    assert (failed.outcome, failed.code) == (Outcome.FAIL, "CCRRTT-17008E")
    assert result.failure_codes == [("CCRRTT-17008E", 1)]


def test_filtered_artifacts_are_shown_left_out(integration, licensed):
    integration.filters = {
        "combine": "and",
        "applies_to": "creation",
        "conditions": [{"field": "priority", "operator": "equals", "value": "high"}],
    }
    integration.save()
    low = new_item("alpha", "DEMO", "Cosmetic", priority="low")
    assert by_id(preview.preview(integration.pk), low).outcome == Outcome.FILTERED


def test_a_twin_an_interrupted_attempt_created_is_found_by_its_marker(integration, licensed):
    item = new_item("alpha", "DEMO", "Crash on save", priority="high")
    CreationIntent.objects.create(
        integration=integration,
        source_side="A",
        source_artifact_id=str(item.pk),
        target_project="WEB",
        target_type="bug",
        marker="hub-earlier-attempt",
    )
    beta = integration.collection_b.repository
    with registry.connect(beta.settings()) as connector:
        twin = connector.create_artifact(
            "WEB", "bug", {"summary": "Crash on save"}, marker="hub-earlier-attempt"
        )
    shown = by_id(preview.preview(integration.pk), item)
    assert shown.outcome == Outcome.ASSOCIATE and shown.twin == twin.formatted_id


def test_an_existing_pair_shows_the_update_and_a_conflict_with_its_code(running, tool_writes):
    item = new_item("alpha", "DEMO", "Crash on save", priority="high")
    run(running)
    assert {"create_artifact", "create_artifacts"} & set(tool_writes)  # the recorder sees Run's writes
    Integration.objects.filter(pk=running.pk).update(running=False, conflict_strategy="error")
    change(item, summary="Crash on save (macOS)")
    shown = by_id(preview.preview(running.pk), item)
    assert shown.outcome == Outcome.UPDATE and shown.writes == {"summary": "Crash on save (macOS)"}
    [twin] = items("beta", "WEB")
    change(twin, summary="Crash when saving")
    before, calls = rows(), len(tool_writes)
    conflicted = by_id(preview.preview(running.pk), item)
    assert (conflicted.outcome, conflicted.code) == (Outcome.FAIL, "CCRRTT-50002E")
    assert rows() == before and len(tool_writes) == calls


def test_a_running_integration_is_not_previewed(running):
    with pytest.raises(preview.NotPreviewable):
        preview.preview(running.pk)


def test_the_preview_page_says_what_run_would_do(admin_client, integration, licensed):
    new_item("alpha", "DEMO", "Crash on save", priority="high")
    page = admin_client.get(reverse("integration-preview", args=[integration.pk])).content.decode()
    assert "Would create <strong>1</strong> twin in collection B “Beta defects”, project WEB." in page
    assert "Crash on save" in page
    link = admin_client.get(reverse("integration-edit", args=[integration.pk])).content.decode()
    assert reverse("integration-preview", args=[integration.pk]) in link


def test_the_api_answers_the_preview_and_refuses_it_while_running(administrator, integration, licensed):
    from hub import api_tokens
    from tests.integrations.test_api import Api

    api = Api(api_tokens.create_token(administrator, "preview")[1])
    new_item("alpha", "DEMO", "Crash on save", priority="high")
    body = api.get(f"/integrations/{integration.pk}/preview/?limit=10").json()
    assert body["creations"] == [{"side": "B", "collection": "Beta defects", "project": "WEB", "count": 1}]
    [artifact] = body["artifacts"]
    assert artifact["outcome"] == "create" and artifact["writes"]["summary"] == "Crash on save"
    Integration.objects.filter(pk=integration.pk).update(running=True)
    refused = api.get(f"/integrations/{integration.pk}/preview/")
    assert refused.status_code == 409 and "stop it first" in refused.json()["message"]
