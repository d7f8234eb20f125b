"""The console's forms for Enterprise Data Stream: the integration's own form refuses what the
validator would block (10004E, 10005E, 10007E); the SQL collection takes its model, refuses Hub's own
database (30015E), and its Test Connection and Create table buttons work against a real table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from integrations import eds
from integrations.models import Integration, Model, ModelField, SqlCollection
from tests.integrations.factories import mapped_collection

pytestmark = pytest.mark.django_db(transaction=True)
EDS = "enterprise_data_stream"


def create(admin_client, **data):
    return admin_client.post(reverse("integration-create"), {"style": EDS, **data})


@pytest.mark.parametrize("target_database", ["sqlite"], indirect=True)
def test_an_eds_integration_is_created_on_its_form(admin_client, stream):
    stream.integration.delete()
    html = admin_client.get(reverse("integration-create"), {"style": EDS}).content.decode()
    assert "New Enterprise Data Stream" in html and "Target SQL collection" in html
    response = create(
        admin_client, name="Again", collection_a=stream.source.pk, sql_collection=stream.target.pk
    )
    integration = Integration.objects.get(name="Again")
    assert response.status_code == 302 and integration.style == EDS
    assert integration.sql_collection == stream.target and integration.collection_a == stream.source
    assert "Target SQL collection" in admin_client.get(response.url).content.decode()


@pytest.mark.parametrize("target_database", ["sqlite"], indirect=True)
def test_the_form_names_each_problem_with_its_code(admin_client, stream, repositories):
    no_target = create(admin_client, name="No target", collection_a=stream.source.pk).content.decode()
    assert "CCRRTT-10004E" in no_target
    no_source = create(admin_client, name="No source", sql_collection=stream.target.pk).content.decode()
    assert "CCRRTT-10005E" in no_source
    other = Model.objects.create(name="Story")
    ModelField.objects.create(model=other, key="title", label="Title", type="string", position=0)
    stories = mapped_collection("Alpha stories", repositories[0], "DEMO", other)
    wrong = create(admin_client, name="Wrong", collection_a=stories.pk, sql_collection=stream.target.pk)
    assert "CCRRTT-10007E" in wrong.content.decode()
    assert not Integration.objects.filter(name__in=["No target", "No source", "Wrong"]).exists()


def test_the_sql_collection_form_refuses_hubs_own_database(admin_client, master_password, monkeypatch):
    own = {"ENGINE": "django.db.backends.postgresql", "HOST": "db.example", "PORT": 5432, "NAME": "hub"}
    monkeypatch.setattr(eds, "settings", SimpleNamespace(DATABASES={"default": own}))
    response = admin_client.post(
        reverse("sql-collection-create"),
        {
            "name": "Mine",
            "database_url": "postgres://reports@db.example:5432/hub",
            "table": "t",
            "password": "",
        },
    )
    assert "CCRRTT-30015E" in response.content.decode() and not SqlCollection.objects.exists()
    admin_client.post(
        reverse("sql-collection-create"),
        {"name": "Other", "database_url": "postgres://reports@db.example:5432/reporting", "table": "t"},
    )
    assert SqlCollection.objects.filter(name="Other").exists()


@pytest.mark.parametrize("target_database", ["sqlite", "postgres"], indirect=True)
def test_test_connection_and_create_table_buttons(admin_client, stream):
    test_url = reverse("sql-collection-test", args=[stream.target.pk])
    table_url = reverse("sql-collection-table", args=[stream.target.pk])
    page = admin_client.get(reverse("sql-collection-edit", args=[stream.target.pk])).content.decode()
    assert "Test Connection" in page and "Create table" in page
    assert "CCRRTT-10009E" in admin_client.post(test_url).content.decode()  # no table yet
    proposed = admin_client.post(table_url).content.decode()
    assert "CREATE TABLE" in proposed and "deleted_at" in proposed and "Run this statement" in proposed
    with pytest.raises(eds.ConnectorError):
        eds.test_table(stream.target)  # shown, not run
    stale = admin_client.post(table_url, {"confirm": "0" * 16}).content.decode()
    assert "CCRRTT-30002E" in stale
    created = admin_client.post(table_url, {"confirm": eds.ddl_digest(eds.proposed_ddl(stream.target))})
    assert "Table defects created." in created.content.decode()
    assert "Connection succeeded" in admin_client.post(test_url).content.decode()
    again = admin_client.post(table_url, {"confirm": eds.ddl_digest(eds.proposed_ddl(stream.target))})
    assert "CCRRTT-30000E" in again.content.decode()  # the table exists: the database's words


@pytest.mark.parametrize("target_database", ["sqlite"], indirect=True)
def test_the_buttons_need_a_model(admin_client, stream):
    SqlCollection.objects.filter(pk=stream.target.pk).update(model=None)
    answer = admin_client.post(reverse("sql-collection-table", args=[stream.target.pk])).content.decode()
    assert "CCRRTT-10006E" in answer and "CREATE TABLE" not in answer
