"""A credential in a URL never gets stored, and whatever still looks like one is masked on its way
out: history and its log, log files, pages and API answers; URLs stored before are cleaned once."""

import importlib
import logging
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from hub import addresses, audit
from hub.models import ConfigurationChange
from integrations.models import Repository, SqlCollection

pytestmark = pytest.mark.django_db
CANARY = "s3cret-canary"


def test_redact_masks_the_password_of_every_url_in_a_text():
    text = f"got http://bob:{CANARY}@tool.example/x and postgres://hub:{CANARY}@db/h"
    assert CANARY not in addresses.redact(text)
    assert "http://bob:" in addresses.redact(text) and "@tool.example/x" in addresses.redact(text)


def test_history_masks_a_password_inside_a_url(administrator):
    change = audit.record_change(
        administrator, "update", "repository", "R", {"url": "http://a"}, {"url": f"http://u:{CANARY}@h/"}
    )
    change.refresh_from_db()
    assert CANARY not in str(change.after)


def test_log_files_mask_a_password_inside_a_url(settings):
    handler = logging.getLogger().handlers[0]
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "calling %s", (f"https://x:{CANARY}@h/",), None
    )
    assert CANARY not in handler.format(record)


def test_pages_mask_a_url_stored_with_a_password(admin_client):
    Repository.objects.create(label="Old", kind="local", url=f"http://u:{CANARY}@legacy.example/")
    page = admin_client.get("/repositories/").content.decode()
    assert "legacy.example" in page and CANARY not in page


def test_api_answers_mask_a_url_stored_with_a_password(admin_client):
    Repository.objects.create(label="Old", kind="local", url=f"http://u:{CANARY}@legacy.example/")
    answer = admin_client.get("/api/v1/repositories/").content.decode()
    assert "legacy.example" in answer and CANARY not in answer


def test_the_migration_takes_passwords_out_of_stored_urls_and_history(administrator):
    repository = Repository.objects.create(
        label="Old", kind="local", url=f"http://bob:{CANARY}@legacy.example/"
    )
    sql = SqlCollection.objects.create(name="S", database_url=f"postgres://hub:{CANARY}@db/x", table="t")
    ConfigurationChange.objects.create(
        action="create", element_type="repository", element_name="Old", after={"url": repository.url}
    )
    migration = importlib.import_module("integrations.migrations.0004_no_credentials_in_urls")
    migration.take_credentials_out(apps, SimpleNamespace(connection=connection))
    repository.refresh_from_db()
    sql.refresh_from_db()
    assert repository.url == "http://legacy.example/" and repository.username == "bob"
    assert repository.needs_new_credentials
    assert sql.database_url == "postgres://hub@db/x"
    assert CANARY not in str(ConfigurationChange.objects.get().after)
