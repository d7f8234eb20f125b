"""The real server as ``make run`` starts it: HTTPS, the redirect, clean stop, data reuse, modes."""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.support.server import REPO, ServerDatabase, port_open, processes_of, start_hub


@pytest.fixture
def hub(tmp_path, server_database):
    server = start_hub(tmp_path / "home", server_database)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def first_start(tmp_path_factory):
    """One Hub started on an empty data directory and an empty database (it migrates them itself),
    shared by the tests that only look at what a first start made: each Hub start costs 7-10 CPU s."""
    database = ServerDatabase(os.environ.get("HUB_TEST_DB", "sqlite"))
    database.create()
    server = start_hub(tmp_path_factory.mktemp("first-start") / "home", database, migrated=False)
    yield server
    server.stop()
    database.drop()


def test_console_is_served_over_https_with_a_generated_certificate(first_start):
    hub = first_start
    status, body = hub.get("/accounts/login/")
    assert status == 200
    assert "Sign in to Hub" in body
    assert (hub.home / "certs" / "hub-self-signed.crt").exists()
    assert "self-signed certificate" in hub.log() and "server.ssl.certificate" in hub.log()


def test_plain_http_redirects_to_the_https_port(first_start):
    hub = first_start

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(f"http://127.0.0.1:{hub.redirect_port}/activity/?page=2", timeout=60)
    assert answer.value.code == 301
    assert answer.value.headers["Location"] == f"https://127.0.0.1:{hub.port}/activity/?page=2"


def test_first_start_prints_a_setup_token_kept_in_an_owner_only_file(first_start):
    hub = first_start
    token_file = hub.home / "setup-token"
    assert hub.setup_token() in hub.log()
    assert token_file.stat().st_mode & 0o077 == 0


def test_health_reports_running_once_started_and_healthy_once_the_master_password_is_set(
    tmp_path, server_database
):
    key_file = tmp_path / "user-home" / "hub.key"
    hub = start_hub(
        tmp_path / "home", server_database, env={"HUB_SECURITY_MASTERPASSWORDFILE": str(key_file)}
    )
    try:
        status, body = hub.get("/api/health")
        checks = json.loads(body)["checks"]
        assert checks["hubIsRunning"]["status"] == "pass"
        assert checks["databaseIsAvailable"]["status"] == "pass"
        assert checks["licenseConfigured"]["status"] == "pass"  # the evaluation license
        assert checks["securityIsSetUp"]["status"] == "fail"  # the quick start asks for the master password
        assert status == 503, body
        subprocess.run(
            [sys.executable, "manage.py", "set_master_password", "--password-stdin"],
            cwd=REPO,
            env={
                "HUB_HOME": str(hub.home),
                "HUB_DATABASE_URL": server_database.url,
                "HUB_SECURITY_MASTERPASSWORDFILE": str(key_file),
                "PATH": "/usr/bin:/bin",
            },
            input="quick start master password\n",
            text=True,
            check=True,
            capture_output=True,
            timeout=60,
        )
        status, body = hub.get("/api/health")
        assert status == 200, body
    finally:
        hub.stop()


def test_sigterm_stops_every_process_and_frees_the_ports(hub):
    assert len(processes_of(hub.home)) >= 5  # supervisor, web, redirect, worker, beat (+ their workers)
    assert hub.stop() == 0
    assert not port_open(hub.port) and not port_open(hub.redirect_port)
    assert processes_of(hub.home) == []
    assert "Hub stopped." in hub.log()


def test_a_restart_reuses_the_data(tmp_path, server_database):
    home = tmp_path / "home"
    first = start_hub(home, server_database)
    env = {
        "HUB_HOME": str(home),
        "HUB_DATABASE_URL": server_database.url,
        "PATH": "/usr/bin:/bin",
        "DJANGO_SUPERUSER_PASSWORD": "a long enough password",
    }
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            "root-admin",
            "--email",
            "admin@example.com",
        ],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert first.stop() == 0
    second = start_hub(home, server_database)
    try:
        assert second.get("/setup/")[0] == 404  # an administrator exists: first-run setup is closed
        assert not (home / "setup-token").exists()
    finally:
        second.stop()


def test_two_instances_run_side_by_side(tmp_path, server_database):
    from tests.support.server import ServerDatabase

    other_database = ServerDatabase(server_database.engine)
    other_database.create()
    one = start_hub(tmp_path / "one", server_database)
    try:
        two = start_hub(tmp_path / "two", other_database)
        try:
            for instance in (one, two):  # each owns its database: no CCRRTT-30012E between them
                status, body = instance.get("/api/health")
                assert json.loads(body)["checks"]["hubIsRunning"]["status"] == "pass"
                assert instance.get("/accounts/login/")[0] == 200
            assert one.port != two.port
        finally:
            two.stop()
    finally:
        one.stop()
        other_database.drop()


def test_safe_mode_starts_no_integration_work(tmp_path, server_database):
    server = start_hub(tmp_path / "home", server_database, "--safe-mode")
    try:
        commands = []
        for pid in processes_of(server.home):
            commands.append((REPO / "/proc" / str(pid) / "cmdline").read_bytes().replace(b"\0", b" "))
        assert not any(b"celery" in command for command in commands), commands
        status, body = server.get("/api/health")
        assert json.loads(body)["checks"]["activitiesCanProcess"]["status"] == "fail"
        assert status == 503
        assert "Safe mode" in server.get("/accounts/login/")[1]
    finally:
        server.stop()


def test_troubleshooting_mode_logs_verbosely_for_two_hours(tmp_path, server_database):
    server = start_hub(tmp_path / "home", server_database, "--troubleshooting")
    try:
        state = json.loads((server.home / "run" / "log-level").read_text())
        assert state["level"] == "troubleshooting"
        assert "Troubleshooting mode: verbose logging until" in server.log()
    finally:
        server.stop()
