"""The console's forms for the Gateway: a Gateway integration is created and edited on its own form
(no routes, filters or field flow), which refuses what the validator would block with the same
codes; the gateway collection form takes a payload transformation and the Relationship Field
Configuration."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import GatewayCollection, Integration, Model, ModelField
from tests.integrations.factories import mapped_collection

pytestmark = pytest.mark.django_db


def create(admin_client, **data):
    return admin_client.post(reverse("integration-create"), {"style": "gateway", **data})


def test_the_create_page_offers_the_gateway_style_and_its_fields(admin_client, gateway):
    html = admin_client.get(reverse("integration-create") + "?style=gateway").content.decode()
    assert "New Gateway" in html and 'name="gateway_collection"' in html and 'name="key_identifier"' in html
    assert 'name="collection_a"' not in html and 'name="conflict_strategy"' not in html
    listing = admin_client.get(reverse("integrations")).content.decode()
    assert "?style=gateway" in listing and "?style=enterprise_data_stream" in listing


def test_a_gateway_integration_is_created_on_its_form(admin_client, gateway):
    gateway.integration.delete()
    response = create(
        admin_client,
        name="CI → Beta again",
        gateway_collection=gateway.collection.pk,
        collection_b=gateway.target.pk,
    )
    integration = Integration.objects.get(name="CI → Beta again")
    assert response.status_code == 302 and response.url == reverse("integration-edit", args=[integration.pk])
    assert integration.style == "gateway" and integration.gateway_collection == gateway.collection
    page = admin_client.get(response.url).content.decode()
    assert "Gateway collection (source)" in page and "Routes" not in page


@pytest.mark.parametrize(
    "chosen, code",
    [
        ({"twinless_update": "on"}, "CCRRTT-1410E"),
        ({"twinless_update": "on", "key_identifier": "due"}, "CCRRTT-1416E"),
    ],
    ids=["no-key", "key-not-a-string"],
)
def test_the_form_refuses_a_twinless_update_without_a_usable_key(admin_client, gateway, chosen, code):
    response = create(
        admin_client,
        name="Twinless",
        gateway_collection=gateway.collection.pk,
        collection_b=gateway.target.pk,
        **chosen,
    )
    assert response.status_code == 200 and code in response.content.decode()
    assert not Integration.objects.filter(name="Twinless").exists()


def test_the_form_refuses_a_target_mapped_to_another_model(admin_client, gateway, repositories):
    other = Model.objects.create(name="Story")
    ModelField.objects.create(model=other, key="title", label="Title", type="string", position=0)
    elsewhere = mapped_collection("Alpha stories", repositories[0], "DEMO", other)
    response = create(
        admin_client, name="Wrong", gateway_collection=gateway.collection.pk, collection_b=elsewhere.pk
    )
    assert "CCRRTT-1403E" in response.content.decode()


def test_editing_saves_the_key_identifier_and_keeps_the_style(admin_client, gateway):
    url = reverse("integration-edit", args=[gateway.integration.pk])
    response = admin_client.post(
        url,
        {
            "name": gateway.integration.name,
            "style": "enterprise_data_stream",
            "twinless_update": "on",
            "key_identifier": "key",
            "gateway_collection": gateway.collection.pk,
            "collection_b": gateway.target.pk,
        },
    )
    assert response.status_code == 302
    gateway.integration.refresh_from_db()
    assert gateway.integration.style == "gateway"
    assert gateway.integration.twinless_update and gateway.integration.key_identifier == "key"


@pytest.fixture
def linked_model(model):
    ModelField.objects.create(model=model, key="fixes", label="Fixes", type="relationship", position=5)
    return model


def test_the_relationship_field_configuration_names_a_repository_per_relationship_field(
    admin_client, linked_model, repositories, master_password
):
    url = reverse("gateway-collection-create")
    fragment = admin_client.get(url, {"model": linked_model.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert "Relationship Field Configuration" in fragment and "“Fixes” points to" in fragment
    refused = admin_client.post(url, {"name": "Commits", "model": linked_model.pk})
    assert "CCRRTT-20004E" in refused.content.decode() and not GatewayCollection.objects.exists()
    admin_client.post(
        url, {"name": "Commits", "model": linked_model.pk, "relationship_fixes": repositories[1].pk}
    )
    assert GatewayCollection.objects.get().relationship_repositories == {"fixes": repositories[1].pk}


def test_a_gateway_collection_without_a_model_is_refused_with_20005E(admin_client, master_password):
    response = admin_client.post(reverse("gateway-collection-create"), {"name": "Nothing"})
    assert "CCRRTT-20005E" in response.content.decode()


def test_the_payload_transformation_is_chosen_among_payload_extensions(admin_client, gateway, make_extension):
    payloads = make_extension(
        "GitHub", "function transformPayload(p) { return []; }", type="payload_transformation"
    )
    make_extension("Not this", "function transform(c, i) { return i; }")
    url = reverse("gateway-collection-edit", args=[gateway.collection.pk])
    html = admin_client.get(url).content.decode()
    assert "GitHub" in html and "Not this" not in html
    admin_client.post(
        url, {"name": gateway.collection.name, "model": gateway.collection.model_id, "extension": payloads.pk}
    )
    gateway.collection.refresh_from_db()
    assert gateway.collection.extension == payloads


def test_without_the_license_feature_a_payload_transformation_is_refused_with_20006E(
    admin_client, gateway, make_extension, issue
):
    from hub import licensing

    licensing.apply(issue(features={"integration_styles": ["*"], "connector_kinds": ["*"]}))
    payloads = make_extension(
        "GitHub", "function transformPayload(p) { return []; }", type="payload_transformation"
    )
    url = reverse("gateway-collection-edit", args=[gateway.collection.pk])
    response = admin_client.post(
        url, {"name": gateway.collection.name, "model": gateway.collection.model_id, "extension": payloads.pk}
    )
    assert "CCRRTT-20006E" in response.content.decode()
