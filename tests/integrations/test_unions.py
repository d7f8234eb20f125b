"""Artifact unions: several projects and artifact types of one repository as one source for
collections; what makes one invalid (CCRRTT-1114E), the license gate (CCRRTT-15013E), its screen."""

import pytest

from hub import licensing
from integrations import validation
from integrations.models import ArtifactUnion
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


def test_the_union_screen_creates_a_union_and_names_what_is_invalid(admin_client, repositories):
    alpha, _ = repositories
    response = admin_client.post(
        "/collections/unions/new/",
        {
            "name": "Just one",
            "repository": alpha.pk,
            "projects_text": "DEMO: Demo",
            "artifact_types_text": "bug",
        },
        follow=True,
    )
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
