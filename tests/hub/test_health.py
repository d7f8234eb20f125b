"""/api/health: every documented check, computed from real state, answered without sign-in."""

import json

import pytest
from django.db import connections

from hub import health, lifecycle

DOCUMENTED_CHECKS = {
    "notificationSettingsValid",
    "databaseIsAvailable",
    "licenseConfigured",
    "configurationMigration",
    "memoryUsage",
    "passwordEncryptionInitialized",
    "tasktopIsRunning",
    "securityIsSetUp",
    "licenseExpired",
    "licensesValid",
    "activitiesCanProcess",
}


@pytest.fixture(autouse=True)
def running_state():
    lifecycle.write_state(lifecycle.RUNNING)
    yield
    lifecycle.clear_state()


@pytest.mark.django_db
def test_health_answers_without_sign_in_with_every_documented_check(client):
    response = client.get("/api/health")
    body = response.json()
    assert set(body["checks"]) == DOCUMENTED_CHECKS | {"hubIsRunning"}
    for result in body["checks"].values():
        assert result["status"] in ("pass", "fail", "not-applicable")
        assert result["reason"]


@pytest.mark.django_db
def test_healthy_instance_answers_200_and_pass(client, master_password, licensed):
    response = client.get("/api/health")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pass"
    assert response.json()["checks"]["databaseIsAvailable"]["status"] == "pass"
    assert response.json()["checks"]["configurationMigration"]["status"] == "pass"


@pytest.mark.django_db
def test_documented_name_is_an_alias_of_hub_is_running(client):
    checks = client.get("/api/health").json()["checks"]
    assert checks["tasktopIsRunning"] == checks["hubIsRunning"]


@pytest.mark.django_db
def test_starting_or_stopping_instance_fails_hub_is_running_with_503(client):
    lifecycle.write_state(lifecycle.STOPPING)
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["checks"]["hubIsRunning"] == {"status": "fail", "reason": "Hub is stopping."}


@pytest.mark.django_db
def test_checks_without_a_subsystem_say_not_applicable_rather_than_pass(client):
    checks = client.get("/api/health").json()["checks"]
    for name in ("notificationSettingsValid",):
        assert checks[name]["status"] == "not-applicable"


def unreachable_copy_of_default() -> dict:
    settings_dict = dict(connections.settings["default"])
    if settings_dict["ENGINE"].endswith("sqlite3"):
        settings_dict["NAME"] = "/nonexistent-directory/hub.sqlite3"
    else:
        settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", "1"  # nothing listens on port 1
    return settings_dict


@pytest.mark.django_db
def test_database_check_fails_fast_and_plainly_when_the_database_is_unreachable():
    result = health.database_result(unreachable_copy_of_default())
    assert result.status == "fail"
    assert "cannot be reached" in result.reason
    assert "Traceback" not in result.reason


@pytest.mark.django_db
def test_unreachable_database_makes_health_answer_503(client, monkeypatch):
    monkeypatch.setitem(
        health._checks, "databaseIsAvailable", lambda: health.database_result(unreachable_copy_of_default())
    )
    response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["databaseIsAvailable"]["status"] == "fail"
    assert body["checks"]["configurationMigration"]["status"] == "fail"


@pytest.mark.django_db
def test_safe_mode_fails_activities_can_process(client, settings):
    settings.SAFE_MODE = True
    check = client.get("/api/health").json()["checks"]["activitiesCanProcess"]
    assert check["status"] == "fail"
    assert "safe mode" in check["reason"]


@pytest.mark.django_db
def test_health_never_shows_database_credentials(client, monkeypatch):
    settings_dict = dict(connections.settings["default"], PASSWORD="s3cret-db-password", USER="hubuser")
    settings_dict.update(
        unreachable_copy_of_default()
        if "sqlite" in settings_dict["ENGINE"]
        else {"HOST": "127.0.0.1", "PORT": "1"}
    )
    monkeypatch.setitem(health._checks, "databaseIsAvailable", lambda: health.database_result(settings_dict))
    text = json.dumps(client.get("/api/health").json())
    assert "s3cret-db-password" not in text
