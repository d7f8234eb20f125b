"""Synchronization end to end through custom data transformations (local ↔ local)."""

from __future__ import annotations

import pytest

from activity.models import ArtifactActivity
from extensions.models import Extension
from integrations.models import FieldMapping
from tests.engine.sync import change, items, new_item, revisions, run

pytestmark = pytest.mark.django_db(transaction=True)

ALL = {
    "integration_styles": ["*"],
    "connector_kinds": ["*"],
    "extension_types": ["*"],
    "key_value_stores": True,
}
TAG = """var inputTypes = 'String'; var outputTypes = 'String';
function transform(context, input) { return input ? '[alpha] ' + input : input; }"""
UNTAG = """var inputTypes = 'String'; var outputTypes = 'String';
function transform(context, input) { return input ? input.replace(/^\\[alpha\\] /, '') : input; }"""


@pytest.fixture
def tagged(running, issue):
    """Beta's title line goes through two extensions: '[alpha] ' added on the way to Beta, taken
    off on the way back to the model."""
    from hub import licensing

    licensing.apply(issue(features=ALL))
    Extension.objects.create(name="Tag", type="custom_data_transformation", script=TAG)
    Extension.objects.create(name="Untag", type="custom_data_transformation", script=UNTAG)
    line = FieldMapping.objects.get(collection=running.collection_b, model_fields=["title"])
    line.transform = "extension"
    line.params = {"to_model_extension": "Untag", "to_repository_extension": "Tag"}
    line.save()
    return running


def test_a_custom_transformation_shapes_the_twin_and_reads_it_back_without_ping_pong(tagged):
    item = new_item("alpha", "DEMO", "Crash on save")
    run(tagged)
    [twin] = items("beta", "WEB")
    assert twin.summary == "[alpha] Crash on save"
    before = revisions("alpha"), revisions("beta")
    run(tagged)  # detecting the twin again changes nothing: it reads back as the model value
    assert (revisions("alpha"), revisions("beta")) == before
    change(twin, summary="[alpha] Crash on load")
    run(tagged)
    item.refresh_from_db()
    assert item.summary == "Crash on load"


def test_a_failing_transformation_fails_the_activity_with_17011E(tagged):
    Extension.objects.filter(name="Tag").update(
        script="var inputTypes='String'; var outputTypes='String';"
        "function transform(c, i) { throw 'no tags today: ' + i; }"
    )
    item = new_item("alpha", "DEMO", "Crash")
    run(tagged, rounds=1)
    activity = ArtifactActivity.objects.get(artifact_id=str(item.pk), source_side="A")
    assert activity.status == "failed"
    assert activity.code == "CCRRTT-17011E"
    assert "no tags today: Crash" in activity.message
    assert items("beta", "WEB") == []


def test_the_extension_lines_of_twins_created_together_take_one_round_trip_per_direction(tagged, monkeypatch):
    """Five twins made in one request: their writes' extension lines run in one sandbox round trip
    and their read-backs (the pairs' snapshots) in another, not two per twin; each twin still gets
    its own value, and reading them back changes nothing."""
    from extensions import runtime

    for n in range(5):
        new_item("alpha", "DEMO", f"Crash {n}")
    exchanges = []
    request = runtime.SANDBOX.request
    monkeypatch.setattr(runtime.SANDBOX, "request", lambda *a, **k: exchanges.append(1) or request(*a, **k))
    run(tagged, rounds=1)
    assert sorted(twin.summary for twin in items("beta", "WEB")) == [f"[alpha] Crash {n}" for n in range(5)]
    assert len(exchanges) == 2
    before = revisions("alpha"), revisions("beta")
    run(tagged)
    assert (revisions("alpha"), revisions("beta")) == before


def test_twins_created_together_convert_each_artifact_once_and_check_the_license_once(tagged, monkeypatch):
    """The same five twins: the collecting pass of ``transformations.ahead`` prepares each line's
    calls (the artifacts converted, the call built) and the block's real pass takes them by
    fingerprint, so each artifact is converted once per direction (10 for 5 twins; 20 when both
    passes converted), and the license of the extension type is read once per batch (20 checks
    before: one per line and pass)."""
    from extensions import licensing, transformations
    from extensions.transformations import LineExtensions

    for n in range(5):
        new_item("alpha", "DEMO", f"Crash {n}")
    conversions, built, checks = [], [], []
    convert, build, cached = transformations.artifacts_json, LineExtensions.call, licensing._cached
    monkeypatch.setattr(transformations, "artifacts_json", lambda *a: conversions.append(1) or convert(*a))
    monkeypatch.setattr(LineExtensions, "call", lambda *a, **k: built.append(1) or build(*a, **k))
    monkeypatch.setattr(licensing, "_cached", lambda *a: checks.append(1) or cached(*a))
    run(tagged, rounds=1)
    assert sorted(twin.summary for twin in items("beta", "WEB")) == [f"[alpha] Crash {n}" for n in range(5)]
    assert len(conversions) == len(built) == 10  # 5 writes + 5 read-backs, once each
    assert len(checks) == 1


