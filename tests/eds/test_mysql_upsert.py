"""On MySQL and MariaDB the upsert writes its statements itself (issue #15: the driver's per-value
formatting was a quarter of a stream's CPU): they are the statements mysqlclient's ``executemany``
sends for the same cells, byte for byte, split at the same length."""

from __future__ import annotations

import datetime as dt

import MySQLdb.cursors
import pytest

from connectors.sql import table as sql_table
from tests.support.server import ServerDatabase

FIELDS = {
    "title": "text", "points": "long", "ratio": "double", "done": "boolean", "due": "date",
    "at": "date_time", "tags": "multi_select", "owner": "person",
}  # fmt: skip
NOW = dt.datetime(2026, 12, 4, 19, 30, 15, 123456, tzinfo=dt.UTC)


def row(n: int) -> dict:
    """Cells of every kind, repeated and not: quotes, backslashes, accents, a long text, True and
    1, 0.0 and -0.0, a text where a list or boolean belongs, dates as texts and as dates, instants
    as texts and datetimes, and None."""
    return {
        "repository_id": "1", "artifact_id": str(n), "formatted_id": f"D-{n}", "url": None,
        "synced_at": NOW.isoformat(), "deleted_at": None,
        "title": ["it's a \\ 'quote' ü", "", None, "x" * 5000][n % 4],
        "points": [1, True, 0, None][n % 4], "ratio": [0.0, -0.0, 1.5, None][n % 4],
        "done": [True, False, 1, None, "yes"][n % 5], "due": ["2026-12-01", dt.date(2026, 1, 2), None][n % 3],
        "at": [NOW, NOW.isoformat(), None, "2026-01-01T00:00:00Z"][n % 4],
        "tags": [["a", "b"], [], None, ["ü"], "solo"][n % 5], "owner": "Ann", "owner_id": "7",
    }  # fmt: skip


@pytest.fixture
def target():
    database = ServerDatabase("mariadb", name="hub_eds_mysql_upsert")
    database.create()
    with sql_table.Table(f"mysql://root@127.0.0.1:3306/{database.name}", "", "defects") as table:
        table.create(sql_table.columns_for(FIELDS))
        yield table
    database.drop()


def test_the_upsert_sends_the_statements_of_the_drivers_executemany(target, monkeypatch):
    columns, rows = sql_table.columns_for(FIELDS), [row(n) for n in range(1200)]
    sent: list[bytes] = []
    query = MySQLdb.cursors.BaseCursor._query
    monkeypatch.setattr(
        MySQLdb.cursors.BaseCursor, "_query", lambda cursor, q: sent.append(bytes(q)) or query(cursor, q)
    )

    assert target.upsert(columns, rows) == 1200
    written, sent[:] = list(sent), []
    plan = [(c.name, sql_table.converter(c.field_type, "mysql")) for c in columns]
    cursor = target.connection.cursor()
    cursor.max_stmt_length = sql_table.MYSQL_STATEMENT
    cursor.executemany(
        target.upsert_statement(columns), [[convert(r.get(name)) for name, convert in plan] for r in rows]
    )

    assert len(written) > 1 and all(len(s) <= sql_table.MYSQL_STATEMENT for s in written)
    assert written == sent
