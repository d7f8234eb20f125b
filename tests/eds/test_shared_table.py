"""Two Enterprise Data Streams writing one table (docs/gateway.md, "Several sources"). A full scan
marks deleted the rows of a repository whose artifact the integration did not see; a second
integration streaming the same repository into the same table has rows the first never sees, so
such a setup is refused (CCRRTT-10008E, on both integrations), while two integrations streaming
different repositories into one table each mark only their own repository's rows. Each check
reads the table with plain SQL, on SQLite, PostgreSQL and MariaDB (``target_database``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.local.models import LocalItem
from integrations import eds, validation
from integrations.models import Integration, SqlCollection
from tests.eds.test_sources import new_item
from tests.integrations.factories import mapped_collection

pytestmark = pytest.mark.django_db(transaction=True)


def rows(stream) -> dict[str, bool]:
    """formatted id → deleted"""
    with eds.open_table(stream.target) as table:
        cursor = table.connection.cursor()
        cursor.execute("SELECT formatted_id, deleted_at FROM defects")
        return {row[0]: row[1] is not None for row in cursor.fetchall()}


def second_stream(stream, collection, *, same_collection: bool = True) -> Integration:
    """Another EDS integration from ``collection`` into the stream's table: through the same SQL
    collection, or through another SQL collection naming the same database and table."""
    target = stream.target
    if not same_collection:
        target = SqlCollection.objects.create(
            name="Reporting again", database_url=stream.target.database_url, table="DEFECTS",
            model=stream.target.model,
        )  # fmt: skip
    return Integration.objects.create(
        name="Operations → reporting",
        style=Integration.Style.ENTERPRISE_DATA_STREAM,
        collection_a=collection,
        sql_collection=target,
        running=True,
    )


@pytest.mark.parametrize("same_collection", [True, False], ids=["same-collection", "same-table"])
def test_two_integrations_streaming_one_repository_into_one_table_are_refused(
    stream, repositories, model, same_collection
):
    eds.create_table(stream.target)
    ops = mapped_collection("Alpha operations", repositories[0], "OPS", model)
    other = second_stream(stream, ops, same_collection=same_collection)
    for integration, peer in ((stream.integration, other), (other, stream.integration)):
        found = eds.problems(Integration.objects.get(pk=integration.pk))
        assert [code for _, code, _ in found] == ["CCRRTT-10008E"]
        assert f"as the integration “{peer.name}” does" in found[0][2] and "“Alpha”" in found[0][2]
    assert {p.code for p in validation.problems()} == {"CCRRTT-10008E"}
    # Refused, neither streams: the full scan of one cannot mark the other's rows deleted.
    new_item("alpha", "DEMO", "In DEMO")
    new_item("alpha", "OPS", "In OPS")
    assert eds.stream(stream.integration.pk, full=True) == 0
    assert eds.stream(other.pk, full=True) == 0
    assert rows(stream) == {}
    # Given to one integration (two sources of one stream), the table is right.
    other.delete()
    stream.integration.more_sources.set([ops])
    assert eds.problems(Integration.objects.get(pk=stream.integration.pk)) == []
    assert eds.stream(stream.integration.pk, full=True) == 2
    assert rows(stream) == {"DEMO-1": False, "OPS-1": False}


def test_two_integrations_of_two_repositories_share_a_table_and_mark_only_their_own_rows(
    stream, repositories, model
):
    eds.create_table(stream.target)
    web = mapped_collection("Beta defects", repositories[1], "WEB", model)
    other = second_stream(stream, web)
    assert eds.problems(Integration.objects.get(pk=stream.integration.pk)) == []
    assert eds.problems(Integration.objects.get(pk=other.pk)) == []
    new_item("alpha", "DEMO", "Kept in DEMO")
    gone = new_item("alpha", "DEMO", "Deleted in DEMO")
    new_item("beta", "WEB", "Kept in WEB")
    assert eds.stream(stream.integration.pk) == 2 and eds.stream(other.pk) == 1
    LocalItem.objects.filter(pk=gone.pk).delete()
    eds.stream(other.pk, full=True)  # beta's scan: alpha's rows are not its to judge
    assert rows(stream) == {"DEMO-1": False, "DEMO-2": False, "WEB-1": False}
    eds.stream(stream.integration.pk, full=True)
    assert rows(stream) == {"DEMO-1": False, "DEMO-2": True, "WEB-1": False}


@pytest.mark.parametrize("target_database", ["sqlite"], indirect=True)
def test_the_form_refuses_a_second_integration_on_the_same_repository_and_table(
    admin_client, stream, repositories, model
):
    ops = mapped_collection("Alpha operations", repositories[0], "OPS", model)
    answer = admin_client.post(
        reverse("integration-create"),
        {
            "style": Integration.Style.ENTERPRISE_DATA_STREAM,
            "name": "Operations → reporting",
            "collection_a": ops.pk,
            "sql_collection": stream.target.pk,
        },
    )
    text = answer.content.decode()
    assert answer.status_code == 200 and "CCRRTT-10008E" in text, text[:3000]
    assert "Defects → reporting" in text
    assert not Integration.objects.filter(name="Operations → reporting").exists()
