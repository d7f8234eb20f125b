"""A repository's state follows what its saved settings do: saving tests them (so Test connection
then Save shows "connected"), saving unchanged settings keeps the state, and a repository that
cannot connect is saved all the same, marked failing, with a warning."""

from django.contrib.messages import get_messages
from django.urls import reverse

from integrations.models import Repository


def local_form(**overrides):
    data = {
        "kind": "local",
        "label": "Alpha",
        "url": "local://alpha",
        "username": "",
        "events_per_minute": "0",
    }
    data.update({"enabled": "on", **overrides})
    return data


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def state_in_list(client) -> str:
    return client.get(reverse("repositories")).content.decode()


def test_test_connection_then_save_shows_the_repository_connected(admin_client, trackers, master_password):
    tested = admin_client.post(reverse("repository-test-new"), local_form(), HTTP_HX_REQUEST="true")
    assert "Connection succeeded" in tested.content.decode()
    response = admin_client.post(reverse("repository-create"), local_form())
    assert response.status_code == 302
    assert Repository.objects.get(label="Alpha").state == "connected"
    listing = state_in_list(admin_client)
    assert "connected" in listing and "not tested" not in listing


def test_saving_unchanged_settings_keeps_the_state_of_the_last_test(admin_client, trackers, master_password):
    admin_client.post(reverse("repository-create"), local_form())
    repository = Repository.objects.get(label="Alpha")
    tested_at = repository.last_test_at
    admin_client.post(reverse("repository-edit", args=[repository.pk]), local_form())
    repository.refresh_from_db()
    assert repository.state == "connected" and repository.last_test_at == tested_at


def test_changed_settings_are_tested_again_when_saved(admin_client, trackers, master_password):
    admin_client.post(reverse("repository-create"), local_form())
    repository = Repository.objects.get(label="Alpha")
    response = admin_client.post(
        reverse("repository-edit", args=[repository.pk]), local_form(username="ghost")
    )
    repository.refresh_from_db()
    assert repository.state == "failing" and repository.last_test_code == "CCRRTT-61101E"
    assert "cannot connect" in said(response)


def test_a_repository_that_cannot_connect_is_saved_failing_with_a_warning(
    admin_client, trackers, master_password
):
    response = admin_client.post(reverse("repository-create"), local_form(username="ghost"))
    assert response.status_code == 302
    repository = Repository.objects.get(label="Alpha")
    assert repository.state == "failing"
    assert "CCRRTT-61101E" in said(response) and "marked failing" in said(response)
    assert "failing: CCRRTT-61101E" in state_in_list(admin_client)
    page = admin_client.get(reverse("repository-edit", args=[repository.pk])).content.decode()
    assert 'data-testid="repository-failing"' in page


def test_a_failing_repository_blocks_the_integrations_that_use_it(admin_client, integration):
    from activity.blockers import blocks_integration

    repository = integration.collection_b.repository
    admin_client.post(
        reverse("repository-edit", args=[repository.pk]),
        local_form(label="Beta", url="local://beta", username="x"),
    )
    assert blocks_integration(integration.pk)
    admin_client.post(
        reverse("repository-edit", args=[repository.pk]), local_form(label="Beta", url="local://beta")
    )
    assert not blocks_integration(integration.pk)
