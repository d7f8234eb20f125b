"""One SQL table of an Enterprise Data Stream, on the DB-API drivers Hub already ships: psycopg2
(PostgreSQL), mysqlclient (MySQL, MariaDB), sqlite3, oracledb (Oracle, thin mode) and pyodbc (SQL
Server). The Oracle and SQL Server statements and connection arguments are written and checked
here without a server (a SQL parser, a faked driver); none has run against one (docs/gateway.md).

A row per artifact, keyed by (``repository_id``, ``artifact_id``); Hub's own columns first, then one
column per model field, named by the field's key."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConnectorError

MISSING_COLUMN = "CCRRTT-10009E"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
KEY_COLUMNS = ("repository_id", "artifact_id")
HUB_COLUMNS = (*KEY_COLUMNS, "formatted_id", "url", "synced_at", "deleted_at")
# Rows per statement on PostgreSQL; bytes per statement on MySQL (mysqlclient's default is 64 kB;
# the server's max_allowed_packet is 16 MB by default on MariaDB and 64 MB on MySQL 8).
PG_ROWS = 1000
MYSQL_STATEMENT = 1024 * 1024
CONVERTED = 4096  # parsed date texts a column's converter remembers
MULTI_VALUED = ("multi_select", "persons", "relationships", "web_links", "comments", "attachments")
DEPLOYMENT = "CCRRTT-30015E"  # a driver (Python package, ODBC driver) missing on this machine
ODBC_DRIVER = "ODBC Driver 18 for SQL Server"  # unless the URL names another (``?driver=FreeTDS``)
# Timestamps these drivers bind without their zone: MySQL's DATETIME has none; oracledb and pyodbc
# drop a datetime's tzinfo and the server takes the wall clock as UTC (python-oracledb issue #414).
# They are given UTC.
ZONELESS = ("mysql", "oracle", "mssql")

# Column types of each field type, per dialect.
TYPES = {
    "postgresql": {
        "text": "TEXT", "key": "VARCHAR(255)", "long": "BIGINT", "double": "DOUBLE PRECISION",
        "boolean": "BOOLEAN", "date": "DATE", "date_time": "TIMESTAMP WITH TIME ZONE",
    },
    "mysql": {
        "text": "TEXT", "key": "VARCHAR(255)", "long": "BIGINT", "double": "DOUBLE",
        "boolean": "BOOLEAN", "date": "DATE", "date_time": "DATETIME(6)",
    },
    "sqlite": {
        "text": "TEXT", "key": "TEXT", "long": "INTEGER", "double": "REAL",
        "boolean": "INTEGER", "date": "TEXT", "date_time": "TEXT",
    },
    "oracle": {
        "text": "CLOB", "key": "VARCHAR2(255)", "long": "NUMBER(19)", "double": "BINARY_DOUBLE",
        "boolean": "NUMBER(1)", "date": "DATE", "date_time": "TIMESTAMP WITH TIME ZONE",
    },
    "mssql": {
        "text": "NVARCHAR(MAX)", "key": "NVARCHAR(255)", "long": "BIGINT", "double": "FLOAT",
        "boolean": "BIT", "date": "DATE", "date_time": "DATETIMEOFFSET",
    },
}  # fmt: skip


class TableProblem(ConnectorError):
    """The table cannot take the stream: missing, or missing a column (10009E, naming it)."""

    code = MISSING_COLUMN


@dataclass(frozen=True)
class Column:
    name: str
    field_type: str  # a model field type, or "key" / "text" / "date_time" for Hub's own columns


def kind_of(field_type: str) -> str:
    if field_type in ("long", "duration"):
        return "long"
    if field_type in ("double", "boolean", "date", "date_time", "key"):
        return field_type
    return "text"


PERSON_ID_SUFFIX = {"person": "_id", "persons": "_ids"}  # beside the display name(s): the id(s)


def columns_for(model_fields: Mapping[str, str]) -> list[Column]:
    """Hub's columns and one per model field (key → type), in that order; a Person(s) field has a
    second column for the id(s) (``<key>_id`` / ``<key>_ids``), its own holding the display name(s)."""
    own = [Column("repository_id", "key"), Column("artifact_id", "key"), Column("formatted_id", "text")]
    own += [Column("url", "text"), Column("synced_at", "date_time"), Column("deleted_at", "date_time")]
    fields = []
    for key, kind in model_fields.items():
        if not IDENTIFIER.match(key) or key in HUB_COLUMNS:
            raise ValueError(f"The model field key “{key}” cannot name a column.")
        fields.append(Column(key, kind))
        if kind in PERSON_ID_SUFFIX:
            fields.append(Column(key + PERSON_ID_SUFFIX[kind], kind))
    names = [c.name for c in fields]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(
            f"The column(s) {', '.join(repeated)} would be written twice (a person's id column)."
        )
    return own + fields


def cell(value: Any, field_type: str, vendor: str) -> Any:
    """A model value as the column stores it: multi-values as JSON text, dates as dates."""
    if value is None:
        return None
    if field_type in MULTI_VALUED:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if field_type == "date" and isinstance(value, str):
        return value if vendor == "sqlite" else dt.date.fromisoformat(value)
    if field_type == "date_time" and isinstance(value, str):
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if vendor in ZONELESS:
            return utc(instant)
        return value if vendor == "sqlite" else instant
    if field_type == "boolean":
        # Oracle's column is a NUMBER(1): its SQL has no BOOLEAN before 23ai.
        return int(bool(value)) if vendor == "oracle" else bool(value)
    if isinstance(value, dt.datetime) and vendor in ZONELESS and value.tzinfo is not None:
        return utc(value)
    if isinstance(value, (int, float, str, dt.date)):  # datetime is a date too
        return value
    return json.dumps(value, ensure_ascii=False)


def utc(instant: dt.datetime) -> dt.datetime:
    """``instant`` as the naive UTC time a zoneless driver binds (see ``ZONELESS``)."""
    return instant.astimezone(dt.UTC).replace(tzinfo=None) if instant.tzinfo is not None else instant


SCALARS = (str, int, float)


def converter(field_type: str, vendor: str) -> Callable[[Any], Any]:
    """``cell`` for one column: the text and number values most columns hold pass as they are,
    without ``cell``'s tests (a stream converts every value of every row)."""
    if field_type in ("date", "date_time"):
        # A stream stamps every row of a page with one synced_at, and dates repeat: each text is
        # parsed once per column, not once per row.
        parsed: dict[str, Any] = {}

        def when(value: Any) -> Any:
            if type(value) is not str:
                return cell(value, field_type, vendor)
            known = parsed.get(value, parsed)
            if known is parsed:
                if len(parsed) >= CONVERTED:
                    parsed.clear()
                known = parsed[value] = cell(value, field_type, vendor)
            return known

        return when
    if field_type in MULTI_VALUED or field_type == "boolean":
        return lambda value: cell(value, field_type, vendor)

    def scalar(value: Any) -> Any:
        return value if value is None or type(value) in SCALARS else cell(value, field_type, vendor)

    return scalar


