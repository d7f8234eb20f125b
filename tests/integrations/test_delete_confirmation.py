"""Delete asks first, naming what goes with the element — for an integration its pairs and its
synchronization history, which then go with it — and only a POST from that page deletes."""

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from integrations.models import Integration, Model, Repository, RepositoryCollection

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_ledger(integration):
    for n in range(3):
        ArtifactPair.objects.create(
            integration_id=integration.pk, a_artifact_id=str(n), b_artifact_id=str(100 + n)
        )
    for n in range(5):
        ArtifactActivity.objects.create(
            integration_id=integration.pk, source_side="A", artifact_id=str(n), status="completed"
        )
    return integration


def test_the_integration_page_leads_to_a_confirmation_not_a_deletion(admin_client, with_ledger):
    page = admin_client.get(f"/integrations/{with_ledger.pk}/").content.decode()
    assert f'href="/integrations/{with_ledger.pk}/delete/"' in page
    confirmation = admin_client.get(f"/integrations/{with_ledger.pk}/delete/").content.decode()
    assert "3 artifact pairs" in confirmation
    assert "5 artifact activities (its synchronization history)" in confirmation
    assert 'data-testid="confirm-delete"' in confirmation
    assert Integration.objects.filter(pk=with_ledger.pk).exists()


def test_confirming_deletes_the_integration_with_its_pairs_and_activities(admin_client, with_ledger):
    other = ArtifactPair.objects.create(
        integration_id=with_ledger.pk + 1, a_artifact_id="x", b_artifact_id="y"
    )
    response = admin_client.post(f"/integrations/{with_ledger.pk}/delete/")
    assert response.status_code == 302
    assert not Integration.objects.filter(pk=with_ledger.pk).exists()
    assert not ArtifactPair.objects.filter(integration_id=with_ledger.pk).exists()
    assert not ArtifactActivity.objects.filter(integration_id=with_ledger.pk).exists()
    assert ArtifactPair.objects.filter(pk=other.pk).exists()  # another integration's pairs stay


def test_a_running_integration_is_not_offered_for_deletion(admin_client, with_ledger):
    with_ledger.running = True
    with_ledger.save()
    response = admin_client.get(f"/integrations/{with_ledger.pk}/delete/")
    assert response.status_code == 302 and Integration.objects.filter(pk=with_ledger.pk).exists()


def test_a_collection_in_use_names_its_users_and_offers_no_delete_button(admin_client, integration):
    collection = integration.collection_a
    body = admin_client.get(f"/collections/{collection.pk}/delete/").content.decode()
    assert "Alpha ↔ Beta" in body and 'data-testid="confirm-delete"' not in body
    assert RepositoryCollection.objects.filter(pk=collection.pk).exists()


def test_a_model_confirmation_names_its_fields_and_deletes_on_confirm(admin_client):
    model = Model.objects.create(name="Unused")
    model.fields.create(key="title", label="Title", type="string")
    body = admin_client.get(f"/models/{model.pk}/delete/").content.decode()
    assert "“Unused”" in body and "its 1 fields" in body
    admin_client.post(f"/models/{model.pk}/delete/")
    assert not Model.objects.filter(pk=model.pk).exists()


def test_a_repository_confirmation_says_its_credentials_go(admin_client, repositories):
    alpha, _ = repositories
    RepositoryCollection.objects.filter(repository=alpha).delete()
    body = admin_client.get(f"/repositories/{alpha.pk}/delete/").content.decode()
    assert "its stored credentials" in body
    admin_client.post(f"/repositories/{alpha.pk}/delete/")
    assert not Repository.objects.filter(pk=alpha.pk).exists()


def test_viewers_cannot_delete(client, viewer, integration):
    client.force_login(viewer)
    client.post(f"/integrations/{integration.pk}/delete/")
    assert Integration.objects.filter(pk=integration.pk).exists()


def test_deleting_through_the_api_removes_the_pairs_and_activities_too(with_ledger, administrator):
    from hub import api_tokens
    from tests.integrations.test_api import Api

    api = Api(api_tokens.create_token(administrator, "delete")[1])
    assert api.delete(f"/integrations/{with_ledger.pk}/").status_code == 204
    assert not ArtifactPair.objects.filter(integration_id=with_ledger.pk).exists()
    assert not ArtifactActivity.objects.filter(integration_id=with_ledger.pk).exists()
