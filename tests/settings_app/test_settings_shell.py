"""Settings: the six tabs, General's three sections (Configuration with the environment label and
change detection, Master Password Configuration, Storage Settings) and the honest empty states."""

import dataclasses
import re

import pytest
from django.urls import reverse

from hub.models import ConfigurationChange
from integrations.models import ChangeDetectionSettings
from settings_app import environment
from settings_app.models import EnvironmentLabel

pytestmark = pytest.mark.django_db

TABS = ["General", "Notifications", "License", "Troubleshooting", "Extensions", "Advanced"]


def tabs(html: str) -> str:
    nav = html[html.index('data-testid="settings-tabs"') :]
    return nav[: nav.index("</nav>")]


def tab_labels(html: str) -> list[str]:
    return re.findall(r'class="nav-link[^"]*"[^>]*>([^<]+)</a>', tabs(html))


def in_hub_properties(settings, type_: str, name: str) -> None:
    values = {**settings.HUB.values, "hub.environment.type": type_, "hub.environment.name": name}
    settings.HUB = dataclasses.replace(settings.HUB, values=values)


def test_settings_opens_on_general(admin_client):
    response = admin_client.get(reverse("settings"))
    assert response.status_code == 200
    assert re.findall(r'aria-current="page"[^>]*>([^<]+)</a>', tabs(response.content.decode())) == ["General"]


@pytest.mark.parametrize(
    "url_name, active",
    [
        ("settings-general", "General"),
        ("settings-change-detection", "General"),
        ("settings-notifications", "Notifications"),
        ("settings-license", "License"),
        ("settings-troubleshooting", "Troubleshooting"),
        ("extensions", "Extensions"),
        ("kv-stores", "Extensions"),
        ("settings-advanced", "Advanced"),
    ],
)
def test_every_settings_screen_shows_the_six_tabs_with_its_own_marked(admin_client, url_name, active):
    html = admin_client.get(reverse(url_name)).content.decode()
    assert tab_labels(html) == TABS
    assert re.findall(r'class="nav-link active" aria-current="page"[^>]*>([^<]+)</a>', tabs(html)) == [active]


def test_general_has_configuration_master_password_and_storage_sections(admin_client):
    html = admin_client.get(reverse("settings-general")).content.decode()
    positions = [
        html.index(f'data-testid="{name}"')
        for name in ("configuration", "master-password", "storage-settings")
    ]
    assert positions == sorted(positions)
    assert "Master Password Configuration" in html and "Storage Settings" in html
    # Change Detection lives under General → Configuration, with its form.
    configuration = html[positions[0] : positions[1]]
    assert "Change Detection" in configuration and 'data-testid="change-detection-form"' in configuration
    assert 'data-testid="environment-form"' in configuration


def test_change_detection_saved_from_general_returns_to_general(admin_client):
    response = admin_client.post(
        reverse("settings-change-detection"),
        {"interval": 120, "cron": "", "full_scan_cron": "0 3 * * *", "back": "general"},
    )
    assert response.url == reverse("settings-general") + "#change-detection"
    assert ChangeDetectionSettings.get().interval == 120
    assert "Every 120 seconds" in admin_client.get(reverse("settings-general")).content.decode()


def test_hub_properties_is_the_default_label(admin_client, settings):
    in_hub_properties(settings, "testing", "From file")
    html = admin_client.get(reverse("settings-general")).content.decode()
    assert "Testing: From file" in html and "type from hub.properties" in html


def test_the_environment_label_set_on_screen_shows_at_once_and_is_in_history(admin_client, settings):
    in_hub_properties(settings, "testing", "From file")
    response = admin_client.post(
        reverse("settings-environment"), {"type": "production", "name": "  EU   live "}
    )
    assert response.status_code == 302
    label = EnvironmentLabel.get()
    assert (label.type, label.name) == ("production", "EU live")
    # The next page, in the same process, carries it in the header: no restart.
    header = admin_client.get(reverse("activity")).content.decode()
    assert 'data-testid="environment-label"' in header and "Production: EU live" in header
    change = ConfigurationChange.objects.get(element_type="Environment label")
    assert change.action == "settings"
    assert change.before == {"type": "", "name": ""} and change.after == {
        "type": "production",
        "name": "EU live",
    }


