"""An integration cannot be saved without what it needs to synchronize (both collections, mapped to
one model, a conflict strategy where fields flow both ways), starts with the field flow its
collections' mappings allow, says when nothing flows, and cannot Run while problems block it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from hub import api_tokens
from integrations import services
from integrations.models import Integration, Model, RepositoryCollection
from tests.integrations.test_api import Api


def general(**overrides) -> dict:
    data = {
        "name": "Alpha ↔ Beta",
        "style": "work_item_sync",
        "creation_flow": "both",
        "conflict_strategy": "a_wins",
        "detection_interval": "",
        "detection_cron": "",
        "full_scan_cron": "",
        "private_a_to_b": "skip",
        "private_b_to_a": "skip",
        "max_size_a_to_b": "10",
        "max_size_b_to_a": "10",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create(client, **overrides):
    return client.post(reverse("integration-create"), general(**overrides))


def errors_of(response) -> dict:
    assert response.status_code == 200, "the integration was saved"
    return response.context["form"].errors


def messages_of(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_an_integration_with_only_a_name_is_not_saved(admin_client, db):
    errors = errors_of(create(admin_client))
    assert {"collection_a", "collection_b"} <= set(errors)
    assert not Integration.objects.exists()


def test_a_collection_not_mapped_to_a_model_is_refused_with_1404E(admin_client, collections, repositories):
    bare = RepositoryCollection.objects.create(name="Bare", repository=repositories[1])
    errors = errors_of(create(admin_client, collection_a=collections[0].pk, collection_b=bare.pk))
    assert "CCRRTT-1404E" in " ".join(errors["collection_b"])
    assert not Integration.objects.exists()


def test_collections_mapped_to_different_models_are_refused_with_1403E(admin_client, collections):
    a, b = collections
    b.model = Model.objects.create(name="Story")
    b.save()
    errors = errors_of(create(admin_client, collection_a=a.pk, collection_b=b.pk))
    assert "CCRRTT-1403E" in " ".join(errors["collection_b"])


def test_a_new_integration_lets_flow_what_the_collections_map(admin_client, collections):
    a, b = collections
    response = create(admin_client, collection_a=a.pk, collection_b=b.pk)
    assert response.status_code == 302
    integration = Integration.objects.get()
    # title and priority are mapped both ways on both sides; the model's "due" is mapped nowhere
    assert integration.field_flows == {"title": "both", "priority": "both", "due": "none"}


def test_fields_flowing_both_ways_need_a_conflict_strategy_17007E(admin_client, collections):
    a, b = collections
    errors = errors_of(create(admin_client, collection_a=a.pk, collection_b=b.pk, conflict_strategy=""))
    assert "CCRRTT-17007E" in " ".join(errors["conflict_strategy"])


def test_run_is_refused_with_the_list_of_blocking_problems(admin_client, integration):
    integration.routes.all().delete()
    from integrations import validation

    validation.validate()
    response = admin_client.post(reverse("integration-run", args=[integration.pk]))
    integration.refresh_from_db()
    assert not integration.running
    said = messages_of(response)
    assert "cannot run" in said and "CCRRTT-1401E" in said


def test_run_of_an_integration_nothing_blocks_starts_it(admin_client, integration):
    admin_client.post(reverse("integration-run", args=[integration.pk]))
    integration.refresh_from_db()
    assert integration.running and services.state(integration).state == "running"


def test_an_integration_where_nothing_flows_says_so(admin_client, integration):
    Integration.objects.filter(pk=integration.pk).update(field_flows={"title": "none", "priority": "none"})
    page = admin_client.get(reverse("integration-edit", args=[integration.pk])).content.decode()
    assert 'data-testid="nothing-flows"' in page
    response = admin_client.post(reverse("integration-run", args=[integration.pk]))
    assert "moves no value" in messages_of(response)


def test_an_integration_where_fields_flow_does_not_warn(admin_client, integration):
    page = admin_client.get(reverse("integration-edit", args=[integration.pk])).content.decode()
    assert 'data-testid="nothing-flows"' not in page


@pytest.fixture
def api(administrator, master_password):
    return Api(api_tokens.create_token(administrator, "tests")[1])


def test_the_api_refuses_an_integration_without_collections(api, collections):
    response = api.post("/integrations/", {"name": "Half"})
    assert response.status_code == 400 and {"collection_a", "collection_b"} <= set(response.json()["errors"])


def test_the_api_refuses_a_collection_without_a_model_with_1404E(api, collections, repositories):
    RepositoryCollection.objects.create(name="Bare", repository=repositories[1])
    response = api.post(
        "/integrations/", {"name": "Half", "collection_a": "Alpha defects", "collection_b": "Bare"}
    )
    assert response.status_code == 400 and "CCRRTT-1404E" in " ".join(
        response.json()["errors"]["collection_b"]
    )


def test_the_api_gives_a_new_integration_the_mapped_field_flow(api, collections):
    response = api.post(
        "/integrations/",
        {"name": "Both", "collection_a": "Alpha defects", "collection_b": "Beta defects"},
    )
    assert response.status_code == 201
    assert response.json()["field_flows"] == {"title": "both", "priority": "both", "due": "none"}
