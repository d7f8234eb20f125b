"""The JSON API under /api/v1/: the same integration the screens build, the same validation and
codes, token authentication without session or CSRF, viewers read-only, secrets write-only."""

import pytest
from django.test import Client

from activity.blockers import blocks_integration
from hub import api_tokens
from integrations.models import Integration, Repository

API = "/api/v1"


class Api:
    def __init__(self, token: str):
        self.client = Client(enforce_csrf_checks=True)
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path):
        return self.client.get(API + path, **self.headers)

    def post(self, path, data=None):
        return self.client.post(API + path, data or {}, content_type="application/json", **self.headers)

    def patch(self, path, data):
        return self.client.patch(API + path, data, content_type="application/json", **self.headers)

    def delete(self, path):
        return self.client.delete(API + path, **self.headers)


@pytest.fixture
def api(administrator, trackers, master_password):
    return Api(api_tokens.create_token(administrator, "tests")[1])


@pytest.fixture
def viewer_api(viewer):
    return Api(api_tokens.create_token(viewer, "viewer tests")[1])


def build(api) -> dict:
    """The integration of the browser test, through the API."""
    for label, url in (("Alpha", "local://alpha"), ("Beta", "local://beta")):
        response = api.post("/repositories/", {"label": label, "kind": "local", "url": url})
        assert response.status_code == 201, response.json()
    response = api.post(
        "/models/",
        {
            "name": "Defect",
            "model_fields": [
                {"id": "title", "label": "Title", "type": "string", "required": True},
                {
                    "id": "priority",
                    "label": "Priority",
                    "type": "single_select",
                    "options": [{"id": "high", "label": "High"}, {"id": "low", "label": "Low"}],
                },
            ],
        },
    )
    assert response.status_code == 201, response.json()
    for name, repository, project in (("Alpha defects", "Alpha", "DEMO"), ("Beta defects", "Beta", "WEB")):
        response = api.post(
            "/collections/",
            {
                "name": name,
                "repository": repository,
                "model": "Defect",
                "projects": [{"id": project}],
                "artifact_types": ["bug"],
            },
        )
        assert response.status_code == 201, response.json()
        collection = response.json()["id"]
        for line in (
            {
                "repository_fields": ["summary"],
                "model_fields": ["title"],
                "direction": "both",
                "transform": "copy",
            },
            {
                "repository_fields": ["priority"],
                "model_fields": ["priority"],
                "direction": "both",
                "transform": "value_map",
                "params": {
                    "to_model": {"high": "high", "urgent": "high"},
                    "to_model_default": "low",
                    "to_repository": {"high": "high", "low": "low"},
                },
            },
        ):
            response = api.post(f"/collections/{collection}/mappings/", line)
            assert response.status_code == 201, response.json()
    response = api.post(
        "/integrations/",
        {
            "name": "Alpha ↔ Beta",
            "style": "work_item_sync",
            "collection_a": "Alpha defects",
            "collection_b": "Beta defects",
            "creation_flow": "both",
            "conflict_strategy": "a_wins",
            "routes": [{"project_a": "DEMO", "project_b": "WEB", "direction": "both"}],
            "field_flows": {"title": "both", "priority": "a_to_b"},
            "filters": {
                "combine": "and",
                "applies_to": "creation",
                "conditions": [{"field": "priority", "operator": "in", "value": ["high", "low"]}],
            },
            "comment_flow": {"a_to_b": {"enabled": True, "internal": "skip"}},
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_api_builds_and_runs_the_same_integration_as_the_screens(api):
    integration = build(api)
    assert integration["blockers"] == [] and integration["state"] == "stopped"
    state = api.post(f"/integrations/{integration['id']}/run/").json()
    assert state["state"] == "running"
    assert api.get(f"/integrations/{integration['id']}/state/").json()["state"] == "running"
    assert api.post(f"/integrations/{integration['id']}/stop/").json()["state"] == "stopped"


def test_api_changes_are_recorded_in_history_as_api_changes(api):
    from hub.models import ConfigurationChange

    build(api)
    assert ConfigurationChange.objects.filter(
        source="api", element_type="integration", username="ada"
    ).exists()
    assert ConfigurationChange.objects.filter(source="api", element_type="mapping").count() == 4


def test_the_api_reports_blockers_with_the_screens_codes(api):
    integration = build(api)
    response = api.patch(f"/integrations/{integration['id']}/", {"routes": [], "conflict_strategy": ""})
    codes = sorted(b["code"] for b in response.json()["blockers"])
    assert codes == ["CCRRTT-1401E", "CCRRTT-17007E"]
    assert blocks_integration(integration["id"])
    refused = api.post(f"/integrations/{integration['id']}/run/")
    assert refused.status_code == 409
    body = refused.json()
    assert "cannot run" in body["message"] and "CCRRTT-1401E" in body["message"]
    assert sorted(b.split(":")[0] for b in body["errors"]["blockers"]) == ["CCRRTT-1401E", "CCRRTT-17007E"]
    assert api.get(f"/integrations/{integration['id']}/state/").json()["state"] == "stopped"


def test_collections_of_different_models_give_1403E(api):
    integration = build(api)
    api.post(
        "/models/", {"name": "Story", "model_fields": [{"id": "title", "label": "Title", "type": "string"}]}
    )
    collections = api.get("/collections/").json()
    api.patch(f"/collections/{collections[1]['id']}/", {"model": "Story"})
    codes = {b["code"] for b in api.get(f"/integrations/{integration['id']}/").json()["blockers"]}
    assert "CCRRTT-1403E" in codes


def test_a_filter_on_a_missing_field_gives_1409E_and_a_flow_on_one_gives_17005E(api):
    integration = build(api)
    response = api.patch(
        f"/integrations/{integration['id']}/",
        {
            "filters": {"conditions": [{"field": "severity", "operator": "equals", "value": "x"}]},
            "field_flows": {"title": "both", "severity": "a_to_b"},
        },
    )
    codes = {b["code"] for b in response.json()["blockers"]}
    assert {"CCRRTT-1409E", "CCRRTT-17005E"} <= codes


def test_a_mapping_whose_transform_does_not_fit_is_refused_with_17002E(api):
    build(api)
    collection = api.get("/collections/").json()[0]["id"]
    response = api.post(
        f"/collections/{collection}/mappings/",
        {"repository_fields": ["due_date"], "model_fields": ["title"], "transform": "copy"},
    )
    assert response.status_code == 400 and "CCRRTT-17002E" in str(response.json())


def test_choosing_a_project_the_repository_lacks_is_refused_with_1110E(api):
    build(api)
    response = api.post("/collections/", {"name": "X", "repository": "Alpha", "projects": [{"id": "NOPE"}]})
    assert response.status_code == 400 and "CCRRTT-1110E" in str(response.json())


def test_a_proxy_location_that_is_not_a_url_is_refused_with_61103E(api):
    from tests.integrations import probe  # noqa: F401

    response = api.post(
        "/repositories/",
        {"label": "P", "kind": "probe", "url": "http://x", "use_proxy": True, "proxy_url": "proxy.pac"},
    )
    assert response.status_code == 400 and "CCRRTT-61103E" in str(response.json())


def test_secrets_are_write_only(api):
    response = api.post(
        "/repositories/", {"label": "S", "kind": "local", "url": "local://alpha", "password": "pw-1"}
    )
    body = response.json()
    assert body["password"] is True and "pw-1" not in response.content.decode()
    assert Repository.objects.get(label="S").password.reveal() == "pw-1"
    listed = api.get("/repositories/").content.decode()
    assert "pw-1" not in listed and Repository.objects.get(label="S").password.token not in listed


def test_a_gateway_collections_token_is_answered_only_on_creation(api):
    build(api)
    created = api.post("/gateway-collections/", {"name": "Inbound", "model": "Defect"}).json()
    assert len(created["token"]) > 20
    assert "token" not in api.get(f"/gateway-collections/{created['id']}/").json()


def test_deleting_a_repository_in_use_is_refused(api):
    build(api)
    repository = api.get("/repositories/").json()[0]
    response = api.delete(f"/repositories/{repository['id']}/")
    assert response.status_code == 409 and "Alpha defects" in response.json()["message"]


def test_test_connection_through_the_api(api):
    build(api)
    repository = api.get("/repositories/").json()[0]
    assert api.post(f"/repositories/{repository['id']}/test-connection/").json()["ok"] is True


def test_a_viewers_token_reads_but_cannot_change(api, viewer_api):
    integration = build(api)
    assert viewer_api.get("/integrations/").status_code == 200
    assert viewer_api.post(f"/integrations/{integration['id']}/run/").status_code == 403
    assert viewer_api.post("/models/", {"name": "M"}).status_code == 403
    assert viewer_api.delete(f"/integrations/{integration['id']}/").status_code == 403
    assert Integration.objects.get(pk=integration["id"]).running is False


def test_unauthenticated_requests_get_401_json_not_a_login_page(db):
    response = Client().get(API + "/integrations/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"]


def test_a_revoked_token_is_refused(administrator, db):
    record, token = api_tokens.create_token(administrator, "old")
    api_tokens.revoke(record)
    assert Api(token).get("/integrations/").status_code == 401


def test_a_token_needs_no_session_nor_csrf(api):
    response = api.post("/models/", {"name": "No CSRF needed"})
    assert response.status_code == 201


def test_a_session_without_csrf_token_cannot_change(administrator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    assert client.get(API + "/models/").status_code == 200
    assert client.post(API + "/models/", {"name": "M"}, content_type="application/json").status_code == 403
