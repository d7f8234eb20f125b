"""Artifacts streamed out to SQL tables on SQLite, PostgreSQL and MariaDB: Hub proposes the table,
checks its shape (10009E naming a missing column), upserts one row per artifact, picks up what
changed while it was down as one row, and marks deleted artifacts instead of removing their row.
Every check reads the table with plain SQL."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.errors import ConnectorError
from connectors.local import service
from connectors.local.models import LocalItem, LocalProject
from integrations import eds

pytestmark = pytest.mark.django_db(transaction=True)


def rows(stream) -> list[tuple]:
    with eds.open_table(stream.target) as table:
        cursor = table.connection.cursor()
        columns = "artifact_id, formatted_id, title, priority, due, deleted_at"
        cursor.execute(f"SELECT {columns} FROM defects ORDER BY formatted_id")  # noqa: S608 - constant
        return [tuple(row) for row in cursor.fetchall()]


def new_item(summary: str, **fields) -> LocalItem:
    tracker = service.tracker("alpha")
    project = LocalProject.objects.get(tracker=tracker, key="DEMO")
    return service.create_item(
        project, "bug", {"summary": summary, **fields}, reporter=service.hub_user(tracker)
    )


def test_create_table_runs_the_proposed_ddl_and_the_stream_fills_it(stream):
    ddl = eds.proposed_ddl(stream.target)
    assert "CREATE TABLE" in ddl and "deleted_at" in ddl and "PRIMARY KEY" in ddl
    eds.create_table(stream.target)
    eds.test_table(stream.target)
    first = new_item("Printer on fire", priority="high", due_date=dt.date(2026, 12, 24))
    new_item("Paper jam", priority="low")
    assert eds.stream(stream.integration.pk) == 2
    found = rows(stream)
    assert [r[1:4] for r in found] == [("DEMO-1", "Printer on fire", "High"), ("DEMO-2", "Paper jam", "Low")]
    assert str(found[0][4])[:10] == "2026-12-24" and found[0][0] == str(first.pk)
    assert all(r[5] is None for r in found)


def test_a_table_without_a_required_column_is_10009E_naming_it(stream):
    with eds.open_table(stream.target) as table:
        cursor = table.connection.cursor()
        cursor.execute(
            "CREATE TABLE defects (repository_id VARCHAR(64), artifact_id VARCHAR(255), title TEXT)"
        )
        table.connection.commit()
    with pytest.raises(ConnectorError) as refused:
        eds.test_table(stream.target)
    assert refused.value.code == "CCRRTT-10009E"
    assert "priority" in refused.value.message and "deleted_at" in refused.value.message
    new_item("Not streamed")
    assert eds.stream(stream.integration.pk) == 0
    from activity.models import Blocker

    assert Blocker.objects.get(key=f"integration:{stream.integration.pk}:stream").code == "CCRRTT-10009E"


def test_changes_made_while_hub_was_down_arrive_on_restart_as_one_row(stream):
    eds.create_table(stream.target)
    item = new_item("Before the outage", priority="low")
    eds.stream(stream.integration.pk)
    # Hub is down: nothing streams while the item changes three times.
    for summary in ("During 1", "During 2", "After the outage"):
        service.update_item(item.pk, {"summary": summary})
    service.update_item(item.pk, {"priority": "high"})
    assert rows(stream)[0][2] == "Before the outage"
    eds.stream(stream.integration.pk)  # the first pass after restart
    assert [r[1:4] for r in rows(stream)] == [("DEMO-1", "After the outage", "High")]


def test_a_full_scan_rewrites_rows_and_marks_deleted_artifacts(stream):
    eds.create_table(stream.target)
    kept, gone = new_item("Kept"), new_item("Deleted in the tool")
    eds.stream(stream.integration.pk)
    LocalItem.objects.filter(pk=gone.pk).delete()
    eds.stream(stream.integration.pk, full=True)
    found = {r[2]: r for r in rows(stream)}
    assert found["Kept"][5] is None and found["Deleted in the tool"][5] is not None
    assert len(found) == 2 and kept.pk
