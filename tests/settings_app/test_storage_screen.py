"""Settings → General → Storage Settings: the database in use, Test Connection against a real
PostgreSQL server, Save → back-up warning → confirmation → Transfer job, and the 30009E page."""

import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory
from django.urls import reverse

from activity.models import BackgroundJob
from hub import api, storage, vault
from hub.models import ConfigurationChange
from settings_app import storage_views
from tests.support.server import ServerDatabase

PASSWORD = "Db-password-51c2-never-in-html"


@pytest.fixture(scope="module")
def postgres_database():
    database = ServerDatabase("postgres")
    database.create()
    yield database
    database.drop()


def form(database, **overrides) -> dict:
    data = {
        "kind": "postgresql",
        "location": f"postgres://127.0.0.1:5432/{database.name}",
        "username": "postgres",
        "password": PASSWORD,
        "backoff_value": "30",
        "backoff_unit": "minutes",
        "tls_postgresql_sslmode": "prefer",
    }
    return {**data, **overrides}


def test_the_page_shows_the_database_in_use_and_warns_about_the_embedded_one(admin_client):
    page = admin_client.get(reverse("settings-storage")).content.decode()
    assert connection.display_name in page
    assert ("for evaluation only" in page) == (connection.vendor == "sqlite")
    assert "Test Connection" in page and "Backoff Interval" in page
    assert "psycopg2 installed" in page


def test_test_connection_checks_the_account_permissions(admin_client, master_password, postgres_database):
    response = admin_client.post(reverse("settings-storage-test"), form(postgres_database))
    page = response.content.decode()
    assert response.status_code == 200
    for check in ("connect", "tls", "create table", "alter table", "update", "truncate", "temporary table"):
        assert f"<td>{check}</td><td>passed</td>" in page
    assert "failed" not in page.split('data-testid="storage-test-results"')[1]


def test_test_connection_names_the_failing_step(admin_client, master_password):
    data = form(ServerDatabase("postgres", name="hub_no_such_database"))
    page = admin_client.post(reverse("settings-storage-test"), data).content.decode()
    assert "<td>connect</td><td><strong" in page and "hub_no_such_database" in page
    assert PASSWORD not in page


def test_invalid_settings_are_refused_with_30010E(admin_client, master_password, postgres_database):
    data = form(postgres_database, location="postgres://user:secret@127.0.0.1/hub")
    response = admin_client.post(reverse("settings-storage-save"), data)
    assert response.status_code == 400
    assert "CCRRTT-30010E" in response.content.decode()


def test_save_warns_then_the_confirmed_transfer_starts_a_job(
    admin_client, master_password, postgres_database
):
    page = admin_client.post(reverse("settings-storage-save"), form(postgres_database)).content.decode()
    assert "Make a backup first" in page and 'name="backed_up"' in page
    assert PASSWORD not in page  # it travels as a vault token only
    token = page.split('name="password_token" value="')[1].split('"')[0]
    settings_json = page.split('name="settings_json" value="')[1].split('"')[0].replace("&quot;", '"')

    unconfirmed = {"settings_json": settings_json, "password_token": token}
    admin_client.post(reverse("settings-storage-transfer"), unconfirmed)
    assert not BackgroundJob.objects.filter(kind=BackgroundJob.Kind.DATABASE_TRANSFER).exists()

    admin_client.post(reverse("settings-storage-transfer"), {**unconfirmed, "backed_up": "on"})
    job = BackgroundJob.objects.get(kind=BackgroundJob.Kind.DATABASE_TRANSFER)
    assert job.parameters["backoff_seconds"] == 1800
    assert job.parameters["tls"] == {"sslmode": "prefer"}
    assert PASSWORD not in str(job.parameters)
    change = ConfigurationChange.objects.get(element_type="Storage settings")
    assert PASSWORD not in str(change.after)
    progress = admin_client.get(reverse("settings-storage-progress")).content.decode()
    assert "Pending" in progress and 'hx-trigger="every 2s"' in progress


def test_a_request_that_finds_the_database_down_gets_the_30009E_page():
    request = RequestFactory().get("/settings/")
    try:
        raise OperationalError("could not connect to server at 10.0.0.5 with password=hunter2")
    except OperationalError:
        response = api.server_error(request)
    body = response.content.decode()
    assert response.status_code == 503
    assert "CCRRTT-30009E" in body and "hunter2" not in body and "Traceback" not in body


def test_runhub_restarts_its_processes_when_a_transfer_asks(settings, tmp_path):
    from hub.management.commands import runhub
    from settings_app import transfer

    assert transfer.RESTART_FILE == runhub.RESTART_FILE
    settings.HUB_HOME = tmp_path
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / runhub.RESTART_FILE).write_text("1")
    command = runhub.Command()

    assert command._supervise({}, {"signal": None}, keeper=None) == runhub.RESTART
    assert not (tmp_path / "run" / runhub.RESTART_FILE).exists()


