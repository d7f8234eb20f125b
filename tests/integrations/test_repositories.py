"""Repositories: the form built from the connector's declared settings, secrets sealed and never
shown, Test connection answering with the specific result and code, disable/enable, delete refusal."""

import base64
import json

import pytest
from django.urls import reverse

from integrations.models import Repository
from tests.integrations import probe  # noqa: F401 - registers the test connector kinds
from tests.support.netservers import Answer, BasicAuthProxy, ScriptedServer, free_port


def _basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def tool():
    def answer(seen):
        if seen.headers.get("Authorization") == _basic("hub", "right"):
            return Answer(body=json.dumps({"user": "hub"}).encode())
        return Answer(status=401, body=b"{}")

    server = ScriptedServer(answer)
    yield server
    server.close()


def probe_form(url, **overrides):
    data = {
        "kind": "probe",
        "label": "Probe",
        "url": url,
        "auth_method": "basic",
        "username": "hub",
        "password": "right",
        "timeout": "5",
        "events_per_minute": "0",
        "enabled": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_shows_the_kinds_declared_settings(admin_client, master_password):
    html = admin_client.get(reverse("repository-create") + "?kind=probe").content.decode()
    for name in (
        "url",
        "auth_method",
        "username",
        "password",
        "space",
        "proxy_url",
        "proxy_username",
        "proxy_password",
        "allow_insecure",
        "timeout",
        "events_per_minute",
        "use_proxy",
    ):
        assert f'name="{name}"' in html, name
    assert 'name="token"' not in html  # the probe kind declares no token


def test_a_kind_without_network_has_no_proxy_settings(admin_client, master_password):
    html = admin_client.get(reverse("repository-create") + "?kind=local").content.decode()
    assert 'name="proxy_url"' not in html and 'name="url"' in html


def test_creating_a_repository_seals_its_password(admin_client, master_password, tool):
    response = admin_client.post(reverse("repository-create"), probe_form(tool.url, space="TEAM"))
    repository = Repository.objects.get(label="Probe")
    assert response.status_code == 302
    assert repository.extra == {"space": "TEAM"}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM integrations_repository WHERE id = %s", [repository.pk])
        stored = cursor.fetchone()[0]
    assert "right" not in stored
    assert repository.settings().password == "right"


def test_the_edit_page_never_shows_a_stored_secret(admin_client, master_password, tool):
    admin_client.post(reverse("repository-create"), probe_form(tool.url, password="s3cret-value"))
    repository = Repository.objects.get(label="Probe")
    html = admin_client.get(reverse("repository-edit", args=[repository.pk])).content.decode()
    assert "s3cret-value" not in html and repository.password.token not in html


def test_saving_with_an_empty_password_keeps_the_stored_one(admin_client, master_password, tool):
    admin_client.post(reverse("repository-create"), probe_form(tool.url))
    repository = Repository.objects.get(label="Probe")
    admin_client.post(
        reverse("repository-edit", args=[repository.pk]), probe_form(tool.url, password="", label="Probe 2")
    )
    repository.refresh_from_db()
    assert repository.label == "Probe 2" and repository.settings().password == "right"


def test_proxy_location_must_be_a_url(admin_client, master_password, tool):
    response = admin_client.post(
        reverse("repository-create"), probe_form(tool.url, use_proxy="on", proxy_url="proxy.pac")
    )
    assert response.status_code == 200
    assert "CCRRTT-61103E" in response.content.decode()
    assert not Repository.objects.exists()


def test_label_is_unique(admin_client, master_password, tool):
    admin_client.post(reverse("repository-create"), probe_form(tool.url))
    response = admin_client.post(reverse("repository-create"), probe_form(tool.url))
    assert "already exists" in response.content.decode()


def _test(client, data):
    response = client.post(reverse("repository-test-new"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_test_connection_succeeds_with_the_right_credentials(admin_client, master_password, tool):
    assert "Connection succeeded" in _test(admin_client, probe_form(tool.url))


def test_test_connection_reports_refused_credentials_as_61101E(admin_client, master_password, tool):
    assert "CCRRTT-61101E" in _test(admin_client, probe_form(tool.url, password="wrong"))


def test_test_connection_reports_refused_proxy_credentials_as_61102E(admin_client, master_password, tool):
    proxy = BasicAuthProxy("proxyuser", "proxypass")
    try:
        data = probe_form(
            tool.url, use_proxy="on", proxy_url=proxy.url, proxy_username="proxyuser", proxy_password="no"
        )
        assert "CCRRTT-61102E" in _test(admin_client, data)
        data["proxy_password"] = "proxypass"
        assert "Connection succeeded" in _test(admin_client, data)
    finally:
        proxy.close()


def test_test_connection_reports_invalid_settings_as_61103E(admin_client, master_password):
    assert "CCRRTT-61103E" in _test(admin_client, probe_form("ftp://example.org"))


def test_test_connection_reports_an_unreachable_repository_as_1000E(admin_client, master_password):
    assert "CCRRTT-1000E" in _test(admin_client, probe_form(f"http://127.0.0.1:{free_port()}", timeout="2"))


def test_test_connection_refuses_an_untrusted_certificate_without_allow_insecure_1113E(
    admin_client, master_password, tmp_path
):
    server = ScriptedServer(lambda seen: Answer(body=b'{"user": "hub"}'), tls_dir=tmp_path)
    try:
        assert "CCRRTT-1113E" in _test(admin_client, probe_form(server.url))
        assert "Connection succeeded" in _test(admin_client, probe_form(server.url, allow_insecure="on"))
    finally:
        server.close()


def test_test_connection_reports_missing_connector_requirements_as_61001E(admin_client, master_password):
    data = {"kind": "needs_library", "label": "X", "url": "http://x", "timeout": "5"}
    data["events_per_minute"] = "0"
    assert "CCRRTT-61001E" in _test(admin_client, data)


def test_testing_a_saved_repository_records_its_state_for_the_list(admin_client, master_password, tool):
    admin_client.post(reverse("repository-create"), probe_form(tool.url, password="wrong"))
    repository = Repository.objects.get(label="Probe")
    admin_client.post(reverse("repository-test", args=[repository.pk]), probe_form(tool.url, password=""))
    repository.refresh_from_db()
    assert repository.last_test_code == "CCRRTT-61101E"
    assert "failing: CCRRTT-61101E" in admin_client.get(reverse("repositories")).content.decode()


def test_disabling_a_repository_blocks_its_integrations_with_30022W(admin_client, integration):
    from activity.blockers import blocks_integration

    repository = integration.collection_a.repository
    admin_client.post(reverse("repository-toggle", args=[repository.pk]))
    repository.refresh_from_db()
    assert not repository.enabled and blocks_integration(integration.pk)
    page = admin_client.get(reverse("repository-edit", args=[repository.pk])).content.decode()
    assert "CCRRTT-30022W" in page
    admin_client.post(reverse("repository-toggle", args=[repository.pk]))
    assert not blocks_integration(integration.pk)


def test_nothing_connects_to_a_disabled_repository_it_says_61106E(admin_client, collections):
    from connectors.errors import RepositoryDisabled
    from integrations import services

    repository = collections[0].repository
    admin_client.post(reverse("repository-toggle", args=[repository.pk]))
    repository.refresh_from_db()
    with pytest.raises(RepositoryDisabled) as refused:
        services.live_projects(repository)
    assert refused.value.code == "CCRRTT-61106E"
    page = admin_client.get(reverse("collection-create"), {"repository": repository.pk}).content.decode()
    assert "CCRRTT-61106E" in page and "is disabled" in page
    # The API says it is Hub's state (409), not a failure of the tool (502).
    answer = admin_client.post(f"/api/v1/collections/{collections[0].pk}/refresh-projects/")
    assert answer.status_code == 409 and answer.json()["code"] == "CCRRTT-61106E"


def test_an_administrator_may_still_test_a_disabled_repository(admin_client, collections):
    from integrations import services

    repository = collections[0].repository
    admin_client.post(reverse("repository-toggle", args=[repository.pk]))
    repository.refresh_from_db()
    assert services.test_connection(repository, save=False).ok


def test_deleting_a_repository_in_use_is_refused_naming_its_users(admin_client, collections):
    repository = collections[0].repository
    response = admin_client.post(reverse("repository-delete", args=[repository.pk]), follow=True)
    assert "Alpha defects" in response.content.decode()
    assert Repository.objects.filter(pk=repository.pk).exists()


def test_deleting_an_unused_repository(admin_client, repositories):
    admin_client.post(reverse("repository-delete", args=[repositories[0].pk]))
    assert not Repository.objects.filter(pk=repositories[0].pk).exists()
