"""An Enterprise Data Stream from the local tracker (alpha's DEMO, the factories' Defect model) into a
table of a throwaway database of each kind: a SQLite file, a PostgreSQL and a MariaDB database of
this test's own, created and dropped here, never the operational one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from integrations.models import FieldMapping, Integration, SqlCollection
from tests.hub.security_fixtures import (  # noqa: F401
    isolated_security,
    issue,
    licensed,
    master_password,
    signing_key,
)
from tests.integrations.factories import *  # noqa: F403
from tests.integrations.factories import mapped_collection
from tests.support.server import ServerDatabase

ENGINES = ["sqlite", "postgres", "mariadb"]


@pytest.fixture(params=ENGINES)
def target_database(request, tmp_path):
    if request.param == "sqlite":
        yield SimpleNamespace(engine="sqlite", url=f"sqlite:///{tmp_path / 'reports.sqlite3'}", drop=None)
        return
    database = ServerDatabase(
        request.param, name=f"hub_eds_{request.node.name[-8:].strip('[]-')}_{id(request) % 10**6}"
    )
    database.create()
    yield database
    database.drop()


@pytest.fixture
def stream(trackers, repositories, model, master_password, licensed, target_database):  # noqa: F811
    source = mapped_collection("Alpha defects", repositories[0], "DEMO", model)
    FieldMapping.objects.create(
        collection=source,
        repository_fields=["due_date"],
        repository_field_types={"due_date": "date"},
        model_fields=["due"],
        model_field_types={"due": "date"},
        direction="to_model",
    )
    target = SqlCollection.objects.create(
        name="Reporting", database_url=target_database.url, table="defects", model=model
    )
    integration = Integration.objects.create(
        name="Defects → reporting",
        style=Integration.Style.ENTERPRISE_DATA_STREAM,
        collection_a=source,
        sql_collection=target,
        running=True,
    )
    return SimpleNamespace(source=source, target=target, integration=integration, database=target_database)
