"""A gateway collection as the source of an Enterprise Data Stream (11.17): payloads to its
endpoint become rows of the SQL collection's table (checked with plain SQL) on SQLite, PostgreSQL
and MariaDB. With a key identifier, a later payload about the same thing updates its row; a table
that cannot take the rows fails the activities visibly and loses nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import ArtifactActivity
from integrations import eds
from integrations.gateway import work
from integrations.models import GatewayCollection, Integration, ModelField, SqlCollection
from integrations.services import new_gateway_token
from tests.gateway.conftest import all_licensed, woken  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gateway_stream(model, master_password, all_licensed, woken, target_database):  # noqa: F811
    ModelField.objects.create(model=model, key="key", label="Key", type="string", position=3)
    collection = GatewayCollection(name="CI builds", model=model)
    token = new_gateway_token(collection)
    collection.save()
    target = SqlCollection.objects.create(
        name="Build report", database_url=target_database.url, table="builds", model=model
    )
    integration = Integration.objects.create(
        name="Builds → report",
        style=Integration.Style.ENTERPRISE_DATA_STREAM,
        gateway_collection=collection,
        sql_collection=target,
        running=True,
    )
    return SimpleNamespace(collection=collection, token=token, target=target, integration=integration)


def post(client, stream, body) -> int:
    response = client.post(
        reverse("gateway-endpoint", args=[stream.collection.pk]),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {stream.token}",
    )
    return response.status_code


def drain():
    while work.process_due(worker="test"):
        pass


def rows(stream) -> list[tuple]:
    with eds.open_table(stream.target) as table:
        cursor = table.connection.cursor()
        cursor.execute(
            "SELECT repository_id, artifact_id, title, priority, deleted_at FROM builds ORDER BY title"
        )
        return [tuple(row) for row in cursor.fetchall()]


def test_payloads_become_rows_of_the_table(client, gateway_stream):
    eds.create_table(gateway_stream.target)
    assert (
        post(client, gateway_stream, [{"title": "Build 41", "priority": "High"}, {"title": "Build 42"}])
        == 202
    )
    drain()
    source = f"gateway-{gateway_stream.collection.pk}"
    assert [r[0] for r in rows(gateway_stream)] == [source, source]
    assert [r[2:] for r in rows(gateway_stream)] == [("Build 41", "High", None), ("Build 42", None, None)]
    activities = ArtifactActivity.objects.filter(integration_id=gateway_stream.integration.pk)
    assert {a.status for a in activities} == {"completed"}
    assert {a.target_collection_name for a in activities} == {"Build report"}


def test_with_a_key_identifier_a_later_payload_updates_its_row(client, gateway_stream):
    Integration.objects.filter(pk=gateway_stream.integration.pk).update(key_identifier="key")
    eds.create_table(gateway_stream.target)
    post(client, gateway_stream, {"key": "job-7#12", "title": "Build 12 running", "priority": "Low"})
    drain()
    post(client, gateway_stream, {"key": "job-7#12", "title": "Build 12 failed", "priority": "High"})
    drain()
    assert [r[1:4] for r in rows(gateway_stream)] == [("job-7#12", "Build 12 failed", "High")]


def test_a_table_that_cannot_take_the_rows_fails_visibly_and_loses_nothing(client, gateway_stream):
    assert post(client, gateway_stream, {"title": "Before the table"}) == 202
    drain()
    failed = ArtifactActivity.objects.get(integration_id=gateway_stream.integration.pk)
    assert failed.status == "failed" and failed.code == "CCRRTT-10009E"
    eds.create_table(gateway_stream.target)
    ArtifactActivity.objects.filter(pk=failed.pk).update(next_retry_at=timezone.now())  # the retry is due
    drain()
    assert [r[2] for r in rows(gateway_stream)] == ["Before the table"]


def test_the_endpoint_answers_503_once_the_stream_stops(client, gateway_stream):
    Integration.objects.filter(pk=gateway_stream.integration.pk).update(running=False)
    assert post(client, gateway_stream, {"title": "Nobody listens"}) == 503
