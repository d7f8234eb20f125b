"""Settings → General → Change Detection."""

import pytest

from integrations.models import ChangeDetectionSettings

URL = "/settings/general/change-detection/"


@pytest.mark.django_db
def test_administrator_sets_a_cron_schedule_and_sees_it_described(admin_client):
    response = admin_client.post(
        URL, {"interval": 60, "cron": "*/30  9-17 * * 1-5", "full_scan_cron": "0 3 * * *"}
    )
    assert response.status_code == 302
    assert ChangeDetectionSettings.get().cron == "*/30 9-17 * * 1-5"
    page = admin_client.get(URL).content.decode()
    assert "Every 30 minutes" in page and "Monday through Friday" in page


@pytest.mark.django_db
def test_invalid_cron_is_refused_with_a_clear_message_and_nothing_saved(admin_client):
    response = admin_client.post(URL, {"interval": 60, "cron": "99 * * * *", "full_scan_cron": ""})
    assert response.status_code == 200
    assert "is not a valid cron expression" in response.content.decode()
    assert ChangeDetectionSettings.get().cron == ""


@pytest.mark.django_db
def test_viewer_may_read_but_not_change(viewer_client):
    assert viewer_client.get(URL).status_code == 200
    assert viewer_client.post(URL, {"interval": 10, "cron": "", "full_scan_cron": ""}).status_code == 403
    assert ChangeDetectionSettings.get().interval == 60


@pytest.mark.django_db
def test_settings_page_links_to_change_detection(admin_client):
    assert URL in admin_client.get("/settings/", follow=True).content.decode()
