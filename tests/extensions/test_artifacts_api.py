"""``artifacts.*`` over the local tracker: raw artifacts behind relationships, the formatted-id and
summary searches, containers, and twins through the integration's pairs."""

from __future__ import annotations

import pytest

from activity.models import ArtifactPair
from connectors import registry
from extensions.errors import ExtensionFailed
from extensions.hosts import HostApis
from extensions.hosts.artifacts import ArtifactsApi
from extensions.runtime import invoke
from tests.engine.sync import new_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(collections):
    alpha = collections[0]
    with registry.connect(alpha.repository.settings()) as connector:
        yield HostApis(artifacts=ArtifactsApi(connector, alpha))


def run(api, body: str, *args):
    return invoke(f"function transform(context, input) {{ {body} }}", "transform", [{}, *args], api).value


def test_retrieve_artifact_gives_the_raw_artifact_with_labels(api):
    parent = new_item("alpha", "DEMO", "Parent", priority="high")
    child = new_item("alpha", "DEMO", "Child", parent=parent.pk)
    raw = run(
        api,
        "var parent = artifacts.retrieveArtifact(input); return [parent.summary, parent.priority];",
        {"id": str(child.parent_id)},
    )
    assert raw == ["Parent", "High"]


def test_the_documented_formatted_id_search(api):
    item = new_item("alpha", "DEMO", "Findable")
    script = """var searchDefinition = artifacts.getFormattedIdSearchDefinition();
      searchDefinition['formatted-id'] = input;
      var results = artifacts.searchByFormattedId(searchDefinition);
      if (results[0]) { return results[0]; }
      return null;"""
    assert run(api, script, item.formatted_id) == {"id": str(item.pk)}
    assert run(api, script, "DEMO-99999") is None


def test_a_custom_search_by_summary(api):
    wanted = new_item("alpha", "DEMO", "Login page broken")
    new_item("alpha", "DEMO", "Unrelated")
    script = """var types = artifacts.listSearchTypes();
      var definition = artifacts.getSearchDefinition(types[1]);
      definition['summary'] = 'login';
      return artifacts.search(types[1], definition);"""
    assert run(api, script) == [{"id": str(wanted.pk)}]


def test_containers_carry_the_summary(api):
    item = new_item("alpha", "DEMO", "Folder")
    script = """var c = artifacts.toContainer(input); var named = artifacts.toContainer(input, 'Other');
      return [c.summary, named.summary, artifacts.toRelationship(c).id];"""
    assert run(api, script, {"id": str(item.pk)}) == ["Folder", "Other", str(item.pk)]


def test_a_missing_artifact_throws_not_found_exception(api):
    assert run(api, "try { artifacts.retrieveArtifact({id: '999999'}); } catch (e) { return e.name; }") == (
        "NotFoundException"
    )


def test_the_associated_relationship_is_the_twin_through_the_pairs(api, integration):
    item = new_item("alpha", "DEMO", "Paired")
    ArtifactPair.objects.create(integration_id=integration.pk, a_artifact_id=str(item.pk), b_artifact_id="77")
    assert run(api, "return artifacts.getAssociatedRelationship(input);", {"id": str(item.pk)}) == {
        "id": "77"
    }
    with pytest.raises(ExtensionFailed, match="NotFoundException"):
        run(api, "return artifacts.getAssociatedRelationship({id: '5555'});")


def test_a_search_returns_at_most_1024_results(api, monkeypatch):
    from extensions.hosts import artifacts

    assert artifacts.MAX_RESULTS == 1024  # the documented cap; a smaller one shows it is applied
    monkeypatch.setattr(artifacts, "MAX_RESULTS", 3)
    for n in range(5):
        new_item("alpha", "DEMO", f"Login {n}")
    script = "var t = artifacts.listSearchTypes()[1]; var d = artifacts.getSearchDefinition(t);"
    assert len(run(api, script + " d['summary'] = 'login'; return artifacts.search(t, d);")) == 3


def test_to_container_throws_when_the_artifact_is_missing(api):
    script = "try { artifacts.toContainer({id: '999999'}); return 'made'; } catch (e) { return e.name; }"
    assert run(api, script) == "NotFoundException"


def test_several_associated_artifacts_throw(api, integration):
    """Two integrations of the collection pair the artifact with different twins."""
    from integrations.models import Integration

    other = Integration.objects.create(
        name="Second", collection_a=integration.collection_a, collection_b=integration.collection_b
    )
    item = new_item("alpha", "DEMO", "Twice paired")
    for owner, twin in ((integration, "80"), (other, "81")):
        ArtifactPair.objects.create(integration_id=owner.pk, a_artifact_id=str(item.pk), b_artifact_id=twin)
    with pytest.raises(ExtensionFailed, match="2 associated artifacts"):
        run(api, "return artifacts.getAssociatedRelationship(input);", {"id": str(item.pk)})


