"""The OpenAPI document at /api/v1/schema/ describes the API as it is: it validates, names every
route, and its response schemas carry every field the API actually answers with."""

import json
import re

import pytest
from django.test import Client
from django.urls import get_resolver

from hub import api_tokens
from tests.integrations.test_api import Api, build


@pytest.fixture
def schema(administrator):
    client = Client()
    token = api_tokens.create_token(administrator, "schema")[1]
    response = client.get("/api/v1/schema/", {"format": "json"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_a_valid_openapi_document(schema):
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_the_schema_is_generated_without_warnings(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache


def test_every_api_route_is_in_the_schema(schema):
    from integrations.api.urls import router

    documented = set(schema["paths"])
    for url in router.urls:
        route = "/api/v1/" + re.sub(r"<int:(\w+)>", r"{\1}", str(url.pattern)).replace("{pk}", "{id}")
        assert route in documented, route
    assert get_resolver()  # the URLconf loads


def _properties(schema, name):
    return set(schema["components"]["schemas"][name]["properties"])


def test_response_schemas_name_every_field_the_api_answers_with(schema, api_user_api):
    integration = build(api_user_api)
    assert set(integration) == _properties(schema, "Integration")
    repository = api_user_api.get("/repositories/").json()[0]
    assert set(repository) == _properties(schema, "Repository")
    model = api_user_api.get("/models/").json()[0]
    assert set(model) == _properties(schema, "Model")
    collection = api_user_api.get("/collections/").json()[0]
    assert set(collection) == _properties(schema, "RepositoryCollection")
    mapping = api_user_api.get(f"/collections/{collection['id']}/mappings/").json()[0]
    assert set(mapping) == _properties(schema, "FieldMapping")
    state = api_user_api.get(f"/integrations/{integration['id']}/state/").json()
    assert set(state) == _properties(schema, "State")


@pytest.fixture
def api_user_api(administrator, trackers, master_password):
    return Api(api_tokens.create_token(administrator, "shape")[1])
