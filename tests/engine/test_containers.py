"""Container + Work Item synchronization between two local trackers (docs/containers.md): epics
are containers, stories and bugs the work items; every artifact goes into the twin of its
container. Each catalog code appears in the situation a user meets it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local import service
from connectors.local.models import LocalItem
from integrations.models import ContainerMirroring, FieldMapping, Integration, ModelField
from tests.engine.sync import change, items, new_item, run

pytestmark = pytest.mark.django_db


def _map_parent(collection) -> None:
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=["parent"],
        repository_field_types={"parent": "relationship"},
        model_fields=["parent"],
        model_field_types={"parent": "container"},
        direction="both",
        transform="copy",
    )


@pytest.fixture
def tree_sync(running, model):
    """The factories' integration as Container + Work Item: epics are containers on both sides,
    bugs the work items, the parent field flows both ways."""
    ModelField.objects.create(model=model, key="parent", label="Parent", type="container", position=9)
    for collection in (running.collection_a, running.collection_b):
        _map_parent(collection)
    running.style = Integration.Style.CONTAINER_WORK_ITEM
    running.field_flows = {**running.field_flows, "parent": "both"}
    running.save()
    ContainerMirroring.objects.create(
        integration=running, container_types_a=["epic"], container_types_b=["epic"]
    )
    return running


def twin(item: LocalItem) -> LocalItem:
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    return LocalItem.objects.get(pk=int(pair.b_artifact_id))


def failures(code: str) -> list[ArtifactActivity]:
    return list(ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED, code=code))


def retry_now() -> None:
    """The retry schedule's time has come."""
    ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).update(
        next_retry_at=timezone.now()
    )


def test_a_tree_arrives_with_its_shape(tree_sync):
    epic = new_item("alpha", "DEMO", "Checkout epic", type="epic")
    children = [new_item("alpha", "DEMO", f"Step {n}", parent=str(epic.pk)) for n in range(3)]
    grandchild = new_item("alpha", "DEMO", "Sub-step", parent=str(children[0].pk))

    run(tree_sync)

    assert twin(epic).type == "epic" and twin(epic).parent is None
    assert {twin(child).parent_id for child in children} == {twin(epic).pk}
    assert twin(grandchild).parent_id == twin(children[0]).pk
    assert len(items("beta", "WEB")) == 5


def test_re_parenting_moves_the_twin(tree_sync):
    first, second = (new_item("alpha", "DEMO", name, type="epic") for name in ("First", "Second"))
    bug = new_item("alpha", "DEMO", "Moves", parent=str(first.pk))
    run(tree_sync)

    change(bug, parent=str(second.pk))
    run(tree_sync)

    assert twin(bug).parent_id == twin(second).pk


def test_a_parent_changed_on_both_sides_is_a_containment_conflict(tree_sync):
    tree_sync.conflict_strategy = Integration.ConflictStrategy.ERROR
    tree_sync.save()
    first, second, third = (new_item("alpha", "DEMO", n, type="epic") for n in ("One", "Two", "Three"))
    bug = new_item("alpha", "DEMO", "Contested", parent=str(first.pk))
    run(tree_sync)

    change(bug, parent=str(second.pk))
    change(twin(bug), parent=str(twin(third).pk))
    run(tree_sync)

    found = failures("CCRRTT-50005E")  # the change of each side meets the other's
    assert found and all("“parent”" in f.message and str(second.pk) in f.message for f in found)
    assert LocalItem.objects.get(pk=bug.pk).parent_id == second.pk  # nothing overwritten


def test_a_parent_conflict_is_decided_by_the_strategy(tree_sync):
    first, second, third = (new_item("alpha", "DEMO", n, type="epic") for n in ("One", "Two", "Three"))
    bug = new_item("alpha", "DEMO", "Contested", parent=str(first.pk))
    run(tree_sync)

    change(bug, parent=str(second.pk))
    change(twin(bug), parent=str(twin(third).pk))
    run(tree_sync)  # A wins

    assert not failures("CCRRTT-50005E")
    assert twin(bug).parent_id == twin(second).pk


def test_an_item_whose_container_has_no_twin_yet_waits_and_then_is_placed(tree_sync):
    from integrations.engine import detection, processing

    epic = new_item("alpha", "DEMO", "Late epic", type="epic")
    bug = new_item("alpha", "DEMO", "Early child", parent=str(epic.pk))
    detection.detect(tree_sync.pk)
    # The child is claimed before its container, alone in its batch.
    ArtifactActivity.objects.filter(artifact_id=str(bug.pk)).update(priority=10)
    processing.process_batch(limit=1, worker="test")

    [waiting] = failures("CCRRTT-17020E")
    assert waiting.artifact_id == str(bug.pk) and "no action needed" in waiting.message
    assert waiting.next_retry_at is not None  # retried on its own

    retry_now()
    run(tree_sync)
    assert twin(bug).parent_id == twin(epic).pk
    assert not failures("CCRRTT-17020E")


