"""CCRRTT-1111E: the kind of high-level container a collection's project was chosen as under Manage
Projects has changed in the repository (the tool now lists it as a folder, not a project). Refresh
blocks the integrations with 1111E; saving the selection again accepts the new kind and, as the
catalog says, removes the routing of that project, to be set up again."""

import dataclasses

import pytest
from django.urls import reverse

from activity.models import Blocker
from connectors.local.connector import LocalConnector
from integrations.models import CollectionProject, Route
from tests.integrations.test_collections import refresh

pytestmark = pytest.mark.django_db


def test_a_project_listed_as_another_kind_of_container_blocks_with_1111E_until_chosen_again(
    admin_client, integration, monkeypatch
):
    collection = integration.collection_a
    refresh(admin_client, collection)  # records the kind it was chosen as (a project)
    assert CollectionProject.objects.get(collection=collection, project_id="DEMO").kind == "project"
    assert not Blocker.objects.filter(code="CCRRTT-1111E").exists()

    listed = LocalConnector.list_projects
    monkeypatch.setattr(
        LocalConnector,
        "list_projects",
        lambda self: [dataclasses.replace(p, kind="folder") for p in listed(self)],
    )
    page = refresh(admin_client, collection).content.decode()
    assert "CCRRTT-1111E" in page and "chosen as a project" in page and "now lists it as a folder" in page
    blocker = Blocker.objects.get(code="CCRRTT-1111E")
    assert blocker.integration_ids == [integration.pk]
    assert Route.objects.filter(integration=integration).exists()  # nothing removed before the user acts

    admin_client.post(reverse("collection-projects", args=[collection.pk]), {"projects": ["DEMO"]})
    assert CollectionProject.objects.get(collection=collection, project_id="DEMO").kind == "folder"
    assert not Route.objects.filter(integration=integration, project_a="DEMO").exists()
    refresh(admin_client, collection)
    assert not Blocker.objects.filter(code="CCRRTT-1111E").exists()


def test_refreshing_through_the_api_with_a_repository_url_hub_cannot_use_is_a_409_not_a_502(
    admin_client, integration
):
    """Found by the API contract run: Hub's own unusable setting is not the tool's failure."""
    from integrations.models import Repository

    Repository.objects.filter(pk=integration.collection_a.repository_id).update(url="local://Not A Tracker")
    response = admin_client.post(f"/api/v1/collections/{integration.collection_a.pk}/refresh-projects/")
    assert response.status_code == 409 and response.json()["code"] == "CCRRTT-61103E"