# The guide's two container examples (seed "Containers and Relationships"), over the local
# tracker, whose raw artifacts carry the parent as ``parent`` and the kind as ``type``.
FIRST_PARENT_FOLDER = """
var inputTypes = 'Relationship';
var outputTypes = 'Container';

function transform(context, input) {
    if (input) {
        var parentRelationship = findParentFolder(context.sourceArtifact);
        return artifacts.toContainer(parentRelationship);
    }
    return null;
}

function findParentFolder(artifact){
    var parent = artifacts.retrieveArtifact(artifact['parent']);
    if (parent['type'] === 'epic') {
        return artifact['parent'];
    } else if (parent['parent'] === null) {
        return null;
    }
    return findParentFolder(parent);
}
"""
PARENT_OF_THE_CONTAINER = """
var inputTypes = 'Container';
var outputTypes = 'Relationship';

function transform(context, input) {
    if (input) {
        var parentRelationship = artifacts.toRelationship(input);
        var parentArtifact = artifacts.retrieveArtifact(parentRelationship);
        var container = parentArtifact['parent'];
        return artifacts.toRelationship(container);
    }
    return null;
}
"""


def test_the_documented_container_examples(api):
    epic = new_item("alpha", "DEMO", "Checkout", type="epic")
    story = new_item("alpha", "DEMO", "Pay by card", type="story", parent=str(epic.pk))
    task = new_item("alpha", "DEMO", "Card form", parent=str(story.pk))
    source = api.artifacts.retrieve({"id": str(task.pk)})

    found = invoke(FIRST_PARENT_FOLDER, "transform", [{"sourceArtifact": source}, source["parent"]], api)
    assert found.value == {"id": str(epic.pk), "summary": "Checkout"}  # the epic above the story

    story_container = {"id": str(story.pk), "summary": "Pay by card"}
    up = invoke(PARENT_OF_THE_CONTAINER, "transform", [{}, story_container], api)
    assert up.value == {"id": str(epic.pk), "repository-id": None}


def test_the_associated_container_is_the_twin_with_the_summary(api, integration):
    epic = new_item("alpha", "DEMO", "Checkout", type="epic")
    ArtifactPair.objects.create(integration_id=integration.pk, a_artifact_id=str(epic.pk), b_artifact_id="41")
    script = "return artifacts.getAssociatedContainer(artifacts.toContainer(input));"
    assert run(api, script, {"id": str(epic.pk)}) == {"id": "41", "summary": "Checkout"}
    missing = "try { artifacts.getAssociatedContainer({id: '999'}); } catch (e) { return e.name; }"
    assert run(api, missing) == "NotFoundException"


WHERE = """var inputTypes = 'Container';
var outputTypes = 'String';
function transform(context, input) { return input ? input.id + ': ' + input.summary : null; }
"""


def test_a_container_input_of_a_mapping_line_carries_the_summary_the_tool_has(
    collections, integration, extensions_licensed, make_extension
):
    """“All container objects provide a summary property”: in a synchronization a line's Container
    input arrives with the container's summary, read from the tool that holds it — the line's own
    repository towards the model, the other side's towards the repository (the model's value is
    that side's container) — once per container while the same connectors serve."""
    from types import SimpleNamespace

    from extensions import transformations
    from extensions.transformations import LineExtensions
    from extensions.types import FieldInfo
    from integrations.engine import mapping
    from integrations.engine.mapping import Line

    alpha, beta = collections
    epic = new_item("alpha", "DEMO", "Checkout", type="epic")
    extension = make_extension("Where", WHERE)
    container, note = FieldInfo("parent", "Parent", "container"), FieldInfo("note", "Note", "string")
    # Alpha's parent → the model's note; the model's parent (alpha's container) → beta's note.
    reading = Line(["parent"], ["container"], ["note"], ["string"], "extension", writes=False,
                   extension=LineExtensions(extension, None, [container], [note], alpha.pk))  # fmt: skip
    writing = Line(["note"], ["string"], ["parent"], ["container"], "extension", reads=False,
                   extension=LineExtensions(None, extension, [note], [container], beta.pk))  # fmt: skip
    with (
        registry.connect(alpha.repository.settings()) as on_alpha,
        registry.connect(beta.repository.settings()) as on_beta,
    ):
        reads = []
        read_raw = on_alpha.read_raw
        on_alpha.read_raw = lambda artifact_id: reads.append(artifact_id) or read_raw(artifact_id)
        sides = [
            SimpleNamespace(collection=alpha, connector=on_alpha),
            SimpleNamespace(collection=beta, connector=on_beta),
        ]
        try:
            transformations.serve(sides, integration.pk)
            assert mapping.to_model([reading], {"parent": str(epic.pk)}) == {"note": f"{epic.pk}: Checkout"}
            assert mapping.to_model([reading], {"parent": str(epic.pk)}) == {"note": f"{epic.pk}: Checkout"}
            assert mapping.to_repository([writing], {"parent": str(epic.pk)}) == {
                "note": f"{epic.pk}: Checkout"
            }
            assert reads == [str(epic.pk)]  # one read for the three inputs
            assert mapping.to_model([reading], {"parent": "99999"}) == {"note": "99999: null"}  # gone: null
        finally:
            transformations.Scope.sides, transformations.Scope.summaries = {}, {}
    assert mapping.to_model([reading], {"parent": str(epic.pk)}) == {"note": f"{epic.pk}: null"}  # no sync


def test_the_associated_container_of_a_container_made_by_the_script_has_the_summary(api, integration):
    epic = new_item("alpha", "DEMO", "Checkout", type="epic")
    ArtifactPair.objects.create(integration_id=integration.pk, a_artifact_id=str(epic.pk), b_artifact_id="41")
    script = "return artifacts.getAssociatedContainer({id: input});"
    assert run(api, script, str(epic.pk)) == {"id": "41", "summary": "Checkout"}
