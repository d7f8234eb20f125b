"""hub.properties and environment variables: precedence, validation and clear messages."""

import subprocess
import sys
from pathlib import Path

import pytest

from hub import config

REPO = Path(__file__).resolve().parents[2]


def write_properties(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.properties").write_text(text)


def test_defaults_apply_without_a_properties_file(tmp_path):
    loaded = config.load({"HUB_HOME": str(tmp_path)})
    assert loaded["server.port"] == 8443
    assert loaded["server.redirect.port"] == 8080
    assert loaded["hub.database.url"] == ""
    assert loaded.sources["server.port"] == "default"


def test_properties_file_values_are_read_and_typed(tmp_path):
    write_properties(
        tmp_path,
        "server.port=9443\nhub.environment.name=Staging EU\n"
        "hub.environment.type=Production\n"
        "hub.security.cors.exclusionPaths=/first-path, /second-path\n",
    )
    loaded = config.load({"HUB_HOME": str(tmp_path)})
    assert loaded["server.port"] == 9443
    assert loaded["hub.environment.name"] == "Staging EU"
    assert loaded["hub.environment.type"] == "production"
    assert loaded["hub.security.cors.exclusionPaths"] == ("/first-path", "/second-path")


def test_environment_variable_overrides_the_file(tmp_path):
    write_properties(tmp_path, "server.port=9443\n")
    loaded = config.load({"HUB_HOME": str(tmp_path), "HUB_SERVER_PORT": "10443"})
    assert loaded["server.port"] == 10443
    assert loaded.sources["server.port"] == "environment variable HUB_SERVER_PORT"


def test_hub_keys_take_their_own_name_as_environment_variable():
    assert config.KEYS_BY_NAME["hub.database.url"].env_name == "HUB_DATABASE_URL"
    assert config.KEYS_BY_NAME["server.ssl.certificate-key"].env_name == "HUB_SERVER_SSL_CERTIFICATE_KEY"


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    write_properties(tmp_path, "server.prot=9443\n")
    with pytest.raises(config.ConfigError) as raised:
        config.load({"HUB_HOME": str(tmp_path)})
    assert "unknown key 'server.prot'" in str(raised.value)
    assert "did you mean 'server.port'" in str(raised.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("server.port=https", "server.port='https' is not valid"),
        ("server.port=70000", "from 1 to 65535"),
        ("hub.environment.type=staging", "production, testing or development"),
        ("hub.database.url=ftp://db", "must be a URL starting with one of"),
        ("hub.security.cors.exclusionPaths=first", "must start with '/'"),
        ("server.ssl.certificate=/tmp/cert.pem", "must be given together"),
    ],
)
def test_malformed_values_are_refused_with_a_clear_message(tmp_path, line, expected):
    write_properties(tmp_path, line + "\n")
    with pytest.raises(config.ConfigError) as raised:
        config.load({"HUB_HOME": str(tmp_path)})
    assert expected in str(raised.value)


def test_every_problem_is_reported_at_once(tmp_path):
    write_properties(tmp_path, "server.port=x\nserver.redirect.port=y\nbogus=1\n")
    with pytest.raises(config.ConfigError) as raised:
        config.load({"HUB_HOME": str(tmp_path)})
    message = str(raised.value)
    assert "server.port" in message and "server.redirect.port" in message and "bogus" in message


def test_template_documents_every_key_with_its_default():
    template = config.default_template()
    for key in config.KEYS:
        assert f"#{key.name}={key.default}" in template
        assert key.env_name in template


def test_shipped_template_is_current():
    shipped = (REPO / "hub.properties.default").read_text()
    assert shipped == config.default_template() + "\n"


def test_start_with_a_bad_file_prints_the_problem_not_a_traceback(tmp_path):
    write_properties(tmp_path, "server.port=not-a-port\n")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"HUB_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "server.port='not-a-port' is not valid" in result.stderr
    assert "Traceback" not in result.stderr
