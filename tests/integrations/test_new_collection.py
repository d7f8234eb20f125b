"""The new-collection screen takes everything in the order an administrator gives it: name,
repository and model, then the projects from the repository's live list, then the artifact types
those projects have — saved at once."""

import re

from django.urls import reverse

from integrations.models import RepositoryCollection


def choices(client, **params) -> str:
    response = client.get(reverse("collection-choices"), params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_choosing_the_repository_lists_its_live_projects(admin_client, repositories):
    html = choices(admin_client, repository=repositories[0].pk)
    assert 'value="DEMO"' in html and 'value="OPS"' in html
    assert "Tick a project to see its artifact types" in html


def test_ticking_a_project_lists_its_artifact_types(admin_client, repositories):
    html = choices(admin_client, repository=repositories[0].pk, projects="DEMO")
    assert 'name="artifact_types"' in html and 'value="bug"' in html
    ticked = re.findall(r'<input type="checkbox" name="projects" value="(\w+)"[^>]*checked', html)
    assert ticked == ["DEMO"]


def test_a_new_collection_is_saved_with_its_projects_and_artifact_types_at_once(
    admin_client, repositories, model
):
    response = admin_client.post(
        reverse("collection-create"),
        {
            "name": "Alpha defects",
            "repository": repositories[0].pk,
            "model": model.pk,
            "projects": ["DEMO"],
            "artifact_types": ["bug"],
            "query": "",
        },
    )
    assert response.status_code == 302, response.content.decode()
    collection = RepositoryCollection.objects.get(name="Alpha defects")
    assert collection.project_ids() == ["DEMO"] and collection.artifact_types == ["bug"]


def test_a_project_the_repository_does_not_have_is_refused(admin_client, repositories, model):
    response = admin_client.post(
        reverse("collection-create"),
        {"name": "X", "repository": repositories[0].pk, "model": model.pk, "projects": ["NOPE"]},
    )
    assert response.status_code == 200 and "projects" in response.context["form"].errors
    assert not RepositoryCollection.objects.exists()


def test_the_new_collection_screen_reloads_the_choices_when_the_repository_changes(
    admin_client, repositories
):
    html = admin_client.get(reverse("collection-create")).content.decode()
    assert 'id="collection-choices"' in html and reverse("collection-choices") in html
