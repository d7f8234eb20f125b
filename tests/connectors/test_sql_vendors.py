"""The Enterprise Data Stream's Oracle and SQL Server targets without a server (none can run here):
the statements ``Table`` sends parse in the vendor's dialect (sqlglot) with one mark per parameter,
and ``Table`` opens its connection through the vendor's driver (oracledb, pyodbc; their ``connect``
faked) with the arguments the URL gives, or fails with a coded error when a driver is missing."""

from __future__ import annotations

import datetime as dt
import sys

import oracledb
import pyodbc
import pytest
import sqlglot
from sqlglot import exp

from connectors.errors import ConnectorError
from connectors.sql import table

ORACLE_URL = "oracle://scott@db.example.com:1521/REPORTS"
MSSQL_URL = "mssql://hub@sql.example.com:1433/reports?driver=ODBC Driver 18 for SQL Server"
DIALECT = {"oracle": "oracle", "mssql": "tsql"}
FIELDS = {
    "title": "string", "status": "single_select", "done": "boolean", "due": "date",
    "changed": "date_time", "owner": "person", "labels": "multi_select", "estimate": "double",
}  # fmt: skip
ROW = {
    "repository_id": "1", "artifact_id": "A-1", "formatted_id": "A-1", "url": "https://t/A-1",
    "synced_at": dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    "title": "Build failed", "status": "Open", "done": True, "due": "2026-12-24",
    "changed": "2026-12-04T18:00:00Z", "owner": "Ada", "owner_id": "ada", "labels": ["b", "a"],
    "estimate": 1.5,
}  # fmt: skip


class Cursor:
    """A DB-API cursor that records what it is sent and answers a SELECT with ``rows``."""

    def __init__(self, sent: list, rows: list):
        self.sent, self.rows, self.input_sizes = sent, rows, None

    def execute(self, sql, parameters=()):
        self.sent.append((sql, [list(parameters)]))

    def executemany(self, sql, rows):
        self.sent.append((sql, [list(row) for row in rows]))

    def setinputsizes(self, *sizes):
        self.input_sizes = sizes

    def fetchall(self):
        return self.rows

    def close(self):
        pass


class Connection:
    def __init__(self, rows=()):
        self.sent, self.rows, self.cursors, self.commits = [], list(rows), [], 0

    def cursor(self):
        self.cursors.append(Cursor(self.sent, self.rows))
        return self.cursors[-1]

    def commit(self):
        self.commits += 1

    def rollback(self):
        pass

    def close(self):
        pass


@pytest.fixture
def connects(monkeypatch):
    """Each driver's ``connect`` faked: the calls' arguments, and the connection each returned."""
    calls = []

    def connect(*args, **kwargs):
        calls.append((args, kwargs, Connection(rows=[("A-1",), ("A-2",), ("A-3",)])))
        return calls[-1][2]

    monkeypatch.setattr(oracledb, "connect", connect)
    monkeypatch.setattr(pyodbc, "connect", connect)
    monkeypatch.setattr(pyodbc, "drivers", lambda: ["ODBC Driver 18 for SQL Server", "FreeTDS"])
    return calls


def opened(url: str, connects, name: str = "eds.report") -> tuple[table.Table, Connection]:
    target = table.Table(url, "s3cret;}", name)
    return target, connects[-1][2]


def marks(sql: str, vendor: str) -> list[str]:
    """The statement parsed in the vendor's dialect (a ParseError if it does not), and its marks."""
    tree = sqlglot.parse_one(sql, read=DIALECT[vendor])
    return [mark.sql(dialect=DIALECT[vendor]) for mark in tree.find_all(exp.Placeholder)]


@pytest.mark.parametrize("url", [ORACLE_URL, MSSQL_URL])
def test_the_upsert_is_a_merge_of_one_row_with_one_mark_per_value(url, connects):
    target, connection = opened(url, connects)
    columns = table.columns_for(FIELDS)
    assert target.upsert(columns, [ROW, {**ROW, "artifact_id": "A-2"}]) == 2
    [(sql, rows)] = connection.sent
    assert isinstance(sqlglot.parse_one(sql, read=DIALECT[target.vendor]), exp.Merge)
    assert len(marks(sql, target.vendor)) == len(columns) == len(rows[0]) == len(rows[1])
    assert [row[1] for row in rows] == ["A-1", "A-2"] and connection.commits == 1


