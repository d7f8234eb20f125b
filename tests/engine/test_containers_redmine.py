"""Container + Work Item synchronization between a local tracker (A) and the real Redmine 5 (B):
local epics become Redmine features, their children Redmine sub-tasks (``parent_issue_id``)."""

from __future__ import annotations

import pytest

from integrations.models import ContainerMirroring, FieldMapping, Integration, ModelField
from tests.engine.sync import items, new_item, run
from tests.engine.test_redmine_sync import configure, redmine, sync_model, twin_id  # noqa: F401, F811

pytestmark = pytest.mark.django_db(transaction=True)
FEATURE = "2"  # Redmine's tracker for the containers


@pytest.fixture
def tree(configure):  # noqa: F811
    integration, [project] = configure()
    ModelField.objects.filter(model=integration.collection_a.model, key="parent").update(type="container")
    FieldMapping.objects.filter(model_fields=["parent"]).update(model_field_types={"parent": "container"})
    integration.style = Integration.Style.CONTAINER_WORK_ITEM
    integration.save()
    ContainerMirroring.objects.create(
        integration=integration, container_types_a=["epic"], container_types_b=[FEATURE]
    )
    return integration, project


def test_an_epic_with_children_and_grandchildren_goes_to_redmine_and_back_intact(tree, redmine):  # noqa: F811
    integration, project = tree
    epic = new_item("alpha", "DEMO", "Checkout", type="epic")
    children = [new_item("alpha", "DEMO", f"Step {n}", parent=str(epic.pk)) for n in range(5)]
    grandchild = new_item("alpha", "DEMO", "Sub-step", parent=str(children[0].pk))

    run(integration)

    issues = {str(issue["id"]): issue for issue in redmine.issues(project)}
    assert len(issues) == 7
    assert str(issues[twin_id(epic)]["tracker"]["id"]) == FEATURE
    for child in children:
        assert str(issues[twin_id(child)]["parent"]["id"]) == twin_id(epic)
    assert str(issues[twin_id(grandchild)]["parent"]["id"]) == twin_id(children[0])
    run(integration)  # and back: nothing new on either side, the local tree as it was
    assert len(items("alpha", "DEMO")) == 7 and len(redmine.issues(project)) == 7
    assert {c.parent_id for c in items("alpha", "DEMO") if c.pk in {x.pk for x in children}} == {epic.pk}
