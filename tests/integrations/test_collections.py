"""Collections: live projects with search and refresh, invalid projects and their replacement,
gateway and SQL collections."""

from django.urls import reverse

from activity.models import Blocker
from hub.models import ConfigurationChange
from integrations import services
from integrations.models import CollectionProject, FieldMapping, GatewayCollection, SqlCollection
from integrations.secrets import fingerprint
from integrations.snapshots import ElementType


def test_manage_projects_lists_the_repositorys_live_projects(admin_client, collections):
    html = admin_client.get(reverse("collection-projects", args=[collections[0].pk])).content.decode()
    assert "Demo" in html and "Operations" in html


def test_manage_projects_search_narrows_the_list(admin_client, collections):
    html = admin_client.get(
        reverse("collection-projects", args=[collections[0].pk]), {"q": "oper"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Operations" in html and "Demo" not in html


def test_picking_several_projects(admin_client, collections):
    collection = collections[0]
    admin_client.post(reverse("collection-projects", args=[collection.pk]), {"projects": ["DEMO", "OPS"]})
    assert sorted(collection.project_ids()) == ["DEMO", "OPS"]


def test_a_project_the_repository_does_not_have_cannot_be_picked(admin_client, collections):
    collection = collections[0]
    response = admin_client.post(
        reverse("collection-projects", args=[collection.pk]), {"projects": ["NOPE"]}, follow=True
    )
    assert "CCRRTT-1110E" in response.content.decode()
    assert collection.project_ids() == ["DEMO"]


def test_refresh_marks_a_vanished_project_invalid_and_blocks_its_integrations_with_1110E(
    admin_client, integration, trackers
):
    from connectors.local.models import LocalProject

    LocalProject.objects.filter(key="DEMO").update(key="GONE")
    collection = integration.collection_a
    response = admin_client.post(
        reverse("collection-projects", args=[collection.pk]), {"refresh": "1"}, follow=True
    )
    assert "CCRRTT-1110E" in response.content.decode()
    assert CollectionProject.objects.get(collection=collection, project_id="DEMO").invalid
    blocker = Blocker.objects.get(code="CCRRTT-1110E")
    assert blocker.integration_ids == [integration.pk]
    page = admin_client.get(reverse("collection-edit", args=[collection.pk])).content.decode()
    assert 'data-testid="invalid-project"' in page


def test_manage_invalid_projects_records_the_replacement(admin_client, integration, trackers):
    from connectors.local.models import LocalProject

    LocalProject.objects.filter(key="DEMO").update(key="DEMO2")
    collection = integration.collection_a
    admin_client.post(reverse("collection-projects", args=[collection.pk]), {"refresh": "1"})
    project = CollectionProject.objects.get(collection=collection, project_id="DEMO")
    admin_client.post(
        reverse("collection-invalid-projects", args=[collection.pk]),
        {"project": project.pk, "replacement": "DEMO2"},
    )
    project.refresh_from_db()
    assert (project.replacement_id, project.replacement_name) == ("DEMO2", "Demo")
    assert project.replaced_at is not None
    assert "being replaced" in Blocker.objects.get(code="CCRRTT-1110E").message


def test_a_project_that_comes_back_is_valid_again_on_refresh(admin_client, integration, trackers):
    collection = integration.collection_a
    collection.projects.update(invalid=True)
    admin_client.post(reverse("collection-projects", args=[collection.pk]), {"refresh": "1"})
    assert not collection.projects.filter(invalid=True).exists()
    assert not Blocker.objects.filter(code="CCRRTT-1110E").exists()


def test_a_collection_used_by_an_integration_cannot_be_deleted(admin_client, integration):
    collection = integration.collection_a
    response = admin_client.post(reverse("collection-delete", args=[collection.pk]), follow=True)
    assert "Alpha ↔ Beta" in response.content.decode()


def test_a_gateway_collections_token_is_shown_once_and_stored_sealed(admin_client, model, master_password):
    response = admin_client.post(reverse("gateway-collection-create"), {"name": "Inbound", "model": model.pk})
    html = response.content.decode()
    collection = GatewayCollection.objects.get(name="Inbound")
    token = collection.token.reveal()
    assert token in html
    assert collection.token_hash == fingerprint(token)
    assert (
        token
        not in admin_client.get(reverse("gateway-collection-edit", args=[collection.pk])).content.decode()
    )


def test_an_sql_collection_keeps_its_password_out_of_the_url(admin_client, master_password):
    response = admin_client.post(
        reverse("sql-collection-create"),
        {
            "name": "Reporting",
            "database_url": "postgres://hub:pw@db/reporting",
            "password": "",
            "table": "items",
        },
    )
    assert "Leave the password out of the URL" in response.content.decode()
    admin_client.post(
        reverse("sql-collection-create"),
        {
            "name": "Reporting",
            "database_url": "postgres://hub@db/reporting",
            "password": "pw",
            "table": "items",
        },
    )
    assert SqlCollection.objects.get(name="Reporting").password.reveal() == "pw"


def test_an_sql_collection_table_name_is_checked(admin_client, master_password):
    response = admin_client.post(
        reverse("sql-collection-create"),
        {"name": "R", "database_url": "postgres://hub@db/reporting", "table": "items; drop table x"},
    )
    assert "A table name" in response.content.decode()


def refresh(admin_client, collection):
    url = reverse("collection-projects", args=[collection.pk])
    return admin_client.post(url, {"refresh": "1"}, follow=True)


def test_refresh_finds_a_chosen_artifact_type_gone_and_blocks_with_1105E(admin_client, integration):
    collection = integration.collection_a
    collection.artifact_types = ["bug", "retired"]  # "retired" was deleted or renamed in the tracker
    collection.save()
    page = refresh(admin_client, collection).content.decode()
    assert "CCRRTT-1105E" in page and "no longer offers the artifact type(s) retired" in page
    blocker = Blocker.objects.get(code="CCRRTT-1105E")
    assert blocker.integration_ids == [integration.pk] and "“Alpha defects”" in blocker.message
    page = admin_client.get(reverse("collection-edit", args=[collection.pk])).content.decode()
    assert 'data-testid="project-problem"' in page

    collection.artifact_types = ["bug"]
    collection.save()
    refresh(admin_client, collection)
    assert not Blocker.objects.filter(code="CCRRTT-1105E").exists()


def test_refresh_finds_a_mapped_field_changed_since_it_was_mapped_with_1109E(admin_client, integration):
    collection = integration.collection_a
    [title] = [m for m in collection.mappings.all() if m.repository_fields == ["summary"]]
    FieldMapping.objects.filter(pk=title.pk).update(repository_field_types={"summary": "rich_text"})
    page = refresh(admin_client, collection).content.decode()
    assert "CCRRTT-1109E" in page and "summary is now string (it was rich_text)" in page
    blocker = Blocker.objects.get(code="CCRRTT-1109E")
    assert blocker.integration_ids == [integration.pk] and "outdated" in blocker.message


def test_the_api_shows_a_projects_problem_after_refresh(admin_client, integration):
    collection = integration.collection_a
    collection.artifact_types = ["bug", "retired"]
    collection.save()
    answer = admin_client.post(f"/api/v1/collections/{collection.pk}/refresh-projects/")
    assert answer.status_code == 200, answer.content
    [project] = answer.json()
    assert project["problem_code"] == "CCRRTT-1105E" and "retired" in project["problem"]


def test_the_x_removes_an_invalid_project_without_a_replacement(admin_client, integration, trackers):
    """Seed 2268: an invalid project with no valid replacement is removed with its "x"; its 1110E
    goes, the history records the change, and a valid project cannot be removed that way."""
    from connectors.local.models import LocalProject

    collection = integration.collection_a
    services.set_projects(
        collection, [*({"id": i, "name": i} for i in collection.project_ids()), {"id": "OPS", "name": "Ops"}]
    )
    LocalProject.objects.filter(key="DEMO").update(key="GONE")
    admin_client.post(reverse("collection-projects", args=[collection.pk]), {"refresh": "1"})
    gone = CollectionProject.objects.get(collection=collection, project_id="DEMO")
    ops = CollectionProject.objects.get(collection=collection, project_id="OPS")
    page = admin_client.get(reverse("collection-edit", args=[collection.pk])).content.decode()
    assert page.count('data-testid="remove-invalid-project"') == 1 and "may create duplicates" in page
    assert Blocker.objects.filter(code="CCRRTT-1110E").exists()

    refused = admin_client.post(reverse("collection-remove-invalid-project", args=[collection.pk, ops.pk]))
    assert refused.status_code == 404 and "OPS" in collection.project_ids()
    response = admin_client.post(
        reverse("collection-remove-invalid-project", args=[collection.pk, gone.pk]), follow=True
    )
    assert "may create duplicates" in response.content.decode()
    assert collection.project_ids() == ["OPS"]
    assert not Blocker.objects.filter(code="CCRRTT-1110E").exists()
    record = ConfigurationChange.objects.filter(element_type=ElementType.COLLECTION).latest("pk")
    assert "DEMO" in str(record.before) and "DEMO" not in str(record.after)
