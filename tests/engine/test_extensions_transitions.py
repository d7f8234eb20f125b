"""State transitions between two local trackers whose workflow needs several steps: a state
transition extension (the documented example that sets a resolution) and the transition graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from activity.models import ArtifactActivity
from connectors.local import service
from extensions.models import CollectionExtensions, Extension
from extensions.transitions import shortest_path
from integrations.models import FieldMapping, ModelField
from tests.engine.sync import items, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)

ALL = {
    "integration_styles": ["*"],
    "connector_kinds": ["*"],
    "extension_types": ["*"],
    "key_value_stores": True,
}
STATUSES = [
    {"id": "new", "label": "New"},
    {"id": "in_progress", "label": "In progress"},
    {"id": "resolved", "label": "Resolved"},
    {"id": "closed", "label": "Closed"},
]
RESOLUTIONS = [{"id": "fixed", "label": "Fixed"}, {"id": "wont_fix", "label": "Won't fix"}]
# The guide's example, as printed (Nashorn's for each included).
EXAMPLES = Path(__file__).resolve().parents[1] / "extensions" / "examples"
DOC_EXAMPLE = (EXAMPLES / "state_transition_resolution.js").read_text()
GRAPH = [
    {"from": "new", "to": "in_progress", "transition": "Start work"},
    {"from": "in_progress", "to": "resolved", "transition": "Resolve"},
    {"from": "resolved", "to": "closed", "transition": "Close"},
    {"from": "resolved", "to": "in_progress", "transition": "Reopen"},
]


@pytest.fixture
def with_status(running, issue):
    from hub import licensing

    licensing.apply(issue(features=ALL))
    model = running.collection_a.model
    ModelField.objects.create(
        model=model, key="status", label="Status", type="single_select", options=STATUSES
    )
    ModelField.objects.create(
        model=model, key="resolution", label="Resolution", type="single_select", options=RESOLUTIONS
    )
    for collection in (running.collection_a, running.collection_b):
        for key in ("status", "resolution"):
            FieldMapping.objects.create(
                collection=collection,
                repository_fields=[key],
                repository_field_types={key: "single_select"},
                model_fields=[key],
                model_field_types={key: "single_select"},
                direction="both",
                transform="copy",
            )
    running.field_flows = {**running.field_flows, "status": "a_to_b", "resolution": "a_to_b"}
    running.save()
    return running


def paired(integration, summary="Workflow"):
    item = new_item("alpha", "DEMO", summary)
    run(integration)
    [twin] = items("beta", "WEB")
    return item, twin


def move(item, *steps, resolution="fixed"):
    for step in steps:
        service.perform_transition(item.pk, step, {"resolution": resolution} if step == "resolve" else None)


def test_the_shortest_path_is_walked():
    assert [e["to"] for e in shortest_path(GRAPH, "new", "closed")] == ["in_progress", "resolved", "closed"]
    assert shortest_path(GRAPH, "closed", "new") is None
    assert shortest_path(GRAPH, "new", "new") == []


def test_without_a_graph_a_status_several_steps_away_fails_with_17003E(with_status):
    item, twin = paired(with_status)
    move(item, "resolve", "close")
    run(with_status, rounds=1)
    activity = ArtifactActivity.objects.filter(artifact_id=str(item.pk), source_side="A").latest("id")
    assert (activity.status, activity.code) == ("failed", "CCRRTT-17003E")


def test_the_transition_graph_moves_the_twin_new_to_closed_in_three_steps(with_status):
    CollectionExtensions.objects.create(collection=with_status.collection_b, transition_graph=GRAPH)
    item, twin = paired(with_status)
    move(item, "resolve", "close")
    run(with_status)
    twin.refresh_from_db()
    assert (twin.status, twin.resolution) == ("closed", "fixed")


def test_a_graph_without_a_path_fails_with_17003E(with_status):
    CollectionExtensions.objects.create(collection=with_status.collection_b, transition_graph=GRAPH[:1])
    item, _ = paired(with_status)
    move(item, "resolve", "close")
    run(with_status, rounds=1)
    activity = ArtifactActivity.objects.filter(artifact_id=str(item.pk), source_side="A").latest("id")
    assert activity.code == "CCRRTT-17003E" and "no path" in activity.message


def extension_on_beta(integration, script, fields=("status",)):
    extension = Extension.objects.create(name="Transitions", type="state_transition", script=script)
    CollectionExtensions.objects.create(
        collection=integration.collection_b, state_transition=extension, state_transition_fields=list(fields)
    )


def test_the_documented_extension_resolves_the_twin_and_sets_its_resolution(with_status):
    extension_on_beta(with_status, DOC_EXAMPLE)
    item, twin = paired(with_status)
    move(item, "resolve", resolution="wont_fix")
    run(with_status)
    twin.refresh_from_db()
    assert (twin.status, twin.resolution) == ("resolved", "fixed")


def failed_code(integration, script, fields=("status",)):
    extension_on_beta(integration, script, fields)
    item, _ = paired(integration)
    move(item, "resolve")
    run(integration, rounds=1)
    return ArtifactActivity.objects.filter(artifact_id=str(item.pk), source_side="A").latest("id")


def test_moving_to_the_same_status_twice_is_17010E(with_status):
    script = """function transitionArtifact(context, transitions) {
      for (var i = 0; i < transitions.length; i++) {
        if (transitions[i].label === 'Start work' || transitions[i].label === 'Reopen') return transitions[i];
      }
      for (var j = 0; j < transitions.length; j++) {
        if (transitions[j].label === 'Resolve') {
          transitions[j].attributes.resolution = 'Fixed';
          return transitions[j];
        }
      }
    }"""
    assert failed_code(with_status, script).code == "CCRRTT-17010E"


def test_a_transition_that_is_not_offered_is_17009E(with_status):
    script = (
        "function transitionArtifact(c, t) { return {id: 'teleport', label: 'Teleport', attributes: {}}; }"
    )
    assert failed_code(with_status, script).code == "CCRRTT-17009E"


def test_an_invalid_attribute_value_is_17009E(with_status):
    script = """function transitionArtifact(c, transitions) {
      if (c.targetRepositoryArtifact.status === 'Resolved') return;
      var t = transitions.filter(function (x) { return x.label === 'Resolve'; })[0];
      t.attributes.resolution = 'Maybe';
      return t;
    }"""
    activity = failed_code(with_status, script)
    assert activity.code == "CCRRTT-17009E" and "Maybe" in activity.message


def test_a_transition_the_tool_refuses_is_17021E(with_status):
    script = """function transitionArtifact(c, transitions) {
      if (c.targetRepositoryArtifact.status === 'Resolved') return;
      return transitions.filter(function (x) { return x.label === 'Resolve'; })[0];  // no resolution
    }"""
    assert failed_code(with_status, script).code == "CCRRTT-17021E"


def test_a_state_transition_without_fields_is_17013E(with_status):
    assert failed_code(with_status, DOC_EXAMPLE, fields=()).code == "CCRRTT-17013E"


def test_state_transition_fields_the_model_lacks_are_17018E(with_status):
    assert failed_code(with_status, DOC_EXAMPLE, fields=("status", "severity")).code == "CCRRTT-17018E"