def test_the_extension_lines_of_updates_in_one_batch_share_round_trips(tagged, monkeypatch):
    """Five twins changed at once: the source side's extension lines of the five updates (the
    check for Hub's own write and the update's model) run in one sandbox round trip for the
    batch, not one or two per update; each update still gets its own value."""
    from extensions import runtime

    originals = [new_item("alpha", "DEMO", f"Crash {n}") for n in range(5)]
    run(tagged)
    for twin in items("beta", "WEB"):
        change(twin, summary=twin.summary.replace("Crash", "Hang"))
    exchanges = []
    request = runtime.SANDBOX.request
    monkeypatch.setattr(runtime.SANDBOX, "request", lambda *a, **k: exchanges.append(1) or request(*a, **k))
    run(tagged, rounds=1)
    for item in originals:
        item.refresh_from_db()
    assert sorted(item.summary for item in originals) == [f"Hang {n}" for n in range(5)]
    assert len(exchanges) == 1  # two per update before (10)


def parent_line_through(running, issue, script: str):
    """Alpha's parent line reads into the model through an extension with ``script`` (Relationship
    in and out); parent flows from alpha to beta."""
    from hub import licensing
    from integrations.models import ModelField

    licensing.apply(issue(features=ALL))
    ModelField.objects.create(
        model=running.collection_a.model, key="parent", label="Parent", type="relationship", position=6
    )
    Extension.objects.create(name="Parent", type="custom_data_transformation", script=script)
    for collection in (running.collection_a, running.collection_b):
        extension = collection == running.collection_a
        FieldMapping.objects.create(
            collection=collection,
            repository_fields=["parent"],
            repository_field_types={"parent": "relationship"},
            model_fields=["parent"],
            model_field_types={"parent": "relationship"},
            transform="extension" if extension else "copy",
            params={"to_model_extension": "Parent"} if extension else {},
        )
    running.field_flows = {**running.field_flows, "parent": "a_to_b"}
    running.save()


def twin_of(item):
    from activity.models import ArtifactPair
    from connectors.local.models import LocalItem

    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    return LocalItem.objects.get(pk=int(pair.b_artifact_id))


def test_a_relationship_output_of_an_extension_line_links_the_twins(running, issue):
    """The extension returns a relationship object of its own making (``{id}``, not its input):
    the child's twin links to the parent's."""
    parent_line_through(
        running,
        issue,
        "var inputTypes = 'Relationship'; var outputTypes = 'Relationship';"
        "function transform(context, input) { return input ? {id: '' + input.id} : null; }",
    )
    parent = new_item("alpha", "DEMO", "Parent")
    run(running)
    child = new_item("alpha", "DEMO", "Child", parent=str(parent.pk))
    run(running)
    assert twin_of(child).parent_id == twin_of(parent).pk


def test_a_mapping_line_finds_its_relationship_through_the_artifacts_api_in_a_sync(running, issue):
    """The guide's formatted-ID search example, run by the engine: ``artifacts.*`` serve the
    repository of the line's collection, so the link found in alpha becomes the twins' link."""
    parent = new_item("alpha", "DEMO", "Parent")
    parent_line_through(
        running,
        issue,
        "var inputTypes = 'Relationship'; var outputTypes = 'Relationship';"
        "function transform(context, input) {"
        "  if (context.sourceArtifact.summary !== 'Child') { return input; }"
        "  var searchDefinition = artifacts.getFormattedIdSearchDefinition();"
        f"  searchDefinition['formatted-id'] = '{parent.formatted_id}';"
        "  var results = artifacts.searchByFormattedId(searchDefinition);"
        "  if (results[0]) { return results[0]; } return null; }",
    )
    run(running)
    child = new_item("alpha", "DEMO", "Child")  # no parent of its own: the search gives it one
    run(running)
    assert list(ArtifactActivity.objects.filter(status="failed").values_list("code", "message")) == []
    assert twin_of(child).parent_id == twin_of(parent).pk
