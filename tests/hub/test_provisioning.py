"""Headless provisioning commands: each refuses bad input clearly and records history like the console."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from hub import api_tokens, licensing, vault
from hub.models import ApiToken, ConfigurationChange
from hub.roles import is_administrator

REPO = Path(__file__).resolve().parents[2]


def run(*args, stdin: str = "") -> str:
    out = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        sys.stdin = old_stdin
    return out.getvalue()


def secret_file(tmp_path, text: str) -> str:
    path = tmp_path / "secret.txt"
    path.write_text(text + "\n")
    return str(path)


@pytest.mark.django_db
def test_create_administrator_from_a_password_file(tmp_path):
    output = run(
        "create_administrator",
        "--username",
        "ops",
        "--password-file",
        secret_file(tmp_path, "a long enough pw"),
    )
    user = get_user_model().objects.get(username="ops")
    assert "created" in output and is_administrator(user) and user.check_password("a long enough pw")
    change = ConfigurationChange.objects.get(element_type="User")
    assert (change.source, change.action, change.element_name) == ("command", "create", "ops")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--username", "ops", "--password-stdin"], "short\n", "The password is not accepted"),
        (["--username", "ada", "--password-stdin"], "a long enough pw\n", "exists already"),
        (["--username", "bad name!", "--password-stdin"], "a long enough pw\n", "Enter a valid username"),
        (["--username", "ops", "--password-stdin"], "\n", "The password is empty."),
        (["--username", "ops", "--password-file", "/nonexistent/pw"], "", "Cannot read the password"),
    ],
)
def test_create_administrator_refuses_bad_input(administrator, args, stdin, message):
    with pytest.raises(CommandError, match=message):
        run("create_administrator", *args, stdin=stdin)
    assert not get_user_model().objects.filter(username="ops").exists()


@pytest.mark.django_db
def test_set_master_password_then_change_it_then_reset(tmp_path):
    assert (
        run("set_master_password", "--password-stdin", stdin="first master password\n")
        == "Master password set.\n"
    )
    assert vault.state() == vault.SecurityState.UNLOCKED
    with pytest.raises(CommandError, match="set already"):
        run("set_master_password", "--password-stdin", stdin="another master password\n")
    current = secret_file(tmp_path, "first master password")
    run(
        "set_master_password",
        "--password-stdin",
        "--current-password-file",
        current,
        stdin="second master pw\n",
    )
    with pytest.raises(CommandError, match="add --yes"):
        run("set_master_password", "--password-stdin", "--reset", stdin="third master pw\n")
    run("set_master_password", "--password-stdin", "--reset", "--yes", stdin="third master pw\n")
    states = list(
        ConfigurationChange.objects.filter(element_type="Master password", source="command")
        .order_by("id")
        .values_list("after__state", flat=True)
    )
    assert states == ["set", "changed", "reset"]


@pytest.mark.django_db
def test_set_master_password_refuses_a_wrong_current_password(master_password):
    with pytest.raises(CommandError, match="not the current master password"):
        run(
            "set_master_password",
            "--password-stdin",
            "--current-password-stdin",
            stdin="new master password\nnot the current one\n",
        )


@pytest.mark.django_db
def test_issue_and_apply_a_license_with_the_commands(tmp_path, settings):
    key = tmp_path / "vendor.pem"
    output = run("license_keygen", "--private-key", str(key))
    settings.HUB_LICENSE_TRUSTED_KEYS = (output.rsplit(": ", 1)[1].strip(),)
    license_file = tmp_path / "customer.license"
    run(
        "issue_license",
        "--private-key",
        str(key),
        "--licensee",
        "Customer",
        "--issuer",
        "Vendor",
        "--max-users",
        "50",
        "--days",
        "365",
        "--connector-kinds",
        "jira,redmine",
        "--conditional-field-flow",
        "--out",
        str(license_file),
    )
    assert "License applied: Subscription for Customer" in run("apply_license", str(license_file))
    assert licensing.permits(licensing.Feature.CONNECTOR_KIND, "jira")
    assert not licensing.permits(licensing.Feature.CONNECTOR_KIND, "servicenow")
    assert licensing.permits(licensing.Feature.CONDITIONAL_FIELD_FLOW)
    assert not licensing.permits(licensing.Feature.TEST_STEPS)  # the Basic edition, not granted
    assert ConfigurationChange.objects.get(element_type="License").source == "command"


@pytest.mark.django_db
def test_license_keygen_never_overwrites_a_key(tmp_path):
    key = tmp_path / "vendor.pem"
    key.write_text("precious")
    with pytest.raises(CommandError, match="exists already"):
        run("license_keygen", "--private-key", str(key))
    assert key.read_text() == "precious"


@pytest.mark.django_db
def test_apply_license_refuses_an_untrusted_license(tmp_path, licensed):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tests.hub.security_fixtures import license_body

    path = tmp_path / "untrusted.license"
    path.write_text(licensing.sign(license_body(licensee="Untrusted"), Ed25519PrivateKey.generate()))
    with pytest.raises(CommandError, match="does not trust"):
        run("apply_license", str(path))
    assert licensing.current().license == licensed


@pytest.mark.django_db
def test_create_api_token_prints_a_working_token_stored_only_as_a_hash(administrator):
    token = run("create_api_token", "--user", "ada", "--name", "provisioning").strip()
    record = ApiToken.objects.get(user=administrator)
    assert token.startswith("hub_") and token not in (record.token_hash, record.prefix)
    assert api_tokens.authenticate(token) == administrator
    assert ApiToken.objects.get(pk=record.pk).last_used is not None
    assert ConfigurationChange.objects.get(element_type="API token").after["user"] == "ada"
    with pytest.raises(CommandError, match="already has a token named"):
        run("create_api_token", "--user", "ada", "--name", "provisioning")
    with pytest.raises(CommandError, match="no user named"):
        run("create_api_token", "--user", "nobody", "--name", "x")


@pytest.mark.django_db
def test_a_revoked_token_no_longer_authenticates(administrator):
    record, token = api_tokens.create_token(administrator, "ci")
    api_tokens.revoke(record)
    assert api_tokens.authenticate(token) is None
    assert api_tokens.authenticate("hub_not-a-token") is None


def test_a_refused_command_exits_non_zero_with_its_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "apply_license", str(tmp_path / "missing.license")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Cannot read the license" in result.stderr and "Traceback" not in result.stderr
