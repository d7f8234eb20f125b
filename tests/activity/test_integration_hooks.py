"""The ledger asks the integrations app whether an integration runs, stops it for an export, and
names it — with real Integration rows."""

import pytest

from activity import services
from activity.models import BackgroundJob
from integrations import services as configuration
from integrations.models import Integration
from tests.activity import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def integrations():
    running = Integration.objects.create(name="Running sync", running=True)
    stopped = Integration.objects.create(name="Stopped sync")
    stream = Integration.objects.create(name="Data stream", style=Integration.Style.ENTERPRISE_DATA_STREAM)
    return running, stopped, stream


def test_state_follows_the_integration(integrations):
    running, stopped, _ = integrations
    assert services.integration_state(running.pk) == services.RUNNING
    assert services.integration_state(stopped.pk) == services.STOPPED
    assert services.integration_state(999_999) == services.STOPPED


def test_a_blocked_integration_does_not_count_as_running(integrations):
    from activity.blockers import raise_blocker

    running = integrations[0]
    raise_blocker(f"integration:{running.pk}:route", "CCRRTT-1401E", "No route", integration_ids=[running.pk])
    assert services.integration_state(running.pk) == services.STOPPED


def test_stop_stops_the_integration(integrations):
    running = integrations[0]
    services.stop_integration(running.pk)
    running.refresh_from_db()
    assert not running.running and configuration.state(running).state == configuration.State.STOPPED


def test_filters_offer_the_configured_integrations_by_name(admin_client, integrations):
    body = admin_client.get("/activity/activities/failed/").content.decode()
    for integration in integrations:
        assert f'<option value="{integration.pk}">{integration.name}</option>' in body


def test_integration_names_link_to_the_integration(admin_client, integrations):
    running = integrations[0]
    factories.activities(1, "failed", integration_id=running.pk, integration_name=running.name)
    body = admin_client.get("/activity/activities/failed/").content.decode()
    assert f'<a href="/integrations/{running.pk}/">Running sync</a>' in body


def test_only_work_item_synchronizations_can_be_exported(admin_client, integrations):
    running, stopped, stream = integrations
    body = admin_client.get("/activity/pairs/export/").content.decode()
    assert "Running sync" in body and "Stopped sync" in body and "Data stream" not in body
    response = admin_client.post("/activity/pairs/export/", {"integrations": [stream.pk]})
    assert response.status_code == 200 and not BackgroundJob.objects.exists()


def test_exporting_stops_the_integration_first(admin_client, integrations):
    from activity import jobs

    running = integrations[0]
    factories.pairs(5, integration_id=running.pk)
    admin_client.post("/activity/pairs/export/", {"integrations": [running.pk]})
    jobs.run_due_jobs()
    running.refresh_from_db()
    assert not running.running
    assert BackgroundJob.objects.get().details["pairs"] == 5


def test_import_refuses_a_stopped_integration(admin_client, integrations):
    from django.core.files.uploadedfile import SimpleUploadedFile

    stopped = integrations[1]
    upload = SimpleUploadedFile("pairs.json", b'{"format": "hub-artifact-pairs", "version": 1, "pairs": []}')
    response = admin_client.post("/activity/pairs/import/", {"integration": stopped.pk, "file": upload})
    assert "CCRRTT-17023E" in response.content.decode()