def test_save_is_refused_while_the_kinds_driver_is_missing(admin_client, master_password, monkeypatch):
    import pyodbc

    monkeypatch.setattr(pyodbc, "drivers", lambda: [])  # pyodbc without Microsoft's ODBC driver
    data = {
        **form(ServerDatabase("postgres")),
        "kind": "mssql",
        "location": "mssql://db.example.com:1433/hub",
        "username": "hub",
    }
    data.pop("tls_postgresql_sslmode")
    response = admin_client.post(reverse("settings-storage-save"), data)
    page = response.content.decode()
    assert response.status_code == 400 and "ODBC Driver 18 for SQL Server" in page
    assert 'name="backed_up"' not in page and PASSWORD not in page


def test_a_completed_transfer_says_database_transfer_completed(admin_client):
    BackgroundJob.objects.create(
        kind=BackgroundJob.Kind.DATABASE_TRANSFER,
        name="Database transfer",
        status=BackgroundJob.Status.COMPLETED,
        progress=100,
        details={"rows": 4012, "tables": 72},
    )
    progress = admin_client.get(reverse("settings-storage-progress")).content.decode()
    assert "Database Transfer Completed: 4012 rows of 72 tables" in progress


def test_the_backoff_interval_defaults_to_one_hour(admin_client):
    page = admin_client.get(reverse("settings-storage")).content.decode()
    assert 'name="backoff_value" value="1"' in page
    assert '<option value="hours" selected>Hours</option>' in page
    for unit in ("Minutes", "Seconds", "Milliseconds"):
        assert f">{unit}</option>" in page
    assert storage.StorageSettings("postgresql", "postgres://h/hub", "hub").backoff_seconds == 3600
    saved = {"kind": "postgresql", "location": "postgres://h/hub", "username": "hub"}
    assert storage.StorageSettings.from_dict(saved).backoff_seconds == 3600  # a file without one


@pytest.mark.parametrize(
    ("value", "unit", "seconds"),
    [("2", "hours", 7200), ("90", "minutes", 5400), ("45", "seconds", 45), ("250", "milliseconds", 0.25)],
)
def test_each_backoff_unit_is_converted_and_shown_again_in_its_unit(value, unit, seconds):
    data = form(ServerDatabase("postgres", name="hub"), backoff_value=value, backoff_unit=unit)
    bound = storage_views.ExternalDatabaseForm(data)
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["stored"].backoff_seconds == pytest.approx(seconds)
    assert storage_views._backoff_initial(seconds) == {"backoff_value": int(value), "backoff_unit": unit}


@pytest.fixture
def lost_home(settings, tmp_path):
    """This instance's HUB_HOME (same instance id), while another instance holds its database."""
    from hub.instance import instance_id
    from tests.hub.test_lease import other_instance_holds

    home = tmp_path / "hub-home"
    (home / "run").mkdir(parents=True)
    (home / "instance-id").write_text(instance_id())
    settings.HUB_HOME = home
    other_instance_holds()
    return home


def test_the_lost_access_page_connects_to_a_different_database(
    admin_client, master_password, postgres_database, lost_home
):
    """Seed 4767: "update your credentials to connect to a different database". The settings pass
    Test Connection, are saved with the password sealed, and runhub is asked to restart on them."""
    page = admin_client.get("/settings/")
    assert page.status_code == 503
    html = page.content.decode()
    assert "CCRRTT-30012E" in html and 'data-testid="connect-different-database"' in html
    assert 'name="location"' in html and "Override database access" in html
    url = reverse("connect-different-database")

    missing = admin_client.post(url, form(ServerDatabase("postgres", name="hub_no_such_database")))
    assert missing.status_code == 400 and "<td>connect</td><td><strong" in missing.content.decode()
    assert "CCRRTT-30009E" in missing.content.decode() and PASSWORD not in missing.content.decode()
    assert not (lost_home / "database.json").exists()
    assert not (lost_home / "run" / "restart-requested").exists()

    response = admin_client.post(url, form(postgres_database))
    assert response.status_code == 202 and 'data-testid="database-switching"' in response.content.decode()
    saved = (lost_home / "database.json").read_text()
    assert PASSWORD not in saved and postgres_database.name in saved
    stored, sealed = storage.read_file(lost_home)
    assert (stored.kind, stored.username, stored.backoff_seconds) == ("postgresql", "postgres", 1800)
    assert vault.unseal_outside(sealed, storage.PASSWORD_CONTEXT) == PASSWORD
    assert (lost_home / "run" / "restart-requested").exists()


def test_only_an_instance_that_lost_its_database_connects_elsewhere(
    admin_client, viewer_client, master_password, postgres_database, settings, tmp_path
):
    settings.HUB_HOME = tmp_path
    response = admin_client.post(reverse("connect-different-database"), form(postgres_database))
    assert response.status_code == 302 and response.url == reverse("settings-storage")
    viewer = viewer_client.post(reverse("connect-different-database"), form(postgres_database))
    assert viewer.status_code == 403
    assert not (tmp_path / "database.json").exists()


def test_the_database_another_instance_holds_is_not_a_different_one(postgres_database, monkeypatch):
    from django.conf import settings

    stored = storage.StorageSettings("postgresql", f"postgres://127.0.0.1:5432/{postgres_database.name}", "x")
    assert not storage_views._same_database(stored)
    current = {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": "5432"}
    # read by _same_database only; the open connections keep theirs
    monkeypatch.setitem(settings.DATABASES, "default", {**current, "NAME": postgres_database.name})
    assert storage_views._same_database(stored)