def test_an_empty_field_falls_back_to_hub_properties(admin_client, settings):
    in_hub_properties(settings, "development", "File name")
    admin_client.post(reverse("settings-environment"), {"type": "", "name": "Screen name"})
    label = environment.current()
    assert (label["type"], label["name"]) == ("development", "Screen name")
    assert (label["type_source"], label["name_source"]) == ("hub.properties", "screen")


def test_the_documented_types_come_first(admin_client):
    html = admin_client.get(reverse("settings-general")).content.decode()
    form = html[html.index('data-testid="environment-form"') :]
    options = [form.index(f'value="{value}"') for value in ("testing", "production", "development")]
    assert options == sorted(options)


def test_an_unknown_type_or_a_too_long_name_is_refused(admin_client):
    assert (
        admin_client.post(reverse("settings-environment"), {"type": "staging", "name": ""}).status_code == 400
    )
    assert (
        admin_client.post(reverse("settings-environment"), {"type": "", "name": "x" * 81}).status_code == 400
    )
    assert not ConfigurationChange.objects.filter(element_type="Environment label").exists()


def test_the_label_is_escaped(admin_client):
    admin_client.post(reverse("settings-environment"), {"type": "testing", "name": "<b>x</b>"})
    html = admin_client.get(reverse("settings-general")).content.decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_a_viewer_sees_the_label_but_cannot_change_it(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw")
    client.force_login(viewer)
    html = client.get(reverse("settings-general")).content.decode()
    assert 'data-testid="environment-form"' not in html
    assert client.post(reverse("settings-environment"), {"type": "testing", "name": "x"}).status_code == 403
    assert not EnvironmentLabel.objects.filter(name="x").exists()


def test_the_support_report_carries_the_label_in_force(admin_client):
    from hub import support_contents

    admin_client.post(reverse("settings-environment"), {"type": "testing", "name": "Lab"})
    assert support_contents.hub_details()["environment"] == {"name": "Lab", "type": "testing"}


def test_storage_settings_show_the_database_in_use(admin_client):
    from django.db import connection

    html = admin_client.get(reverse("settings-general")).content.decode()
    section = html[html.index('data-testid="storage-settings"') :]
    assert connection.display_name in section


def test_advanced_lists_the_four_documented_entries_and_links_to_what_is_built(admin_client):
    html = admin_client.get(reverse("settings-advanced")).content.decode()
    for title in (
        "Flow External Workflow Changes",
        "Move Routes Between Integrations",
        "Import Artifact Pair Information",
        "Upgrade Backup Files",
    ):
        assert f"<h2>{title}</h2>" in html
    assert reverse("activity-pairs-import") in html and reverse("history-import") in html
    assert reverse("settings-move-routes") in html
    assert 'data-testid="advanced-upgrade-backup-empty"' in html


def test_troubleshooting_points_to_the_support_report_for_logs(admin_client):
    html = admin_client.get(reverse("settings-troubleshooting")).content.decode()
    section = html[html.index('data-testid="downloading-logs"') :]
    assert "Downloading Logs" in section and reverse("help") in section


def test_troubleshooting_mode_shows_when_it_ends_and_normal_shows_no_timer(admin_client):
    from hub import logconfig

    def level_line() -> str:
        html = admin_client.get(reverse("settings-troubleshooting")).content.decode()
        return html[html.index('data-testid="log-level"') :].split("</p>")[0]

    try:
        admin_client.post(reverse("settings-troubleshooting"), {"level": "troubleshooting"})
        assert "troubleshooting" in level_line() and "(UTC), then back to normal" in level_line()
    finally:
        logconfig.set_level("normal")  # the level is a file every process of the test run reads
    assert "then back to normal" not in level_line()
