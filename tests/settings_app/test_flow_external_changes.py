"""Settings → Advanced → Flow External Workflow Changes: the chosen integrations get full scans on
their own schedule, the others keep the default; each integration's last full scan is shown."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from hub.models import ConfigurationChange
from integrations.models import ChangeWatermark, Integration
from tests.integrations.factories import *  # noqa: F403

pytestmark = pytest.mark.django_db
URL = reverse("settings-flow-external-changes")


@pytest.fixture
def two(integration):
    other = Integration.objects.create(
        name="Other", collection_a=integration.collection_a, collection_b=integration.collection_b
    )
    return integration, other


def test_the_chosen_integrations_get_their_own_full_scan_schedule(admin_client, two):
    chosen, other = two
    Integration.objects.filter(pk=chosen.pk).update(running=True)
    response = admin_client.post(URL, {"integrations": [chosen.pk], "full_scan_cron": "0  */4 * * *"})
    assert response.status_code == 302
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert (chosen.full_scan_cron, other.full_scan_cron) == ("0 */4 * * *", "")
    entry = PeriodicTask.objects.get(task="integrations.engine.full_scan", args=f"[{chosen.pk}]")
    assert entry.crontab.hour == "*/4"
    change = ConfigurationChange.objects.get(element_name=chosen.name)
    assert change.after["full_scan_cron"] == "0 */4 * * *"
    html = admin_client.get(reverse("settings-advanced")).content.decode()
    table = html[html.index('data-testid="full-scan-table"') :]
    assert "(default)" in table and "4 hours" in table


def test_unticking_returns_an_integration_to_the_default(admin_client, two):
    chosen, _ = two
    chosen.full_scan_cron = "0 */4 * * *"
    chosen.save()
    admin_client.post(URL, {"full_scan_cron": "0 */4 * * *"})
    chosen.refresh_from_db()
    assert chosen.full_scan_cron == ""


def test_an_invalid_schedule_is_refused_and_nothing_changes(admin_client, two):
    chosen, _ = two
    response = admin_client.post(URL, {"integrations": [chosen.pk], "full_scan_cron": "99 * * * *"})
    assert response.status_code == 400 and "not a valid cron expression" in response.content.decode()
    chosen.refresh_from_db()
    assert chosen.full_scan_cron == ""


def test_the_last_full_scan_is_shown_per_integration(admin_client, two):
    chosen, _ = two
    when = timezone.make_aware(dt.datetime(2026, 11, 30, 3, 0), dt.UTC)
    ChangeWatermark.objects.create(integration=chosen, side="A", project="DEMO", last_full_scan=when)
    html = admin_client.get(reverse("settings-advanced")).content.decode()
    assert "2026-11-30 03:00 UTC" in html and "never" in html
    assert "can slow Hub" in html


def test_a_viewer_cannot_choose(viewer_client, two):
    chosen, _ = two
    assert (
        viewer_client.post(URL, {"integrations": [chosen.pk], "full_scan_cron": "0 * * * *"}).status_code
        == 403
    )
