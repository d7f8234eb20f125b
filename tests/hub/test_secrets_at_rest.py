"""Nothing secret is left in clear text in the database, the data directory, the logs or HTML."""

import logging
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from hub import api_tokens
from hub.vault import TOKEN_PREFIX
from settings_app.models import SmtpSettings
from tests.conftest import PASSWORD
from tests.hub.security_fixtures import MASTER_PASSWORD

SMTP_PASSWORD = "Smtp-secret-4c1d-never-in-clear"


def every_row_as_text() -> str:
    """Every row of every table, read through the database connection."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            lines += [repr(row) for row in cursor.fetchall()]
    return "\n".join(lines)


def native_dump() -> str:
    """The database server's own dump tool, where there is one."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    db = connection.settings_dict
    host, port, user, name = db["HOST"] or "127.0.0.1", str(db["PORT"] or ""), db["USER"], db["NAME"]
    if connection.vendor == "postgresql" and shutil.which("pg_dump"):
        command = ["pg_dump", "-h", host, "-p", port or "5432", "-U", user, name]
    elif connection.vendor == "mysql" and shutil.which("mysqldump"):
        command = ["mysqldump", "-h", host, "-P", port or "3306", "-u", user, name]
    else:
        return ""
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return ""


def data_directory_bytes(*roots: Path) -> bytes:
    chunks = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                try:
                    chunks.append(path.read_bytes())
                except OSError:
                    continue
    return b"\n".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_no_secret_is_stored_in_clear_anywhere(admin_client, administrator, settings):
    secrets = [MASTER_PASSWORD, SMTP_PASSWORD, PASSWORD]
    response = admin_client.post(
        "/settings/general/master-password/set/",
        {"new_password": MASTER_PASSWORD, "new_password_again": MASTER_PASSWORD},
    )
    assert response.status_code == 302
    SmtpSettings.objects.create(host="mail.example.com", username="hub", password=SMTP_PASSWORD)
    _, token = api_tokens.create_token(administrator, "provisioning")
    secrets.append(token)
    admin_client.post(
        "/settings/general/master-password/change/",
        {"current_password": "wrong " + SMTP_PASSWORD, "new_password": "x", "new_password_again": "x"},
    )
    logging.getLogger("hub").info("a line written after the secrets were saved")

    dumps = {"rows": every_row_as_text(), "native dump": native_dump()}
    out = StringIO()
    call_command("dumpdata", stdout=out)
    dumps["dumpdata"] = out.getvalue()
    files = data_directory_bytes(Path(django_settings.HUB_HOME), settings.HUB_MASTER_KEY_FILE.parent)
    for name, dump in dumps.items():
        assert not dump or TOKEN_PREFIX in dump, f"the {name} does not even hold the encrypted password"
    for secret in secrets:
        for name, dump in dumps.items():
            assert secret not in dump, f"a secret is in clear text in the {name}"
        assert secret.encode() not in files, "a secret is in clear text under the data directory"
    assert SMTP_PASSWORD[:12] not in dumps["rows"]
    for page in ("/settings/general/", "/settings/license/", "/settings/general/master-password/reset/"):
        html = admin_client.get(page).content.decode()
        for secret in secrets:
            assert secret not in html
