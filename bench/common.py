"""What the in-process benchmarks share: a PostgreSQL database made on demand, and Django set up
on a fresh data directory with the schema applied."""

from __future__ import annotations

import os
import tempfile


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database ``url`` names unless it exists (other URLs: nothing to do)."""
    if not url.startswith("postgres"):
        return
    import psycopg2

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(database: str) -> None:
    """Django on ``database`` (empty: SQLite in the new data directory), migrated, any host allowed."""
    ensure_database(database)
    os.environ["HUB_HOME"] = tempfile.mkdtemp(prefix="hub-bench-")
    os.environ["HUB_DATABASE_URL"] = database
    os.environ["HUB_BROKER_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def signed_in_client(username: str, role: str):
    """A test client (the whole middleware stack, no network) signed in as ``username``."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from hub.roles import set_role

    user, _ = get_user_model().objects.get_or_create(username=username)
    set_role(user, role)
    client = Client(HTTP_HOST="localhost", secure=True)
    client.force_login(user)
    return client


def defect_model(*, due: bool = False):
    """The benchmarks' Defect model: title (String), priority (Single Select High/Low), optionally
    due (Date)."""
    from integrations.models import Model, ModelField

    model = Model.objects.create(name="Defect")
    ModelField.objects.create(model=model, key="title", label="Title", type="string", position=0)
    ModelField.objects.create(
        model=model,
        key="priority",
        label="Priority",
        type="single_select",
        options=[{"id": "high", "label": "High"}, {"id": "low", "label": "Low"}],
        position=1,
    )
    if due:
        ModelField.objects.create(model=model, key="due", label="Due", type="date", position=2)
    return model