def test_an_item_goes_into_the_nearest_mirrored_ancestor(tree_sync):
    epic = new_item("alpha", "DEMO", "Epic", type="epic")
    story = new_item("alpha", "DEMO", "Story, not mirrored", type="story", parent=str(epic.pk))
    bug = new_item("alpha", "DEMO", "Bug in the story", parent=str(story.pk))
    run(tree_sync)

    assert not failures("CCRRTT-17020E"), list(ArtifactActivity.objects.values_list("code", "message"))
    assert twin(bug).parent_id == twin(epic).pk
    assert not ArtifactPair.objects.filter(a_artifact_id=str(story.pk)).exists()


def test_a_deleted_container_twin_asks_for_recreate(tree_sync):
    epic = new_item("alpha", "DEMO", "Epic", type="epic")
    run(tree_sync)
    service.delete_item(twin(epic).pk)

    bug = new_item("alpha", "DEMO", "Orphan", parent=str(epic.pk))
    run(tree_sync)

    [failed] = failures("CCRRTT-17022E")
    assert failed.artifact_id == str(bug.pk) and "Recreate" in failed.message


def test_the_deleted_container_check_reads_the_twins_together(tree_sync, monkeypatch):
    """The 17022E check of a batch of children reads their containers' twins in one batched read
    (Redmine: one list request per 100), not one read per child."""
    from connectors.local.connector import LocalConnector

    epics = [new_item("alpha", "DEMO", f"Epic {n}", type="epic") for n in range(3)]
    run(tree_sync)
    twins = {str(twin(epic).pk) for epic in epics}
    one_by_one, together = [], []
    read_artifact, read_field_values = LocalConnector.read_artifact, LocalConnector.read_field_values
    monkeypatch.setattr(
        LocalConnector, "read_artifact", lambda self, i: one_by_one.append(i) or read_artifact(self, i)
    )
    monkeypatch.setattr(
        LocalConnector,
        "read_field_values",
        lambda self, ids: together.append(list(ids)) or read_field_values(self, ids),
    )
    bugs = [new_item("alpha", "DEMO", f"Bug {n}", parent=str(epics[n % 3].pk)) for n in range(9)]
    run(tree_sync)

    assert {twin(bug).parent_id for bug in bugs} == {int(t) for t in twins}
    assert not twins & set(one_by_one), "a container twin was read alone"
    assert [sorted(ids) for ids in together if twins & set(ids)] == [sorted(twins)]


@pytest.mark.parametrize(("matching", "outcome"), [("first", "associated"), ("error", "CCRRTT-50007E")])
def test_container_matching(tree_sync, matching, outcome):
    tree_sync.creation_flow = "a_to_b"  # Beta's epics are not copied to Alpha
    tree_sync.save()
    ContainerMirroring.objects.filter(integration=tree_sync).update(matching=matching, match_field="title")
    existing = [new_item("beta", "WEB", "Payments", type="epic") for _ in range(2)]
    epic = new_item("alpha", "DEMO", "Payments", type="epic")
    run(tree_sync)

    activity = ArtifactActivity.objects.get(artifact_id=str(epic.pk), source_side="A")
    if outcome == "associated":
        assert activity.result == ArtifactActivity.Result.ASSOCIATED
        assert twin(epic).pk == existing[0].pk
        assert len(items("beta", "WEB")) == 2
    else:
        assert activity.code == outcome and str(existing[1].pk) in activity.message


@pytest.mark.parametrize(
    ("unmatched", "expected"), [("ignore", None), ("default", "story"), ("error", "CCRRTT-50016E")]
)
def test_shared_container_mirroring_for_containers_no_condition_matches(tree_sync, unmatched, expected):
    ContainerMirroring.objects.filter(integration=tree_sync).update(
        container_types_b=["epic", "story"],
        conditions=[{"field": "priority", "operator": "equals", "value": "high", "type": "epic"}],
        unmatched=unmatched,
        default_type="story",
    )
    urgent = new_item("alpha", "DEMO", "Urgent epic", type="epic", priority="high")
    plain = new_item("alpha", "DEMO", "Plain epic", type="epic", priority="low")
    run(tree_sync)

    assert twin(urgent).type == "epic"
    if expected is None:
        assert not ArtifactPair.objects.filter(a_artifact_id=str(plain.pk)).exists()
    elif expected.startswith("CCRRTT"):
        [failed] = failures(expected)
        assert failed.artifact_id == str(plain.pk) and "priority equals high" in failed.message
    else:
        assert twin(plain).type == expected


def test_a_target_without_container_types_has_no_valid_container(tree_sync):
    ContainerMirroring.objects.filter(integration=tree_sync).update(container_types_b=[])
    epic = new_item("alpha", "DEMO", "Nowhere", type="epic")
    run(tree_sync)

    [failed] = failures("CCRRTT-67000E")
    assert failed.artifact_id == str(epic.pk) and "Beta" in failed.message


def codes_of(integration) -> set[str]:
    from integrations import validation

    return {p.code for p in validation.problems() if integration.pk in p.integration_ids}


