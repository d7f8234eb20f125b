"""One Enterprise Data Stream with several source repository collections (row 10.03: "at least one
source"): collection A and the more sources stream into one table, each project with its own
watermark; a full scan marks a row deleted only when no source has its artifact any more. Each
check reads the table with plain SQL, on SQLite, PostgreSQL and MariaDB (``target_database``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.local import service
from connectors.local.models import LocalItem, LocalProject
from integrations import eds, validation
from integrations.models import ChangeWatermark, Integration, Model, ModelField
from tests.integrations.factories import mapped_collection

pytestmark = pytest.mark.django_db(transaction=True)


def rows(stream) -> dict[str, tuple]:
    """formatted id → (repository id, title, deleted)"""
    with eds.open_table(stream.target) as table:
        cursor = table.connection.cursor()
        cursor.execute("SELECT formatted_id, repository_id, title, deleted_at FROM defects")
        return {row[0]: (row[1], row[2], row[3] is not None) for row in cursor.fetchall()}


def new_item(tracker: str, project: str, summary: str) -> LocalItem:
    tracker = service.tracker(tracker)
    return service.create_item(
        LocalProject.objects.get(tracker=tracker, key=project),
        "bug",
        {"summary": summary},
        reporter=service.hub_user(tracker),
    )


@pytest.fixture
def more(stream, repositories, model):
    """Beta's WEB (another tool) and alpha's OPS (another project of collection A's tool) as more sources."""
    web = mapped_collection("Beta defects", repositories[1], "WEB", model)
    ops = mapped_collection("Alpha operations", repositories[0], "OPS", model)
    stream.integration.more_sources.set([web, ops])
    eds.create_table(stream.target)
    return web, ops


def test_every_source_streams_into_the_one_table(stream, more, repositories):
    web, ops = more
    new_item("alpha", "DEMO", "Printer on fire")
    new_item("beta", "WEB", "Login page blank")
    new_item("alpha", "OPS", "Backup failed")
    assert [p.code for p in validation.problems()] == []
    assert eds.stream(stream.integration.pk) == 3
    alpha, beta = str(repositories[0].pk), str(repositories[1].pk)
    assert rows(stream) == {
        "DEMO-1": (alpha, "Printer on fire", False),
        "WEB-1": (beta, "Login page blank", False),
        "OPS-1": (alpha, "Backup failed", False),
    }
    # Each source's projects have their own watermark: collection A keeps side A.
    sides = set(ChangeWatermark.objects.filter(integration=stream.integration).values_list("side", "project"))
    assert sides == {("A", "DEMO"), (f"S{web.pk}", "WEB"), (f"S{ops.pk}", "OPS")}
    # A later pass reads what changed (and, by the detection's overlap, what changed just before).
    item = LocalItem.objects.get(summary="Login page blank")
    service.update_item(item.pk, {"summary": "Login page blank on Safari"})
    eds.stream(stream.integration.pk)
    assert rows(stream)["WEB-1"] == (beta, "Login page blank on Safari", False)


def test_a_full_scan_marks_deleted_only_what_no_source_has(stream, more):
    new_item("alpha", "DEMO", "Kept in DEMO")
    new_item("alpha", "OPS", "Kept in OPS")
    gone = new_item("alpha", "OPS", "Deleted in OPS")
    eds.stream(stream.integration.pk)
    LocalItem.objects.filter(pk=gone.pk).delete()
    eds.stream(stream.integration.pk, full=True)
    # DEMO and OPS are two sources on one repository: neither's scan marks the other's rows.
    assert {key: deleted for key, (_, _, deleted) in rows(stream).items()} == {
        "DEMO-1": False, "OPS-1": False, "OPS-2": True,
    }  # fmt: skip


@pytest.mark.parametrize("target_database", ["sqlite"], indirect=True)
def test_a_more_source_of_another_model_is_10007E_and_any_one_source_is_enough(stream, repositories):
    other = Model.objects.create(name="Story")
    ModelField.objects.create(model=other, key="title", label="Title", type="string", position=0)
    stories = mapped_collection("Beta stories", repositories[1], "WEB", other)
    integration = stream.integration
    integration.more_sources.set([stories])
    assert [code for _, code, _ in eds.problems(integration)] == ["CCRRTT-10007E"]
    beta = mapped_collection("Beta defects", repositories[1], "WEB", stream.target.model)
    integration.more_sources.set([beta])
    integration.collection_a = None
    integration.save()
    assert eds.problems(Integration.objects.get(pk=integration.pk)) == []  # a more source alone is a source
    integration.more_sources.clear()
    assert [code for _, code, _ in eds.problems(integration)] == ["CCRRTT-10005E"]


@pytest.mark.parametrize("target_database", ["sqlite"], indirect=True)
def test_the_form_takes_more_sources_and_refuses_one_of_another_model(admin_client, stream, repositories):
    beta = mapped_collection("Beta defects", repositories[1], "WEB", stream.target.model)
    other = Model.objects.create(name="Story")
    ModelField.objects.create(model=other, key="title", label="Title", type="string", position=0)
    stories = mapped_collection("Beta stories", repositories[1], "WEB", other)
    url = reverse("integration-edit", args=[stream.integration.pk])
    assert "More source repository collections" in admin_client.get(url).content.decode()
    base = {
        "name": stream.integration.name,
        "collection_a": stream.source.pk,
        "sql_collection": stream.target.pk,
    }
    wrong = admin_client.post(url, {**base, "more_sources": [beta.pk, stories.pk]})
    assert wrong.status_code == 200 and "CCRRTT-10007E" in wrong.content.decode()
    twice = admin_client.post(url, {**base, "more_sources": [stream.source.pk]})
    assert twice.status_code == 200 and "streamed already" in twice.content.decode()
    assert list(stream.integration.more_sources.all()) == []
    saved = admin_client.post(url, {**base, "more_sources": [beta.pk]})
    assert saved.status_code == 302
    assert list(Integration.objects.get(pk=stream.integration.pk).more_sources.all()) == [beta]


@pytest.mark.parametrize("target_database", ["sqlite"], indirect=True)
def test_history_and_export_carry_the_sources_and_the_target_by_name(stream, repositories):
    """The integration's snapshot (History's values, what export writes and import applies) names
    its SQL collection and more sources; the SQL collection's names its model."""
    from integrations import snapshots
    from integrations.models import SqlCollection

    beta = mapped_collection("Beta defects", repositories[1], "WEB", stream.target.model)
    stream.integration.more_sources.set([beta])
    stream.integration.key_identifier = "title"
    stream.integration.save()
    document = snapshots.snapshot("integration", stream.integration)
    assert document["sql_collection"] == "Reporting" and document["more_sources"] == ["Beta defects"]
    table = snapshots.snapshot("sql collection", stream.target)
    assert table["model"] == stream.target.model.name
    stream.integration.delete()
    SqlCollection.objects.all().delete()
    snapshots.apply("sql collection", table)
    again = snapshots.apply("integration", document)
    assert again.sql_collection.model == stream.target.model and again.collection_a == stream.source
    assert list(again.more_sources.all()) == [beta] and again.key_identifier == "title"
    assert eds.problems(again) == []