def vendor_of(engine: str) -> str:
    """The dialect of a ``dj_database_url`` engine: ``mssql://`` gives mssql-django's older name
    ``sql_server.pyodbc``, ``mssqlms://`` gives ``mssql``."""
    if "sql_server" in engine or "mssql" in engine:
        return "mssql"
    return next((v for v in ("postgresql", "mysql", "sqlite", "oracle") if v in engine), "postgresql")


def driver(module: str, label: str):
    """The DB-API module ``module``, or a 30015E naming what is missing (pyodbc also fails to load
    without the unixODBC library)."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ConnectorError(
            f"Streaming to {label} needs the Python driver {module}, which cannot be loaded here: {error}",
            code=DEPLOYMENT,
        ) from error


def unreachable(error: Exception) -> ConnectorError:
    return ConnectorError(f"Cannot connect to the database: {error}", code="CCRRTT-1107E", transient=True)


def odbc_connection_string(parts: Mapping[str, Any]) -> str:
    """``KEY=value;…``; a value with ``;``, braces or edge spaces (a password) is braced, its ``}``
    doubled, as ODBC reads it. A yes/no option given as true/false in the URL is written yes/no."""

    def value(raw: Any) -> str:
        text = ("yes" if raw else "no") if isinstance(raw, bool) else str(raw)
        if any(ch in text for ch in ";{}") or text != text.strip():
            return "{" + text.replace("}", "}}") + "}"
        return text

    return ";".join(f"{key}={value(raw)}" for key, raw in parts.items())


class Table:
    """An open connection to the database and the name of the table."""

    def __init__(self, url: str, password: str, table: str):
        import dj_database_url

        self.parsed = dj_database_url.parse(url)
        self.vendor = vendor_of(self.parsed["ENGINE"])
        if not all(IDENTIFIER.match(part) for part in table.split(".")):
            raise TableProblem(f"“{table}” is not a table name Hub can use.", code="CCRRTT-30002E")
        self.table = table
        self.connection = self._connect(password)

    def _connect(self, password: str):
        p = self.parsed
        options = dict(p.get("OPTIONS") or {})
        if self.vendor == "oracle":
            return self._connect_oracle(password, options)
        if self.vendor == "mssql":
            return self._connect_mssql(password, options)
        try:
            if self.vendor == "postgresql":
                import psycopg2

                return psycopg2.connect(
                    dbname=p["NAME"], user=p["USER"], password=password or None,
                    host=p["HOST"] or None, port=p["PORT"] or None, connect_timeout=10, **options,
                )  # fmt: skip
            if self.vendor == "mysql":
                import MySQLdb

                return MySQLdb.connect(
                    database=p["NAME"], user=p["USER"], password=password or "",
                    host=p["HOST"] or "localhost", port=int(p["PORT"] or 3306), connect_timeout=10,
                    charset="utf8mb4", **options,
                )  # fmt: skip
            if self.vendor == "sqlite":
                import sqlite3

                return sqlite3.connect(p["NAME"], timeout=10)
        except Exception as error:  # noqa: BLE001 - every driver has its own error classes
            raise unreachable(error) from error
        raise ConnectorError(f"Hub cannot stream to a {self.vendor} database.", code=DEPLOYMENT)

    def _connect_oracle(self, password: str, options: dict):
        """oracledb in thin mode (no Oracle client libraries): ``dsn`` is Easy Connect,
        ``host:port/service_name``; ``?protocol=tcps`` is TLS (``tcps://host:port/…``, port 2484 unless
        given). Every other URL option is a keyword of ``oracledb.connect`` (``ssl_server_dn_match``,
        ``ssl_server_cert_dn``, ``wallet_location``, …)."""
        p = self.parsed
        oracledb = driver("oracledb", "Oracle")
        tls = str(options.pop("protocol", "tcp")).lower() == "tcps"
        port = p["PORT"] or (2484 if tls else 1521)
        dsn = f"{'tcps://' if tls else ''}{p['HOST'] or 'localhost'}:{port}/{p['NAME']}"
        try:
            return oracledb.connect(
                user=p["USER"], password=password, dsn=dsn, tcp_connect_timeout=10, **options
            )
        except Exception as error:  # noqa: BLE001 - oracledb's errors, and a keyword it does not take
            raise unreachable(error) from error

    def _connect_mssql(self, password: str, options: dict):
        """pyodbc, the driver of mssql-django, with the ODBC driver the URL names (``?driver=…``,
        Microsoft's ODBC Driver 18 unless given); every other URL option goes into the ODBC
        connection string as it is (``Encrypt=yes``, ``TrustServerCertificate=no``,
        ``TDS_Version=7.4`` for FreeTDS, …)."""
        p = self.parsed
        pyodbc = driver("pyodbc", "SQL Server")
        name = str(options.pop("driver", ODBC_DRIVER))
        if "/" not in name and name not in pyodbc.drivers():  # a path names the driver's library itself
            installed = ", ".join(pyodbc.drivers()) or "none"
            raise ConnectorError(
                f"Streaming to SQL Server needs the ODBC driver “{name}”, which is not installed on this "
                f"machine (installed ODBC drivers: {installed}).",
                code=DEPLOYMENT,
            )
        host, port = p["HOST"] or "localhost", p["PORT"] or 1433
        # FreeTDS reads the port from PORT=; Microsoft's drivers from SERVER=host,port.
        server = {"SERVER": host, "PORT": port} if "freetds" in name.lower() else {"SERVER": f"{host},{port}"}
        parts = {"DRIVER": name, **server, "DATABASE": p["NAME"], "UID": p["USER"], "PWD": password}
        try:
            return pyodbc.connect(odbc_connection_string({**parts, **options}), timeout=10, autocommit=False)
        except Exception as error:  # noqa: BLE001 - pyodbc's errors carry the ODBC state
            raise unreachable(error) from error

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- shape ------------------------------------------------------------------------------

    def quote(self, name: str) -> str:
        if self.vendor == "mysql":
            return ".".join(f"`{part}`" for part in name.split("."))
        if self.vendor == "mssql":
            return ".".join(f"[{part}]" for part in name.split("."))
        return ".".join(f'"{part}"' for part in name.split("."))

    def existing_columns(self) -> set[str] | None:
        """The table's column names (lower case), or None when there is no such table."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self.quote(self.table)} WHERE 1 = 0")  # noqa: S608 - quoted name
        except Exception:  # noqa: BLE001 - "no such table" in each driver's words
            self.connection.rollback()
            return None
        names = {description[0].lower() for description in cursor.description}
        cursor.close()
        return names

    def check(self, columns: Sequence[Column]) -> None:
        """Test connection: the table is there with every column the stream writes (10009E)."""
        present = self.existing_columns()
        if present is None:
            raise TableProblem(f"The table {self.table} does not exist; Create table proposes one.")
        missing = [c.name for c in columns if c.name.lower() not in present]
        if missing:
            raise TableProblem(f"The table {self.table} lacks the required column(s) {', '.join(missing)}.")

    def proposed_ddl(self, columns: Sequence[Column]) -> str:
        types = TYPES[self.vendor]
        lines = [
            f"  {self.quote(c.name)} {types[kind_of(c.field_type)]}"
            + (" NOT NULL" if c.name in KEY_COLUMNS else "")
            for c in columns
        ]
        lines.append(f"  PRIMARY KEY ({', '.join(self.quote(k) for k in KEY_COLUMNS)})")
        return f"CREATE TABLE {self.quote(self.table)} (\n" + ",\n".join(lines) + "\n)"

    def create(self, columns: Sequence[Column]) -> None:
        cursor = self.connection.cursor()
        cursor.execute(self.proposed_ddl(columns))
        self.connection.commit()

    # --- rows -----------------------------------------------------------------------------------

    def marks(self, count: int) -> list[str]:
        """The driver's parameter marks for ``count`` parameters in order: ``%s`` for psycopg2 and
        mysqlclient, ``?`` for sqlite3 and pyodbc, ``:p1, :p2, …`` for oracledb, which binds a
        sequence by position whatever the marks' names (named rather than ``:1``: SQL parsers such
        as the tests' sqlglot read names only)."""
        if self.vendor == "oracle":
            return [f":p{number}" for number in range(1, count + 1)]
        return ["?" if self.vendor in ("sqlite", "mssql") else "%s"] * count

    def upsert_statement(self, columns: Sequence[Column], *, rows_mark: bool = False) -> str:
        """The upsert of one row (``rows_mark``: of many, ``VALUES %s`` for psycopg2's
        ``execute_values``)."""
        names = [self.quote(c.name) for c in columns]
        keys = [self.quote(k) for k in KEY_COLUMNS]
        others = [n for c, n in zip(columns, names, strict=True) if c.name not in KEY_COLUMNS]
        marks = self.marks(len(names))
        if self.vendor in ("oracle", "mssql"):
            return self._merge(names, keys, others, marks)
        values = "%s" if rows_mark else f"({', '.join(marks)})"
        insert = f"INSERT INTO {self.quote(self.table)} ({', '.join(names)}) VALUES {values}"  # noqa: S608
        if self.vendor in ("postgresql", "sqlite"):
            updates = ", ".join(f"{n} = excluded.{n}" for n in others)
            return f"{insert} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        return f"{insert} ON DUPLICATE KEY UPDATE " + ", ".join(f"{n} = VALUES({n})" for n in others)

    def _merge(self, names: list[str], keys: list[str], others: list[str], marks: list[str]) -> str:
        """Oracle's and SQL Server's upsert of one row: a MERGE of a one-row source. ``executemany``
        runs it once per row (oracledb sends all the rows in one round trip, pyodbc one each).

        The ON clause compares only the keys (VARCHAR2 / NVARCHAR), never a text column: Oracle
        cannot compare a CLOB with ``=``, and refuses to update a column of the ON clause (ORA-38104),
        so the keys are not in the UPDATE. Oracle takes no ``AS`` before a table alias and selects a
        row ``FROM dual``; SQL Server wants the statement ended with ``;`` and, for an upsert that
        another session may race, ``HOLDLOCK`` on the target."""
        source = ", ".join(f"{mark} AS {name}" for mark, name in zip(marks, names, strict=True))
        on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        if self.vendor == "oracle":
            target, using, end = self.quote(self.table), f"SELECT {source} FROM dual", ""  # noqa: S608
        else:
            target, using, end = f"{self.quote(self.table)} WITH (HOLDLOCK) AS", f"SELECT {source}", ";"
        return (
            f"MERGE INTO {target} t USING ({using}) s ON ({on}) "  # noqa: S608 - quoted names
            f"WHEN MATCHED THEN UPDATE SET {', '.join(f't.{n} = s.{n}' for n in others)} "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}) VALUES ({', '.join(f's.{n}' for n in names)})"
            f"{end}"
        )

    def upsert(self, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or update one row per artifact, in one transaction of the target database, with
        one multi-row statement per batch: ``INSERT … VALUES (…), (…) ON CONFLICT`` on PostgreSQL
        (``execute_values``), ``… ON DUPLICATE KEY UPDATE`` on MySQL (mysqlclient's
        ``executemany`` makes one statement of up to ``MYSQL_STATEMENT`` bytes)."""
        if self.vendor == "mysql":
            return self._mysql_upsert(columns, rows)
        plan = [(c.name, converter(c.field_type, self.vendor)) for c in columns]
        values = [[convert(row.get(name)) for name, convert in plan] for row in rows]
        if not values:
            return 0
        cursor = self.connection.cursor()
        if self.vendor == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(cursor, self.upsert_statement(columns, rows_mark=True), values, page_size=PG_ROWS)
        else:
            if self.vendor == "oracle":
                # Text columns are CLOBs: bound as such, a text longer than a VARCHAR2 goes in too.
                clob = driver("oracledb", "Oracle").DB_TYPE_CLOB
                cursor.setinputsizes(*[clob if kind_of(c.field_type) == "text" else None for c in columns])
            cursor.executemany(self.upsert_statement(columns), values)
        self.connection.commit()
        return len(values)

    def _mysql_upsert(self, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> int:
        """``upsert`` on MySQL: the statements mysqlclient's ``executemany`` would send (each cell
        written by the driver's own ``literal``, rows joined up to ``MYSQL_STATEMENT`` bytes), with
        each date, time or number written once per column and call rather than once per row. A page
        stamps every row with one ``synced_at`` and dates repeat; the driver formats a datetime in
        Python, and that formatting cost a stream more than the rest of a row's cells (issue #15)."""
        connection = self.connection
        literal, string_literal, encoding = connection.literal, connection.string_literal, connection.encoding
        plan = [(c.name, converter(c.field_type, self.vendor), {}) for c in columns]
        tuples = []
        for row in rows:
            cells = []
            for name, convert, written in plan:
                value = convert(row.get(name))
                if value is None:
                    cells.append(b"NULL")
                elif type(value) is str:
                    cells.append(string_literal(value.encode(encoding)))  # as ``literal`` writes a text
                elif type(value) is float:  # 0.0 and -0.0 are equal keys, not equal literals
                    cells.append(literal(value))
                else:
                    key = (type(value), value)  # True and 1 are too
                    text = written.get(key)
                    if text is None:
                        text = written[key] = literal(value)
                    cells.append(text)
            tuples.append(b"(" + b", ".join(cells) + b")")
        if not tuples:
            return 0
        prefix, _, postfix = self.upsert_statement(columns, rows_mark=True).encode(encoding).partition(b"%s")
        cursor = connection.cursor()
        sql = bytearray(prefix)
        for number, values in enumerate(tuples):
            if number and len(sql) + len(values) + len(postfix) + 1 > MYSQL_STATEMENT:
                cursor.execute(bytes(sql + postfix))
                sql = bytearray(prefix)
            elif number:
                sql += b","
            sql += values
        cursor.execute(bytes(sql + postfix))
        connection.commit()
        return len(tuples)

    def mark_deleted(self, repository_id: str, kept: set[str], when: dt.datetime) -> int:
        """Rows of this repository whose artifact is no longer in the tool get ``deleted_at``."""
        table, repository, artifact, deleted = (
            self.quote(name) for name in (self.table, "repository_id", "artifact_id", "deleted_at")
        )  # quoted as the proposed table's: Oracle folds a bare name to upper case
        cursor = self.connection.cursor()
        cursor.execute(
            f"SELECT {artifact} FROM {table} WHERE {repository} = {self.marks(1)[0]} AND {deleted} IS NULL",  # noqa: S608, E501
            [repository_id],
        )
        gone = [row[0] for row in cursor.fetchall() if row[0] not in kept]
        stamp = when.isoformat() if self.vendor == "sqlite" else when
        if self.vendor in ZONELESS:
            stamp = utc(when)
        to, of, named = self.marks(3)
        cursor.executemany(
            f"UPDATE {table} SET {deleted} = {to} WHERE {repository} = {of} AND {artifact} = {named}",  # noqa: S608
            [[stamp, repository_id, artifact_id] for artifact_id in gone],
        )
        self.connection.commit()
        return len(gone)
