"""Configuration history: every change recorded with before/after (secrets redacted), the History
screen's filters and links, export of selected changes, purge after six months."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.models import ConfigurationChange
from integrations import transfer
from integrations.tasks import purge_history
from tests.integrations.screens import create_model, create_repository


@pytest.fixture
def changes(admin_client, trackers, master_password):
    repository = create_repository(admin_client, "Alpha", "local://alpha")
    admin_client.post(
        reverse("repository-edit", args=[repository.pk]),
        {
            "label": "Alpha tracker",
            "url": "local://alpha",
            "username": "hub",
            "events_per_minute": "5",
            "enabled": "on",
        },
    )
    create_model(admin_client)
    return repository


def test_every_create_and_update_is_recorded_with_user_and_before_after(changes):
    rows = list(ConfigurationChange.objects.order_by("id"))
    assert [(c.action, c.element_type, c.element_name) for c in rows] == [
        ("create", "repository", "Alpha"),
        ("update", "repository", "Alpha tracker"),
        ("create", "model", "Defect"),
    ]
    update = rows[1]
    assert update.username == "ada" and update.source == "console"
    assert update.before["label"] == "Alpha" and update.after["label"] == "Alpha tracker"
    assert update.after["events_per_minute"] == 5
    assert [f["key"] for f in rows[2].after["fields"]] == ["title", "priority"]


def test_a_delete_is_recorded_with_the_values_before(admin_client, changes):
    admin_client.post(reverse("repository-delete", args=[changes.pk]))
    change = ConfigurationChange.objects.get(action="delete")
    assert change.before["label"] == "Alpha tracker" and change.after is None


def test_secrets_are_never_in_history_nor_its_log(admin_client, trackers, master_password, settings):
    from tests.integrations import probe  # noqa: F401

    admin_client.post(
        reverse("repository-create"),
        {
            "kind": "probe",
            "label": "P",
            "url": "http://127.0.0.1:9",
            "auth_method": "basic",
            "username": "u",
            "password": "very-secret-pw",
            "timeout": "5",
            "events_per_minute": "0",
        },
    )
    change = ConfigurationChange.objects.get(element_name="P")
    assert "very-secret-pw" not in json.dumps(change.after)
    log = (settings.HUB.logs_dir / "configuration-changes.log").read_text()
    assert '"element_name": "P"' in log and "very-secret-pw" not in log


def test_the_history_screen_filters_by_name_type_user_and_date(admin_client, changes):
    url = reverse("history")
    assert "Defect" not in admin_client.get(url, {"name": "alpha"}).content.decode().split("<tbody>")[1]
    page = admin_client.get(url, {"element_type": "model"}).content.decode().split("<tbody>")[1]
    assert "Defect" in page and "Alpha" not in page
    assert "No changes match" in admin_client.get(url, {"user": "nobody"}).content.decode()
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    assert "No changes match" in admin_client.get(url, {"start": tomorrow}).content.decode()


def test_history_links_to_the_element_as_it_is_now(admin_client, changes):
    html = admin_client.get(reverse("history")).content.decode()
    assert f'href="{reverse("repository-edit", args=[changes.pk])}"' in html


def _zip_changes(data: bytes) -> list[dict]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [json.loads(archive.read(n)) for n in sorted(archive.namelist()) if n.startswith("changes/")]


def test_export_selected_changes_only(admin_client, changes):
    chosen = ConfigurationChange.objects.get(element_type="model")
    response = admin_client.post(reverse("history-export"), {"selected": "1", "change": [chosen.pk]})
    assert response["Content-Type"] == "application/zip"
    assert [c["element_name"] for c in _zip_changes(response.content)] == ["Defect"]


def test_export_all_within_the_filters_leaves_settings_changes_out(admin_client, changes, administrator):
    from hub.audit import record_change

    record_change(administrator, "settings", "settings", "Change detection interval", {"v": 1}, {"v": 2})
    response = admin_client.post(reverse("history-export"), {"all": "1", "element_type": ""})
    exported = _zip_changes(response.content)
    assert [c["element_name"] for c in exported] == ["Alpha", "Alpha tracker", "Defect"]  # oldest first


def test_export_leaves_out_changes_of_users_and_api_tokens(admin_client, changes, administrator):
    from hub.audit import record_change

    record_change(None, "create", "API token", "provisioning", None, {"user": "ada", "prefix": "x"})
    response = admin_client.post(reverse("history-export"), {"all": "1", "element_type": ""})
    exported = _zip_changes(response.content)
    assert "API token" not in {c["element_type"] for c in exported}
    transfer.read_zip(response.content)  # and what is exported can be read back


def test_viewers_cannot_export(changes, viewer):
    from django.test import Client

    client = Client()
    client.force_login(viewer)
    assert client.post(reverse("history-export"), {"all": "1"}).status_code == 403


def test_entries_older_than_six_months_are_purged(changes):
    old = ConfigurationChange.objects.first()
    ConfigurationChange.objects.filter(pk=old.pk).update(time=timezone.now() - dt.timedelta(days=200))
    assert purge_history() == 1
    assert ConfigurationChange.objects.count() == 2


def test_validation_and_purge_are_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"integrations.validate_configuration", "integrations.purge_history"} <= tasks
