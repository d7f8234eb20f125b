"""/api/v1/ answers with its endpoints and where the OpenAPI document and its rendered docs are;
the console links them, and the API tokens page, from where a person looks for them."""

import pytest
from django.test import Client

from hub import api_tokens
from integrations.api.urls import router
from tests.integrations.test_api import Api

pytestmark = pytest.mark.django_db


def test_the_root_lists_every_endpoint_and_links_the_openapi_document_and_docs(viewer):
    response = Api(api_tokens.create_token(viewer, "root")[1]).get("/")
    assert response.status_code == 200
    body = response.json()
    urls = {endpoint["url"] for endpoint in body["endpoints"]}
    assert "/api/v1/integrations/" in urls and "/api/v1/collections/{collection_pk}/mappings/" in urls
    assert len(urls) == len(router.registry)
    assert (body["openapi"], body["docs"]) == ("/api/v1/schema/", "/api/v1/docs/")


def test_the_root_needs_a_token_or_a_sign_in_like_every_endpoint():
    response = Client().get("/api/v1/")
    assert response.status_code in (401, 403) and response["Content-Type"].startswith("application/json")


def test_the_rendered_docs_list_each_operation_and_link_the_document(admin_client):
    body = admin_client.get("/api/v1/docs/").content.decode()
    assert "/api/v1/integrations/{id}/" in body and "<code>DELETE</code>" in body
    assert 'href="/api/v1/schema/?format=json"' in body


def test_the_rendered_docs_need_a_sign_in():
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_user_menu_links_the_api_tokens(admin_client):
    body = admin_client.get("/").content.decode()
    assert 'href="/account/api-tokens/"' in body


def test_help_links_the_index_of_error_codes(admin_client):
    body = admin_client.get("/help/").content.decode()
    assert 'href="/help/errors/"' in body
    assert admin_client.get("/help/errors/").status_code == 200
