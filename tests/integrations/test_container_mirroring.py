"""Configuring a Container + Work Item integration's container mirroring (docs/containers.md) on
its page, through the API and by configuration import: the same settings are kept, and the same
wrong settings are refused with the catalog code, shown on the setting to change."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from integrations import snapshots, transfer
from integrations.models import ContainerMirroring, FieldMapping, Integration, ModelField
from tests.engine.test_containers import _map_parent as map_parent

API = "/api/v1"


@pytest.fixture
def tree(integration, model):
    """The factories' integration as Container + Work Item: a Container field "parent" mapped on
    both collections."""
    ModelField.objects.create(model=model, key="parent", label="Parent", type="container", position=9)
    for collection in (integration.collection_a, integration.collection_b):
        map_parent(collection)
    integration.style = Integration.Style.CONTAINER_WORK_ITEM
    integration.save()
    return integration


def screen_data(**changes) -> dict:
    data = {
        "container_types_a": "epic",
        "container_types_b": "epic",
        "parent_field": "parent",
        "matching": "off",
        "match_field": "title",
        "unmatched": "default",
        "default_type": "",
        "container-conditions-TOTAL_FORMS": "1",
        "container-conditions-INITIAL_FORMS": "0",
        "container-conditions-0-field": "",
        "container-conditions-0-operator": "equals",
        "container-conditions-0-value": "",
        "container-conditions-0-type": "",
    }
    return {**data, **changes}


def test_the_page_configures_container_types_matching_and_conditions(admin_client, tree):
    page = admin_client.get(reverse("integration-edit", args=[tree.pk])).content.decode()
    assert 'id="containers-form"' in page and "Shared Container Mirroring conditions" in page
    response = admin_client.post(
        reverse("integration-containers", args=[tree.pk]),
        screen_data(
            container_types_a="epic, story",
            matching="first",
            **{
                "container-conditions-0-field": "priority",
                "container-conditions-0-value": "high",
                "container-conditions-0-type": "feature",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    mirroring = ContainerMirroring.objects.get(integration=tree)
    assert mirroring.container_types_a == ["epic", "story"] and mirroring.matching == "first"
    assert mirroring.conditions == [
        {"field": "priority", "operator": "equals", "value": "high", "type": "feature"}
    ]
    # Recorded in history as a change of the integration, with its container mirroring.
    assert snapshots.snapshot("integration", tree)["container_mirroring"]["container_types_a"] == [
        "epic",
        "story",
    ]
    page = admin_client.get(reverse("integration-edit", args=[tree.pk])).content.decode()
    assert 'value="epic, story"' in page and 'value="feature"' in page


def test_the_page_shows_each_code_on_the_setting_at_fault(admin_client, tree):
    tree.creation_flow = Integration.Flow.BOTH
    tree.save()
    response = admin_client.post(
        reverse("integration-containers", args=[tree.pk]),
        screen_data(
            container_types_b="epic, story",
            **{
                "container-conditions-0-field": "due",  # in the model, mapped by neither collection
                "container-conditions-0-operator": "is_empty",
                "container-conditions-0-type": "feature",
            },
        ),
    )
    assert response.status_code == 200
    form = response.context["mirroring"]
    assert form.errors["container_types_b"][0].startswith("CCRRTT-50015E")
    assert "route creation toward side B only" in form.errors["container_types_b"][0]
    assert form.condition_errors[0].startswith("CCRRTT-50017E") and "“due”" in form.condition_errors[0]
    assert 'data-testid="container-condition-errors"' in response.content.decode()
    assert not ContainerMirroring.objects.filter(integration=tree).exists()


def test_the_api_reads_and_writes_the_container_mirroring(admin_client, tree):
    url = f"{API}/integrations/{tree.pk}/"
    assert admin_client.get(url).json()["container_mirroring"] is None
    settings = {
        "container_types_a": ["epic"],
        "container_types_b": ["epic"],
        "matching": "error",
        "match_field": "title",
    }
    response = admin_client.patch(url, {"container_mirroring": settings}, content_type="application/json")
    assert response.status_code == 200, response.content
    shown = response.json()["container_mirroring"]
    assert shown["matching"] == "error" and shown["parent_field"] == "parent" and shown["conditions"] == []
    response = admin_client.patch(url, {"container_mirroring": None}, content_type="application/json")
    assert response.status_code == 200 and response.json()["container_mirroring"] is None


def test_the_api_refuses_with_the_screens_codes_per_setting(admin_client, tree):
    url = f"{API}/integrations/{tree.pk}/"
    FieldMapping.objects.filter(collection=tree.collection_b, model_fields=["parent"]).update(
        transform="extension"
    )
    response = admin_client.patch(
        url,
        {"container_mirroring": {"container_types_a": ["epic"], "matching": "first"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = json.dumps(response.json())
    assert "CCRRTT-50019E" in errors and "matching" in errors
    flat = Integration.objects.create(
        name="Flat", collection_a=tree.collection_a, collection_b=tree.collection_b
    )
    response = admin_client.patch(
        f"{API}/integrations/{flat.pk}/", {"container_mirroring": {}}, content_type="application/json"
    )
    assert (
        response.status_code == 400
        and "Only a Container + Work Item integration" in response.content.decode()
    )
    assert not ContainerMirroring.objects.exists()
    created = {
        "name": "Tree",
        "style": "container_work_item",
        "collection_a": tree.collection_a.name,
        "collection_b": tree.collection_b.name,
        "creation_flow": "both",
        "conflict_strategy": "a_wins",
        "container_mirroring": {"container_types_a": ["epic", "story"]},
    }
    response = admin_client.post(f"{API}/integrations/", created, content_type="application/json")
    assert (
        response.status_code == 400
        and "CCRRTT-50015E" in response.json()["errors"]["container_mirroring.container_types_a"][0]
    )
    created["container_mirroring"] = {"container_types_a": ["epic"], "container_types_b": ["epic"]}
    response = admin_client.post(f"{API}/integrations/", created, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["container_mirroring"]["container_types_b"] == ["epic"]


def test_export_and_import_carry_the_container_mirroring_and_its_rules(tree):
    ContainerMirroring.objects.create(
        integration=tree,
        container_types_a=["epic"],
        container_types_b=["epic"],
        matching="first",
        match_field="title",
    )
    document = snapshots.snapshot("integration", tree)
    assert document["container_mirroring"]["matching"] == "first"
    ContainerMirroring.objects.all().delete()
    snapshots.apply("integration", document, tree)
    assert ContainerMirroring.objects.get(integration=tree).matching == "first"
    # An import runs the same rules: several container types with creation both ways is 50015E.
    tree.creation_flow = Integration.Flow.BOTH
    tree.save()
    bad = {**document, "creation_flow": "both"}
    bad["container_mirroring"] = {**document["container_mirroring"], "container_types_a": ["epic", "story"]}
    change = transfer.ExportedChange("update", "integration", tree.name, document, bad)
    result = transfer.apply_changes([change], user=None)
    assert "CCRRTT-50015E" in str(vars(result))
    assert ContainerMirroring.objects.get(integration=tree).container_types_a == ["epic"]


def test_the_page_names_the_container_types_each_side_offers_and_refuses_others(admin_client, tree):
    """Each side's container types say what its repository has (the local tracker: its item
    types, no versions); a type it does not have is refused on that side's setting, by the page
    and the API alike, naming what it offers."""
    page = admin_client.get(reverse("integration-edit", args=[tree.pk])).content.decode()
    assert "offers the artifact types Bug (bug), Story (story)" in page and "Epic (epic)" in page
    assert "not artifacts" not in page  # the local tracker has no containers such as versions
    response = admin_client.post(
        reverse("integration-containers", args=[tree.pk]), screen_data(container_types_b="epic, version")
    )
    form = response.context["mirroring"]
    assert form.errors["container_types_b"] == [
        f"“version”: not a container type of side B. “{tree.collection_b.name}” offers the artifact "
        "types Bug (bug), Story (story), Task (task), Epic (epic), Test case (test_case)."
    ]
    assert "container_types_a" not in form.errors and not ContainerMirroring.objects.exists()
    response = admin_client.patch(
        f"{API}/integrations/{tree.pk}/",
        {"container_mirroring": {"container_types_a": ["saga"], "container_types_b": ["epic"]}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert (
        "“saga”: not a container type of side A"
        in response.json()["errors"]["container_mirroring.container_types_a"][0]
    )
