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


def insert_instances(objs: list[models.Model], *, using: str = "default") -> list[models.Model]:
    """Insert unsaved instances of one model as ``bulk_create(objs)`` does — each field's
    ``pre_save`` (``auto_now`` times), its database value, and what the database returns (the new
    primary key, generated columns) set on the instances, which are then saved ones of ``using`` —
    in one multi-row ``INSERT … RETURNING`` on PostgreSQL, without the SQL compiler's per-value
    work. Elsewhere, and for instances with a primary key already, a value that is an expression
    or a multi-table model, it is ``bulk_create`` itself. No ``save()`` runs and no signal is sent
    (as for ``bulk_create``)."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[using]
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key and not f.generated]
    if (
        connection.vendor != "postgresql"
        or meta.parents
        or any(type(obj) is not model or obj.pk is not None for obj in objs)
    ):
        return model._default_manager.using(using).bulk_create(objs)
    # Field.pre_save of most fields only reads the attribute; the others (auto_now times, files)
    # run per row as bulk_create runs them.
    plain = models.Field.pre_save
    special = [f for f in fields if type(f).pre_save is not plain]
    attnames = [f.attname for f in fields]
    raw = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        for field in special:
            field.pre_save(obj, True)
        raw.append([getattr(obj, attname) for attname in attnames])
    if any(hasattr(value, "resolve_expression") for row in raw for value in row):
        return model._default_manager.using(using).bulk_create(objs)
    prepare = [(f.get_db_prep_save, _unchanged(f, connection)) for f in fields]
    values = [
        [
            value if kept is not None and kept(value) else prep(value, connection)
            for (prep, kept), value in zip(prepare, row, strict=True)
        ]
        for row in raw
    ]
    quote = connection.ops.quote_name
    returning = meta.db_returning_fields
    table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returned = ", ".join(quote(f.column) for f in returning)
    # Table and column names come from the model's metadata, quoted; values are parameters.
    statement = f"INSERT INTO {table} ({columns}) VALUES %s RETURNING {returned}"  # noqa: S608
    from psycopg2.extras import execute_values

    with connection.cursor() as cursor, connection.wrap_database_errors:
        rows = execute_values(
            cursor.cursor, statement, values, template=placeholders, page_size=len(values), fetch=True
        )
    converters = [
        (f.attname, [c for c in (*connection.ops.get_db_converters(f), *f.get_db_converters(connection))])
        for f in returning
    ]
    for obj, row in zip(objs, rows, strict=True):
        for (attname, convert), value in zip(converters, row, strict=True):
            for converter in convert:
                value = converter(value, None, connection)
            setattr(obj, attname, value)
        obj._state.adding, obj._state.db = False, using
    return objs


def _unchanged(field, connection):
    """A test of the values that ``field.get_db_prep_save`` returns as they are, or None: a str in a
    char or text column, an int in an integer column or a foreign key to an integer key, a bool in
    a boolean one, an aware datetime where the backend adapts datetimes by returning them, None in
    any of these. Decided from the field's own methods (a subclass that overrides one is left to
    its method), so the per-value work of ``get_db_prep_save`` (10 % of a batch's samples in a
    worker: to_python, the connection's adapters) runs only where it could change the value."""
    from django.db.backends.base.operations import BaseDatabaseOperations
    from django.db.models.fields import AutoFieldMixin

    kind = type(field)
    saves_plainly = kind.get_db_prep_save is models.Field.get_db_prep_save
    prepares_plainly = kind.get_db_prep_value is models.Field.get_db_prep_value
    ops = type(connection.ops)

    def exactly(*types):
        return lambda value: value is None or type(value) in types

    if isinstance(field, models.ForeignKey):
        target = type(field.target_field)
        if (
            isinstance(field.target_field, AutoFieldMixin)
            and target.get_prep_value is models.IntegerField.get_prep_value
            and ops.validate_autopk_value is BaseDatabaseOperations.validate_autopk_value
        ):
            return exactly(int)
        return None
    if not saves_plainly:
        return None
    if prepares_plainly and kind.get_prep_value in (
        models.CharField.get_prep_value,
        models.TextField.get_prep_value,
    ):
        return exactly(str)
    if prepares_plainly and kind.get_prep_value is models.BooleanField.get_prep_value:
        return exactly(bool)
    if (
        kind.get_prep_value is models.IntegerField.get_prep_value
        and kind.get_db_prep_value is models.IntegerField.get_db_prep_value
        and ops.adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value
    ):
        return exactly(int)
    if (
        kind.get_prep_value is models.DateTimeField.get_prep_value
        and kind.get_db_prep_value is models.DateTimeField.get_db_prep_value
    ):
        sample = timezone.now()
        if connection.ops.adapt_datetimefield_value(sample) is sample:
            return lambda value: value is None or (type(value) is type(sample) and value.tzinfo is not None)
    return None
