"""A Jira cascading select through the engine (#12, CCRRTT-50006E): the local tracker's priority is
mapped to the Location field's parent option (EMEA, Americas); its dependent child (Berlin, London)
is not mapped, so Hub leaves it as it is. When the parent changes, the connector moves the child to
the new parent's child of the same label; where the new parent has none, the activity fails with
50006E, nothing is written, and once someone picks a child that exists in both the retry delivers.
"""

from __future__ import annotations

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from integrations.models import FieldMapping, ModelField
from tests.engine.cloud import JiraTool, integration_with
from tests.engine.sync import change, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)

EMEA, AMERICAS = "10300", "10301"
BERLIN, LONDON, LONDON_US = "10310", "10311", "10321"
LOCATION = "customfield_10012"


def value_map_line(collection, field: str, to_model: dict[str, str]) -> None:
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=[field],
        repository_field_types={field: "single_select"},
        model_fields=["region"],
        model_field_types={"region": "single_select"},
        transform="value_map",
        params={
            "to_model": to_model,
            "to_model_default": "emea",
            "to_repository": {model: tool for tool, model in to_model.items()},
        },
    )


@pytest.fixture
def jira():
    tool = JiraTool()
    yield tool
    tool.close()


@pytest.fixture
def synced(trackers, master_password, licensed, jira):
    integration = integration_with(jira)
    options = [{"id": "emea", "label": "EMEA"}, {"id": "americas", "label": "Americas"}]
    ModelField.objects.create(
        model=integration.collection_a.model, key="region", label="Region", type="single_select",
        position=9, options=options,
    )  # fmt: skip
    value_map_line(integration.collection_a, "priority", {"high": "emea", "low": "americas"})
    value_map_line(integration.collection_b, LOCATION, {EMEA: "emea", AMERICAS: "americas"})
    integration.field_flows = {**integration.field_flows, "region": "both"}
    integration.save()
    return integration


def location(jira, key: str) -> tuple[str, str | None]:
    with jira.fake.lock:
        return jira.fake.issues[key].custom[LOCATION]


def test_a_parent_change_whose_child_the_new_parent_lacks_fails_with_50006E_until_a_child_fits(
    synced, jira
):
    item = new_item("alpha", "DEMO", "Office move", priority="high")
    run(synced)
    key = ArtifactPair.objects.get(a_artifact_id=str(item.pk)).b_artifact_id
    assert location(jira, key)[0] == EMEA
    with jira.fake.lock:  # someone in Jira picks the child: Berlin, which only EMEA has
        jira.fake.issues[key].custom[LOCATION] = (EMEA, BERLIN)

    change(item, priority="low")  # → Americas, which has no Berlin
    run(synced, rounds=1)
    failed = ArtifactActivity.objects.get(source_side="A", status="failed")
    assert failed.code == "CCRRTT-50006E"
    assert "Berlin" in failed.message
    assert location(jira, key) == (EMEA, BERLIN)  # nothing written

    with jira.fake.lock:  # London exists under both parents: the child can follow by its label
        jira.fake.issues[key].custom[LOCATION] = (EMEA, LONDON)
    ArtifactActivity.objects.filter(pk=failed.pk).update(next_retry_at=failed.created)
    run(synced)
    assert location(jira, key) == (AMERICAS, LONDON_US)
    assert not ArtifactActivity.objects.filter(status="failed").exists()
