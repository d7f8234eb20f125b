"""Bulk inserts without Django's per-row model work.

``bulk_create`` builds a model instance per row, runs each field's ``pre_save`` and prepares every
value of every row: about 1 ms of Python per row for an activity, more than the database spends
storing it. Change detection inserts hundreds of rows per page that differ in two columns, so
``insert_rows`` prepares the shared values once and only the varying ones per row, and sends one
statement per page: a multi-row ``INSERT`` on PostgreSQL (psycopg2's ``execute_values``), an
``executemany`` elsewhere (SQLite runs it in-process; mysqlclient rewrites it into one multi-row
``INSERT``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connections, models
from django.utils import timezone


def insert_rows(
    model: type[models.Model],
    common: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    *,
    using: str = "default",
    ignore_conflicts: bool = False,
) -> int:
    """Insert one row per mapping of ``rows`` (field name → value), each completed by ``common``
    (values shared by every row) and then by the fields' defaults; ``auto_now``/``auto_now_add``
    fields get the current time. With ``ignore_conflicts`` a row that would break a unique
    constraint is skipped, as ``bulk_create(ignore_conflicts=True)`` does. No ``save()`` runs and no
    signal is sent. Returns how many rows were sent."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[using]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    varying = {name for row in rows for name in row}
    unknown = (varying | set(common)) - {f.name for f in fields} - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no insertable field {', '.join(sorted(unknown))}")
    now = timezone.now()

    def prepared(field, value):
        return field.get_db_prep_save(value, connection)

    def shared_value(field):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return prepared(field, now)
        for key in (field.name, field.attname):
            if key in common:
                return prepared(field, common[key])
        return prepared(field, field.get_default())

    constants = {f.name: shared_value(f) for f in fields}
    per_row = [f for f in fields if f.name in varying or f.attname in varying]
    values = []
    for row in rows:
        value = dict(constants)
        for field in per_row:
            key = field.name if field.name in row else field.attname
            if key in row:
                value[field.name] = prepared(field, row[key])
        values.append([value[f.name] for f in fields])

    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
            # Table and column names come from the model's metadata, quoted; values are parameters.
            statement = f"INSERT INTO {table} ({columns}) VALUES %s{conflict}"  # noqa: S608
            with connection.wrap_database_errors:  # Django's exceptions, as for its own cursor
                execute_values(cursor.cursor, statement, values, template=placeholders, page_size=len(values))
        else:
            verb = {"sqlite": "INSERT OR IGNORE", "mysql": "INSERT IGNORE"}.get(connection.vendor, "INSERT")
            verb = verb if ignore_conflicts else "INSERT"
            statement = f"{verb} INTO {table} ({columns}) VALUES {placeholders}"  # noqa: S608
            cursor.executemany(statement, values)
    return len(values)
