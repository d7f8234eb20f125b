"""An Enterprise Data Stream fills a PostgreSQL table from a real Redmine (Debian's, on loopback):
the table is read back with plain SQL, a changed issue rewrites its row."""

from __future__ import annotations

import pytest

from integrations import eds
from integrations.models import Integration, SqlCollection
from tests.engine.test_redmine_sync import (  # noqa: F401 - fixtures
    HIGH,
    redmine,
    redmine_collection,
    sync_model,
)
from tests.support.server import ServerDatabase

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reporting():
    database = ServerDatabase("postgres")
    database.create()
    yield database
    database.drop()


def test_an_eds_integration_fills_a_postgresql_table_from_redmine(
    redmine,  # noqa: F811 - the imported fixture, requested
    redmine_peer_server,
    sync_model,  # noqa: F811
    reporting,
    master_password,
    licensed,
):
    project = redmine.new_project()
    first = redmine.create(project, "Checkout times out", priority_id=int(HIGH))
    redmine.create(project, "Typo on the invoice")
    source = redmine_collection(sync_model, redmine_peer_server, [project])
    target = SqlCollection.objects.create(
        name="Reporting", database_url=reporting.url, table="redmine_issues", model=sync_model
    )
    integration = Integration.objects.create(
        name="Redmine → reporting",
        style=Integration.Style.ENTERPRISE_DATA_STREAM,
        collection_a=source,
        sql_collection=target,
        running=True,
    )
    eds.create_table(target)
    assert eds.stream(integration.pk) == 2
    redmine.update(first, subject="Checkout times out under load")
    eds.stream(integration.pk)

    import psycopg2

    with psycopg2.connect(host="127.0.0.1", user="postgres", dbname=reporting.name) as connection:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT artifact_id, title, priority, deleted_at FROM redmine_issues ORDER BY artifact_id::int"
        )
        found = cursor.fetchall()
    connection.close()
    assert found == [
        (first, "Checkout times out under load", "High", None),
        (str(int(first) + 1), "Typo on the invoice", "Low", None),
    ]