def test_validation_refuses_what_container_mirroring_cannot_do(tree_sync):
    assert not codes_of(tree_sync) & {"CCRRTT-50015E", "CCRRTT-50017E", "CCRRTT-50019E", "CCRRTT-50020E"}
    tree_sync.creation_flow = "both"
    tree_sync.save()
    tree_sync.collection_a.artifact_types = ["bug", "story"]
    tree_sync.collection_a.save()
    FieldMapping.objects.filter(collection=tree_sync.collection_b, model_fields=["parent"]).update(
        transform="extension"
    )
    ContainerMirroring.objects.filter(integration=tree_sync).update(
        container_types_b=["epic", "story"],
        matching="first",
        conditions=[{"field": "due", "operator": "is_empty", "type": "epic"}],
    )

    assert codes_of(tree_sync) >= {"CCRRTT-50015E", "CCRRTT-50017E", "CCRRTT-50019E", "CCRRTT-50020E"}


def test_17019E_in_a_container_and_work_item_integration(tree_sync):
    """The catalog's three cases of 17019E, with Alpha's OPS project in the collection and no route
    for it: (1) an item of OPS goes into the twin of its mirrored container in DEMO (routed by its
    container), and fails 17019E when none of its ancestors is mirrored; (2) a container of OPS has
    no route; (3) the container twin an OPS item is routed by was deleted."""
    from integrations.services import set_projects

    set_projects(tree_sync.collection_a, [{"id": p, "key": p, "name": p} for p in ("DEMO", "OPS")])
    mirrored = new_item("alpha", "DEMO", "Mirrored epic", type="epic")
    routed_by_it = new_item("alpha", "OPS", "Ops bug in a mirrored epic", parent=str(mirrored.pk))
    unrouted = new_item("alpha", "OPS", "Ops epic", type="epic")  # case 2: a container with no route
    stranded = new_item("alpha", "OPS", "Ops bug in an ops epic", parent=str(unrouted.pk))  # case 1
    run(tree_sync)

    assert twin(routed_by_it).parent_id == twin(mirrored).pk and twin(routed_by_it).project.key == "WEB"
    refused = {f.artifact_id: f.message for f in failures("CCRRTT-17019E")}
    assert set(refused) == {str(unrouted.pk), str(stranded.pk)}
    assert refused[str(unrouted.pk)] == "No route takes project “OPS” of side A to the other side."
    assert f"in container {unrouted.pk}" in refused[str(stranded.pk)]
    assert "mirrored container structure" in refused[str(stranded.pk)]
    assert not failures("CCRRTT-17020E")

    service.delete_item(twin(mirrored).pk)  # case 3: the twin that routes OPS items is gone
    late = new_item("alpha", "OPS", "Later ops bug", parent=str(mirrored.pk))
    run(tree_sync)
    [gone] = [f for f in failures("CCRRTT-17019E") if f.artifact_id == str(late.pk)]
    assert "was deleted" in gone.message and "Recreate" in gone.message


def test_items_routed_by_a_chain_of_containers_made_in_their_batch_follow_without_waiting(tree_sync):
    """Routed by their container in the batch that creates it, items follow in the next wave of the
    same batch (no 17020E row, no retry): an OPS epic in a DEMO epic, an OPS bug in the OPS epic,
    all new together; the OPS project has no route, so each is placed in its container's twin
    once that twin is recorded, level by level."""
    from integrations.engine import detection, processing
    from integrations.services import set_projects

    set_projects(tree_sync.collection_a, [{"id": p, "key": p, "name": p} for p in ("DEMO", "OPS")])
    top = new_item("alpha", "DEMO", "Mirrored epic", type="epic")
    middle = new_item("alpha", "OPS", "Ops epic in it", type="epic", parent=str(top.pk))
    bug = new_item("alpha", "OPS", "Ops bug in the ops epic", parent=str(middle.pk))
    detection.detect(tree_sync.pk)
    assert processing.process_batch(limit=100, worker="test")  # one batch holds all three

    assert not ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).exists(), list(
        ArtifactActivity.objects.values_list("artifact_id", "code", "message")
    )
    assert twin(middle).parent_id == twin(top).pk and twin(bug).parent_id == twin(middle).pk
    assert twin(bug).project.key == twin(top).project.key == "WEB"


def test_an_item_routed_by_a_container_another_batch_creates_still_waits_with_17020E(tree_sync):
    """The container is not in the item's batch: the item waits (17020E) and its retry places it."""
    from integrations.engine import detection, processing
    from integrations.services import set_projects

    set_projects(tree_sync.collection_a, [{"id": p, "key": p, "name": p} for p in ("DEMO", "OPS")])
    epic = new_item("alpha", "DEMO", "Late epic", type="epic")
    bug = new_item("alpha", "OPS", "Early ops bug", parent=str(epic.pk))
    detection.detect(tree_sync.pk)
    ArtifactActivity.objects.filter(artifact_id=str(bug.pk)).update(priority=10)  # claimed first, alone
    processing.process_batch(limit=1, worker="test")
    [waiting] = failures("CCRRTT-17020E")
    assert waiting.artifact_id == str(bug.pk) and waiting.next_retry_at is not None
    retry_now()
    run(tree_sync)
    assert twin(bug).parent_id == twin(epic).pk and not failures("CCRRTT-17020E")