def test_oracles_merge_selects_from_dual_numbers_its_marks_and_ends_without_a_semicolon(connects):
    target, _connection = opened(ORACLE_URL, connects)
    sql = target.upsert_statement(table.columns_for(FIELDS))
    assert marks(sql, "oracle") == [f":p{n}" for n in range(1, len(table.columns_for(FIELDS)) + 1)]
    assert ' FROM dual) s ON (t."repository_id" = s."repository_id" AND ' in sql
    assert sql.startswith('MERGE INTO "eds"."report" t USING') and not sql.endswith(";")


def test_oracle_compares_and_never_updates_only_the_key_columns(connects):
    """Text columns are CLOBs, which Oracle cannot compare with “=”; a column of the ON clause
    cannot be updated (ORA-38104)."""
    target, _connection = opened(ORACLE_URL, connects)
    merge = sqlglot.parse_one(target.upsert_statement(table.columns_for(FIELDS)), read="oracle")
    compared = {column.name for column in merge.args["on"].find_all(exp.Column)}
    assert compared == {"repository_id", "artifact_id"}
    [matched, _not_matched] = merge.args["whens"].expressions
    updated = {assignment.this.name for assignment in matched.args["then"].expressions}
    assert updated and not updated & compared


def test_sql_servers_merge_is_bracket_quoted_holds_its_lock_and_ends_with_a_semicolon(connects):
    target, _connection = opened(MSSQL_URL, connects)
    sql = target.upsert_statement(table.columns_for(FIELDS))
    assert marks(sql, "mssql") == ["?"] * len(table.columns_for(FIELDS))
    assert sql.startswith("MERGE INTO [eds].[report] WITH (HOLDLOCK) AS t USING (SELECT ? AS [repository_id]")
    assert sql.endswith(";") and '"' not in sql


def test_oracle_binds_the_text_columns_as_clobs_and_values_as_its_driver_stores_them(connects):
    target, connection = opened(ORACLE_URL, connects)
    columns = table.columns_for(FIELDS)
    target.upsert(columns, [ROW])
    sizes = dict(zip([c.name for c in columns], connection.cursors[-1].input_sizes, strict=True))
    assert sizes["title"] is sizes["url"] is sizes["labels"] is oracledb.DB_TYPE_CLOB
    assert sizes["repository_id"] is sizes["estimate"] is sizes["changed"] is None
    values = dict(zip([c.name for c in columns], connection.sent[0][1][0], strict=True))
    assert values["done"] == 1 and values["labels"] == '["b", "a"]'
    # oracledb drops a datetime's zone: it is given UTC, the wall clock the server then stores.
    assert values["synced_at"] == dt.datetime(2026, 12, 4, 19, 0) and values["due"] == dt.date(2026, 12, 24)
    assert values["changed"] == dt.datetime(2026, 12, 4, 18, 0)


