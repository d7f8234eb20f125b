"""One SQL table of an Enterprise Data Stream, on the DB-API drivers Hub already ships: psycopg2
(PostgreSQL), mysqlclient (MySQL, MariaDB), sqlite3; oracledb and mssql have their MERGE written
but no server here to test it on (see docs/gateway.md).

A row per artifact, keyed by (``repository_id``, ``artifact_id``); Hub's own columns first, then one
column per model field, named by the field's key."""

from __future__ import annotations

import datetime as dt
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
        if vendor == "mysql":  # DATETIME has no zone: UTC, like Hub's own timestamps
            return instant.astimezone(dt.UTC).replace(tzinfo=None)
        return value if vendor == "sqlite" else instant
    if field_type == "boolean":
        return bool(value)
    if isinstance(value, dt.datetime) and vendor == "mysql" and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, (int, float, str, dt.date)):  # datetime is a date too
        return value
    return json.dumps(value, ensure_ascii=False)


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


class Table:
    """An open connection to the database and the name of the table."""

    def __init__(self, url: str, password: str, table: str):
        import dj_database_url

        self.parsed = dj_database_url.parse(url)
        engine = self.parsed["ENGINE"]
        self.vendor = next(
            (v for v in ("postgresql", "mysql", "sqlite", "oracle", "mssql") if v in engine), "postgresql"
        )
        if not all(IDENTIFIER.match(part) for part in table.split(".")):
            raise TableProblem(f"“{table}” is not a table name Hub can use.", code="CCRRTT-30002E")
        self.table = table
        self.connection = self._connect(password)

    def _connect(self, password: str):
        p = self.parsed
        options = dict(p.get("OPTIONS") or {})
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
            raise ConnectorError(
                f"Cannot connect to the database: {error}", code="CCRRTT-1107E", transient=True
            ) from error
        raise ConnectorError(
            f"No {self.vendor} server can be reached from this machine to stream to.", code="CCRRTT-30015E"
        )

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

    def upsert_statement(self, columns: Sequence[Column], *, rows_mark: bool = False) -> str:
        """The upsert of one row (``rows_mark``: of many, ``VALUES %s`` for psycopg2's
        ``execute_values``)."""
        names = [self.quote(c.name) for c in columns]
        keys = [self.quote(k) for k in KEY_COLUMNS]
        others = [n for c, n in zip(columns, names, strict=True) if c.name not in KEY_COLUMNS]
        marks = ", ".join(["%s"] * len(names)) if self.vendor != "sqlite" else ", ".join("?" * len(names))
        values = "%s" if rows_mark else f"({marks})"
        insert = f"INSERT INTO {self.quote(self.table)} ({', '.join(names)}) VALUES {values}"  # noqa: S608
        if self.vendor in ("postgresql", "sqlite"):
            updates = ", ".join(f"{n} = excluded.{n}" for n in others)
            return f"{insert} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        if self.vendor == "mysql":
            return f"{insert} ON DUPLICATE KEY UPDATE " + ", ".join(f"{n} = VALUES({n})" for n in others)
        # Oracle and SQL Server: MERGE (written, not testable here).
        source = ", ".join(f"%s AS {n}" for n in names)
        on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        dual = " FROM dual" if self.vendor == "oracle" else ""
        return (
            f"MERGE INTO {self.quote(self.table)} t USING (SELECT {source}{dual}) s ON ({on}) "  # noqa: S608
            f"WHEN MATCHED THEN UPDATE SET {', '.join(f't.{n} = s.{n}' for n in others)} "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}) VALUES ({', '.join(f's.{n}' for n in names)})"
        )

    def upsert(self, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or update one row per artifact, in one transaction of the target database, with
        one multi-row statement per batch: ``INSERT … VALUES (…), (…) ON CONFLICT`` on PostgreSQL
        (``execute_values``), ``… ON DUPLICATE KEY UPDATE`` on MySQL (mysqlclient's
        ``executemany`` makes one statement of up to ``MYSQL_STATEMENT`` bytes)."""
        plan = [(c.name, converter(c.field_type, self.vendor)) for c in columns]
        values = [[convert(row.get(name)) for name, convert in plan] for row in rows]
        if not values:
            return 0
        cursor = self.connection.cursor()
        if self.vendor == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(cursor, self.upsert_statement(columns, rows_mark=True), values, page_size=PG_ROWS)
        else:
            if self.vendor == "mysql":
                cursor.max_stmt_length = MYSQL_STATEMENT
            cursor.executemany(self.upsert_statement(columns), values)
        self.connection.commit()
        return len(values)

    def mark_deleted(self, repository_id: str, kept: set[str], when: dt.datetime) -> int:
        """Rows of this repository whose artifact is no longer in the tool get ``deleted_at``."""
        mark = "?" if self.vendor == "sqlite" else "%s"
        cursor = self.connection.cursor()
        cursor.execute(
            f"SELECT artifact_id FROM {self.quote(self.table)} WHERE repository_id = {mark} AND deleted_at IS NULL",  # noqa: S608, E501
            [repository_id],
        )
        gone = [row[0] for row in cursor.fetchall() if row[0] not in kept]
        stamp = when.isoformat() if self.vendor == "sqlite" else when
        if self.vendor == "mysql":
            stamp = when.astimezone(dt.UTC).replace(tzinfo=None)
        cursor.executemany(
            f"UPDATE {self.quote(self.table)} SET deleted_at = {mark} WHERE repository_id = {mark} AND artifact_id = {mark}",  # noqa: S608, E501
            [[stamp, repository_id, artifact_id] for artifact_id in gone],
        )
        self.connection.commit()
        return len(gone)
