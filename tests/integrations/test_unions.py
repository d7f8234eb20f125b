"""Artifact unions: several projects and artifact types of one repository as one source for
collections; what makes one invalid (CCRRTT-1114E), the license gate (CCRRTT-15013E), its screen."""

import pytest

from hub import licensing
from hub.models import ConfigurationChange
from integrations import snapshots, transfer, validation
from integrations.models import ArtifactUnion, RepositoryCollection
from integrations.unions import apply_union
from tests.hub.security_fixtures import license_body

PROJECTS = [{"id": "DEMO", "key": "DEMO", "name": "Demo"}, {"id": "OPS", "key": "OPS", "name": "Operations"}]


def problems() -> dict[str, str]:
    return {p.code: p.message for p in validation.validate()}


@pytest.fixture
def union(repositories):
    alpha, _ = repositories
    return ArtifactUnion.objects.create(
        name="Alpha work", repository=alpha, projects=PROJECTS, artifact_types=["bug", "story"]
    )


@pytest.fixture
def drawing(union, collections):
    """Collection A draws its projects and artifact types from the union."""
    a, _ = collections
    a.union = union
    a.save()
    apply_union(union)
    a.refresh_from_db()
    return a


@pytest.fixture
def unions_licensed(issue):
    features = {**license_body()["features"], "artifact_unions": True}
    return licensing.apply(issue(features=features))


def test_a_collection_drawing_from_a_union_gets_its_projects_and_artifact_types(drawing):
    assert drawing.project_ids() == ["DEMO", "OPS"]
    assert drawing.artifact_types == ["bug", "story"]


def test_a_valid_union_under_a_license_that_includes_unions_has_no_problem(drawing, unions_licensed):
    found = problems()
    assert "CCRRTT-1114E" not in found and "CCRRTT-15013E" not in found


def test_a_union_of_one_project_and_one_type_is_invalid_1114E(union):
    union.projects, union.artifact_types = PROJECTS[:1], ["bug"]
    union.save()
    message = problems()["CCRRTT-1114E"]
    assert "“Alpha work” is invalid" in message and "add a second project or artifact type" in message


def test_a_union_without_projects_is_invalid_1114E(union):
    union.projects = []
    union.save()
    assert "combines no project" in problems()["CCRRTT-1114E"]


def test_a_collection_of_another_repository_drawing_from_the_union_is_invalid_1114E(union, collections):
    _, b = collections
    b.union = union
    b.save()
    assert "“Beta defects” draws from it but belongs to another repository" in problems()["CCRRTT-1114E"]


def test_mappings_over_a_union_the_license_does_not_include_raise_15013E(drawing, licensed):
    message = problems()["CCRRTT-15013E"]
    assert "“Alpha defects” maps fields of the artifact union “Alpha work”" in message


def post_union(client, name, repository, projects_text, artifact_types_text, *, follow=False, **more):
    """The union screen's form, posted as an administrator would fill it in."""
    fields = {"name": name, "repository": repository, "projects_text": projects_text}
    fields |= {"artifact_types_text": artifact_types_text, **more}
    return client.post("/collections/unions/new/", fields, follow=follow)


def test_the_union_screen_creates_a_union_and_names_what_is_invalid(admin_client, repositories):
    alpha, _ = repositories
    response = post_union(admin_client, "Just one", alpha.pk, "DEMO: Demo", "bug", follow=True)
    union = ArtifactUnion.objects.get(name="Just one")
    assert union.projects == [{"id": "DEMO", "key": "DEMO", "name": "Demo"}]
    page = response.content.decode()
    assert "CCRRTT-1114E" in page and "add a second project or artifact type" in page
    listing = admin_client.get("/collections/unions/").content.decode()
    assert "Just one" in listing


def test_a_viewer_cannot_change_a_union(viewer_client, union):
    response = viewer_client.post(f"/collections/unions/{union.pk}/", {"name": "Renamed"})
    assert response.status_code == 403
    assert ArtifactUnion.objects.get(pk=union.pk).name == "Alpha work"


# --- configuration export / import ---------------------------------------------------------------


def test_a_union_and_the_collections_drawing_from_it_survive_an_export_and_import(admin_client, collections):
    a, _ = collections
    projects, types = "DEMO: Demo\nOPS: Operations", "bug\nstory"
    response = post_union(admin_client, "Alpha work", a.repository_id, projects, types, drawing=[a.pk])
    assert response.status_code == 302
    before = snapshots.snapshot("artifact union", ArtifactUnion.objects.get())
    assert before["collections"] == ["Alpha defects"]
    data = transfer.export(ConfigurationChange.objects.filter(element_type="artifact union"))
    RepositoryCollection.objects.update(union=None)
    ArtifactUnion.objects.all().delete()

    result = transfer.apply_changes(transfer.read_zip(data), user=None)
    assert result.failed is None, result.reason
    union = ArtifactUnion.objects.get(name="Alpha work")
    assert snapshots.snapshot("artifact union", union) == before
    a.refresh_from_db()
    assert a.union == union and a.project_ids() == ["DEMO", "OPS"] and a.artifact_types == ["bug", "story"]


def test_an_imported_union_naming_a_collection_this_instance_lacks_stops_with_17031E(union):
    data = snapshots.snapshot("artifact union", union) | {"name": "Elsewhere", "collections": ["Nowhere"]}
    change = transfer.ExportedChange("create", "artifact union", "Elsewhere", None, data)
    result = transfer.apply_changes([change], user=None)
    assert "CCRRTT-17031E" in result.reason and "Nowhere" in result.reason
    assert not ArtifactUnion.objects.filter(name="Elsewhere").exists()


# --- 1105E / 1109E: the user action names the union a collection's projects come from ------------


@pytest.mark.parametrize("code", ["CCRRTT-1105E", "CCRRTT-1109E"])
def test_a_project_problem_of_a_collection_drawing_from_a_union_points_to_the_union(drawing, code):
    project = drawing.projects.get(project_id="OPS")
    project.problem_code, project.problem = code, "the repository no longer offers the artifact type(s) story"
    project.save()
    [problem] = [p for p in validation.validate() if p.code == code]
    assert "comes from the artifact union “Alpha work”" in problem.message
    assert "remove the project from the artifact union" in problem.message
    assert {
        "label": "Artifact union Alpha work",
        "url": f"/collections/unions/{drawing.union_id}/",
    } in problem.related


def test_a_project_problem_of_a_collection_of_its_own_keeps_the_collections_user_action(collections):
    a, _ = collections
    project = a.projects.first()
    project.problem_code, project.problem = "CCRRTT-1105E", "gone"
    project.save()
    [problem] = [p for p in validation.validate() if p.code == "CCRRTT-1105E"]
    assert "artifact union" not in problem.message and "remove the project." in problem.message