@pytest.mark.parametrize("url", [ORACLE_URL, MSSQL_URL])
def test_rows_gone_from_the_tool_are_marked_deleted_in_the_vendors_dialect(url, connects):
    target, connection = opened(url, connects)
    when = dt.datetime(2026, 12, 4, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert target.mark_deleted("1", kept={"A-2"}, when=when) == 2
    [(select, [select_parameters]), (update, update_rows)] = connection.sent
    assert len(marks(select, target.vendor)) == len(select_parameters) == 1
    assert len(marks(update, target.vendor)) == 3
    assert update_rows == [
        [dt.datetime(2026, 12, 4, 19, 30), "1", "A-1"],
        [dt.datetime(2026, 12, 4, 19, 30), "1", "A-3"],
    ]
    quoted = '"deleted_at"' if target.vendor == "oracle" else "[deleted_at]"
    assert quoted in select and quoted in update  # as the proposed table names it


@pytest.mark.parametrize("url", [ORACLE_URL, MSSQL_URL])
def test_the_proposed_table_parses_in_the_vendors_dialect(url, connects):
    target, _connection = opened(url, connects)
    ddl = sqlglot.parse_one(target.proposed_ddl(table.columns_for(FIELDS)), read=DIALECT[target.vendor])
    assert isinstance(ddl, exp.Create)


def test_oracle_connects_in_thin_mode_to_host_port_and_service_name(connects):
    opened(ORACLE_URL, connects)
    [(args, kwargs, _)] = connects
    assert args == ()
    assert kwargs == {
        "user": "scott", "password": "s3cret;}", "dsn": "db.example.com:1521/REPORTS",
        "tcp_connect_timeout": 10,
    }  # fmt: skip


def test_oracle_over_tls_is_tcps_on_port_2484_unless_given_and_passes_its_other_options(connects):
    opened("oracle://scott@db.example.com/REPORTS?protocol=tcps&ssl_server_dn_match=true", connects)
    opened("oracle://scott@db.example.com:3484/REPORTS?protocol=tcps", connects)
    assert connects[0][1]["dsn"] == "tcps://db.example.com:2484/REPORTS"
    assert connects[0][1]["ssl_server_dn_match"] is True and "protocol" not in connects[0][1]
    assert connects[1][1]["dsn"] == "tcps://db.example.com:3484/REPORTS"


def test_sql_server_connects_through_pyodbc_with_the_odbc_driver_and_tls_options_of_the_url(connects):
    opened(MSSQL_URL + "&Encrypt=yes&TrustServerCertificate=no", connects)
    [(args, kwargs, _)] = connects
    assert args == (
        "DRIVER=ODBC Driver 18 for SQL Server;SERVER=sql.example.com,1433;DATABASE=reports;UID=hub;"
        "PWD={s3cret;}}};Encrypt=yes;TrustServerCertificate=no",
    )
    assert kwargs == {"timeout": 10, "autocommit": False}


def test_sql_server_through_freetds_names_the_port_apart(connects):
    opened("mssqlms://hub@sql.example.com/reports?driver=FreeTDS&TDS_Version=7.4", connects)
    assert connects[0][0] == (
        "DRIVER=FreeTDS;SERVER=sql.example.com;PORT=1433;DATABASE=reports;UID=hub;PWD={s3cret;}}};TDS_Version=7.4",
    )


def test_an_mssql_url_is_sql_server_whichever_engine_name_dj_database_url_gives():
    assert table.vendor_of("sql_server.pyodbc") == table.vendor_of("mssql") == "mssql"
    assert table.vendor_of("django.db.backends.oracle") == "oracle"


def test_a_missing_odbc_driver_is_a_deployment_error_naming_it(monkeypatch):
    monkeypatch.setattr(pyodbc, "drivers", lambda: [])  # as on this machine
    with pytest.raises(ConnectorError) as raised:
        table.Table(MSSQL_URL, "pw", "report")
    assert raised.value.code == "CCRRTT-30015E" and not raised.value.transient
    assert "“ODBC Driver 18 for SQL Server”" in raised.value.message and "none" in raised.value.message


@pytest.mark.parametrize(("url", "module"), [(ORACLE_URL, "oracledb"), (MSSQL_URL, "pyodbc")])
def test_a_python_driver_that_cannot_be_loaded_is_a_deployment_error_naming_it(url, module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(ConnectorError) as raised:
        table.Table(url, "pw", "report")
    assert raised.value.code == "CCRRTT-30015E" and f"Python driver {module}" in raised.value.message


@pytest.mark.parametrize("url", [ORACLE_URL, MSSQL_URL])
def test_a_server_that_refuses_the_connection_is_a_transient_1107E(url, connects, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise oracledb.OperationalError("DPY-6005: cannot connect to database")

    monkeypatch.setattr(oracledb, "connect", refuse)
    monkeypatch.setattr(pyodbc, "connect", refuse)
    with pytest.raises(ConnectorError) as raised:
        table.Table(url, "pw", "report")
    assert raised.value.code == "CCRRTT-1107E" and raised.value.transient
