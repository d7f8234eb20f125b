"""Start-up problems end with one clear message and exit code 2 — never a traceback — and Hub names
the HUB_* variables it does not read instead of ignoring them silently."""

import socket
import subprocess
import sys

import pytest

from hub import config
from tests.support.server import REPO, free_port


def runhub(tmp_path, **env) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_", "PYTEST"))}
    environment.update(
        {
            "HUB_HOME": str(tmp_path / "home"),
            "HUB_SERVER_ADDRESS": "127.0.0.1",
            "HUB_SERVER_PORT": str(free_port()),
            "HUB_SERVER_REDIRECT_PORT": str(free_port()),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "runhub"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clear_exit(done: subprocess.CompletedProcess, *expected: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    for text in expected:
        assert text in output, output
    return output


@pytest.mark.parametrize(
    "url",
    ["postgres://postgres@127.0.0.1:5432/nonexistent_db_hub_startup", "postgres://postgres@127.0.0.1:1/hub"],
)
def test_an_unreachable_or_missing_database_is_one_message_and_exit_code_2(tmp_path, url):
    assert_clear_exit(runhub(tmp_path, HUB_DATABASE_URL=url), "the operational database", "cannot be reached")


def test_a_database_password_in_the_message_is_masked(tmp_path):
    output = assert_clear_exit(
        runhub(tmp_path, HUB_DATABASE_URL="postgres://postgres:canary-pw@127.0.0.1:1/hub"),
        "cannot be reached",
    )
    assert "canary-pw" not in output


def test_the_same_port_for_https_and_the_redirect_is_refused(tmp_path):
    port = str(free_port())
    assert_clear_exit(
        runhub(tmp_path, HUB_SERVER_PORT=port, HUB_SERVER_REDIRECT_PORT=port),
        "server.port and server.redirect.port are both",
    )


def test_an_address_that_is_not_one_is_refused(tmp_path):
    assert_clear_exit(
        runhub(tmp_path, HUB_SERVER_ADDRESS="999.1.1.1"), "server.address='999.1.1.1' is not valid"
    )


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_clear_exit(runhub(tmp_path, HUB_SERVER_PORT=str(port)), f"port {port} (server.port)", "in use")


def test_an_unknown_hub_variable_is_named_at_start_with_the_right_name(tmp_path):
    with socket.socket() as taken:  # so Hub stops right after its start-up messages
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        output = assert_clear_exit(
            runhub(tmp_path, HUB_SERVER_PORT=str(taken.getsockname()[1]), HUB_LICENSE_TRUSTED_KEYS="x"),
            "HUB_LICENSE_TRUSTED_KEYS is not one Hub reads",
        )
    assert "did you mean HUB_LICENSE_TRUSTEDKEYS?" in output


def test_unknown_variables_are_every_hub_prefixed_one_hub_does_not_read():
    environ = {
        "HUB_SERVER_PORT": "1",
        "HUB_HOME": "/x",
        "HUB_TEST_DB": "sqlite",
        "HUB_SERVR_PORT": "2",
        "PATH": "",
    }
    assert config.unknown_variables(environ) == [
        "The environment variable HUB_SERVR_PORT is not one Hub reads; it is ignored "
        "(did you mean HUB_SERVER_PORT?)."
    ]


def test_a_database_password_in_hub_properties_is_warned_about(tmp_path):
    (tmp_path / "hub.properties").write_text("hub.database.url=postgres://hub:pw@db/hub\n")
    loaded = config.load({"HUB_HOME": str(tmp_path)})
    assert any("carries the database password in clear" in warning for warning in loaded.warnings)


def test_the_database_password_may_come_from_an_owner_only_file(tmp_path):
    secret = tmp_path / "db-password"
    secret.write_text("from-file\n")
    secret.chmod(0o600)
    (tmp_path / "hub.properties").write_text(
        f"hub.database.url=postgres://hub@db/hub\nhub.database.passwordFile={secret}\n"
    )
    loaded = config.load({"HUB_HOME": str(tmp_path)})
    assert loaded.database_password == "from-file" and not loaded.warnings


def test_a_password_file_others_can_read_is_warned_about(tmp_path):
    secret = tmp_path / "db-password"
    secret.write_text("x")
    secret.chmod(0o644)
    loaded = config.load({"HUB_HOME": str(tmp_path), "HUB_DATABASE_PASSWORDFILE": str(secret)})
    assert any("make it 0600" in warning for warning in loaded.warnings)


def test_the_database_password_may_come_from_the_environment_only(tmp_path):
    loaded = config.load({"HUB_HOME": str(tmp_path), "HUB_DATABASE_PASSWORD": "from-env"})
    assert loaded.database_password == "from-env" and not loaded.warnings
