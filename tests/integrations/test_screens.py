"""Every configuration screen renders for administrators and viewers; viewers cannot change anything."""

import pytest
from django.urls import reverse

from integrations.models import Repository


@pytest.fixture
def urls(integration, collections, model, repositories):
    a = collections[0]
    mapping = a.mappings.first()
    return [
        reverse("repositories"),
        reverse("repository-create") + "?kind=local",
        reverse("repository-edit", args=[repositories[0].pk]),
        reverse("models"),
        reverse("model-create"),
        reverse("model-edit", args=[model.pk]),
        reverse("collections"),
        reverse("collection-create"),
        reverse("collection-edit", args=[a.pk]),
        reverse("collection-projects", args=[a.pk]),
        reverse("collection-invalid-projects", args=[a.pk]),
        reverse("collection-mapping", args=[a.pk]),
        reverse("mapping-edit", args=[a.pk, mapping.pk]),
        reverse("gateway-collection-create"),
        reverse("sql-collection-create"),
        reverse("integrations"),
        reverse("integration-create"),
        reverse("integration-edit", args=[integration.pk]),
        reverse("history"),
        reverse("history-import"),
        reverse("api-tokens"),
    ]


def test_every_screen_renders_for_an_administrator(admin_client, urls):
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_every_screen_renders_for_a_viewer_without_change_buttons(viewer_client, urls):
    for url in urls:
        response = viewer_client.get(url)
        assert response.status_code == 200, url
        assert b">Save<" not in response.content, url
        assert b">Delete" not in response.content, url


def test_viewer_cannot_change_a_repository(viewer_client, repositories):
    response = viewer_client.post(
        reverse("repository-edit", args=[repositories[0].pk]), {"label": "Renamed", "url": "local://alpha"}
    )
    assert response.status_code == 403
    assert Repository.objects.get(pk=repositories[0].pk).label == "Alpha"


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_screens_do_not_query_per_row(admin_client, integration, repositories, model):
    from integrations.models import Integration, Route
    from tests.integrations.factories import mapped_collection

    names = ("repositories", "collections", "models", "integrations")
    Integration.objects.update(running=True)
    before = {name: _queries(admin_client, reverse(name)) for name in names}
    for number in range(3):
        repository = Repository.objects.create(label=f"More {number}", kind="local", url="local://alpha")
        other = type(model).objects.create(name=f"Model {number}")
        a = mapped_collection(f"More A {number}", repository, "DEMO", other)
        b = mapped_collection(f"More B {number}", repository, "OPS", other)
        more = Integration.objects.create(name=f"More {number}", collection_a=a, collection_b=b, running=True)
        Route.objects.create(integration=more, project_a="DEMO", project_b="OPS")
    after = {name: _queries(admin_client, reverse(name)) for name in names}
    assert after == before
