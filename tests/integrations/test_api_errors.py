"""Every error under /api/v1/ is JSON of one shape — {code, message, errors} — with the catalog code
where one fits, and the OpenAPI document describes it on every operation (hub.api)."""

import json

import pytest
from django.test import Client

from hub import api_tokens
from integrations.models import Model, Repository
from tests.integrations.test_api import API, Api, build


@pytest.fixture
def api(administrator, trackers, master_password):
    return Api(api_tokens.create_token(administrator, "errors")[1])


def shape(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert set(body) == {"code", "message", "errors"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    return body


def test_a_non_integer_id_is_a_json_404_with_30001E(api):
    response = api.get("/repositories/abc/")
    assert response.status_code == 404
    assert shape(response)["code"] == "CCRRTT-30001E"


def test_an_unknown_path_under_the_api_is_a_json_404(api):
    response = api.get("/no-such-thing/")
    assert response.status_code == 404 and shape(response)["code"] == "CCRRTT-30001E"


def test_an_unknown_id_is_a_json_404_with_30001E(api):
    response = api.get("/models/987654/")
    assert response.status_code == 404 and shape(response)["code"] == "CCRRTT-30001E"


def test_a_refused_field_is_named_in_errors_with_30002E(api):
    response = api.post("/models/", {"description": "no name"})
    body = shape(response)
    assert response.status_code == 400 and body["code"] == "CCRRTT-30002E"
    assert list(body["errors"]) == ["name"] and "name" in body["message"]


def test_nested_field_errors_have_dotted_paths(api):
    response = api.post("/models/", {"name": "M", "model_fields": [{"label": "No id", "type": "string"}]})
    assert response.status_code == 400
    assert "model_fields.0.id" in shape(response)["errors"]


def test_a_body_that_is_not_json_is_refused_with_30004E(api):
    response = api.client.post(API + "/models/", "{not json", content_type="application/json", **api.headers)
    assert response.status_code == 400 and shape(response)["code"] == "CCRRTT-30004E"


def test_json_nested_100000_deep_is_refused_not_a_server_error(api):
    body = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api.client.post(API + "/models/", body, content_type="application/json", **api.headers)
    assert response.status_code == 400
    assert shape(response)["code"] == "CCRRTT-30004E" and "deeper than" in response.json()["message"]
    assert not Model.objects.exists()


def test_nan_is_not_a_json_number(api):
    body = '{"label": "R", "kind": "local", "url": "local://alpha", "timeout": NaN}'
    response = api.client.post(API + "/repositories/", body, content_type="application/json", **api.headers)
    assert response.status_code == 400 and shape(response)["code"] == "CCRRTT-30004E"


def test_a_body_over_the_limit_is_413_with_30007E(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "M", "description": "x" * 20_000})
    response = api.client.post(API + "/models/", body, content_type="application/json", **api.headers)
    assert response.status_code == 413 and shape(response)["code"] == "CCRRTT-30007E"


def test_an_unknown_connector_kind_is_refused_with_30003E(api):
    response = api.post("/repositories/", {"label": "R", "kind": "nonexistent", "url": "http://x.example"})
    body = shape(response)
    assert response.status_code == 400 and body["code"] == "CCRRTT-30003E" and "kind" in body["errors"]


def test_without_credentials_the_answer_is_401_in_the_shape(db):
    response = Client().get(API + "/models/")
    assert response.status_code == 401 and shape(response)["code"] is None
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_viewer_changing_something_gets_403_in_the_shape(viewer):
    viewer_api = Api(api_tokens.create_token(viewer, "v")[1])
    response = viewer_api.post("/models/", {"name": "M"})
    assert response.status_code == 403 and shape(response)


def test_deleting_an_element_in_use_is_409(api):
    build(api)
    repository = api.get("/repositories/").json()[0]
    response = api.delete(f"/repositories/{repository['id']}/")
    assert response.status_code == 409 and "Alpha defects" in shape(response)["message"]


def test_an_unexpected_failure_is_a_json_500_with_30000E(api, monkeypatch):
    from integrations import services

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    repository = Repository.objects.create(label="R", kind="local", url="local://alpha")
    monkeypatch.setattr(services, "test_connection", broken)
    response = api.post(f"/repositories/{repository.pk}/test-connection/")
    assert response.status_code == 500 and shape(response)["code"] == "CCRRTT-30000E"
    assert "boom" not in response.content.decode()  # the details go to the log, not to the caller


def test_location_of_a_created_element_is_its_own_api_url(api):
    response = api.post("/repositories/", {"label": "R", "kind": "local", "url": "local://alpha"})
    assert response.status_code == 201
    assert response["Location"] == f"{API}/repositories/{response.json()['id']}/"


def test_location_of_a_created_gateway_collection_is_its_own_api_url(api):
    Model.objects.create(name="M")
    response = api.post("/gateway-collections/", {"name": "G", "model": "M"})
    assert response["Location"] == f"{API}/gateway-collections/{response.json()['id']}/"


def test_every_operation_documents_the_error_answers(administrator):
    token = api_tokens.create_token(administrator, "schema")[1]
    schema = Client().get(API + "/schema/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "message", "errors"}
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) > 30
    for operation in operations:
        for status in ("400", "401", "403", "404", "409", "413", "429"):
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, operation["operationId"]
