"""Moving Hub from its database to an external one: Test Connection and the Database Transfer job.

The job (``DatabaseTransfer``, a ``activity.jobs`` runner) pauses integrations with a 30011E
blocker, migrates the external database, empties its tables, copies every table in dependency
order in batches (the vault's wrapped data key with them, so secrets stay readable under the same
master password), checks the row counts table by table, and only then writes
``HUB_HOME/database.json`` with the password sealed and asks ``runhub`` to restart its processes
on the new database. Anything that fails before that file is written leaves Hub on the old
database, working; the job says which tables it left in the external one.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.apps.registry import Apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.models.fields import AutoFieldMixin
from django.db.models.functions import Cast
from django.db.utils import load_backend
from django.utils import timezone

from activity.blockers import clear_blocker, raise_blocker
from activity.jobs import JobFailed, JobRunner, register
from activity.models import ArtifactActivity, BackgroundJob, Blocker
from hub import lease, storage, vault
from hub.addresses import redact

log = logging.getLogger("hub.storage")

BLOCKER_KEY = "database-transfer"
PENDING_CONTEXT = "settings_app.storage.password"  # noqa: S105 — a vault context
RESTART_FILE = "restart-requested"  # runhub watches for it
BATCH_SIZE = 1000
COPIED_FIRST = ("integrations.ChangeWatermark",)
DRAIN_SECONDS = 30.0
PROGRESS_SECONDS = 1.0


# --- connections to a database that is not (yet) the operational one ------------------------------


def open_alias(database: dict, purpose: str) -> str:
    """Make ``database`` usable as ``.using(alias)`` in this thread and return the alias.

    The wrapper is not added to ``connections.settings``: it is this thread's, like the connection
    ``hub.health`` opens, and disappears with ``close_alias``."""
    alias = f"hub-{purpose}-{uuid.uuid4().hex[:8]}"
    # configure_settings fills in Django's defaults; it insists on the key 'default'.
    filled = connections.configure_settings({DEFAULT_DB_ALIAS: dict(database)})[DEFAULT_DB_ALIAS]
    connections[alias] = load_backend(filled["ENGINE"]).DatabaseWrapper(filled, alias)
    return alias


def unsupported_columns(database: dict) -> list[str]:
    """The columns of Hub's schema that ``database``'s backend cannot create, as ``table.column``:
    generated columns it has no kind of (Oracle has virtual ones only; the activity and pair
    search columns are stored). Read from the backend's features, without connecting, so Save
    refuses such a database instead of a transfer failing half-way through its migrations."""
    filled = connections.configure_settings({DEFAULT_DB_ALIAS: dict(database)})[DEFAULT_DB_ALIAS]
    features = load_backend(filled["ENGINE"]).DatabaseWrapper(filled, "hub-features").features
    found = []
    for model in apps.get_models():
        for field in model._meta.local_fields:
            if not getattr(field, "generated", False):
                continue
            kind = "stored" if field.db_persist else "virtual"
            if not getattr(features, f"supports_{kind}_generated_columns"):
                found.append(f"{model._meta.db_table}.{field.column}")
    return found


def close_alias(alias: str) -> None:
    try:
        connections[alias].close()
    finally:
        del connections[alias]


def _failure_text(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return redact(text)


# --- Test Connection -----------------------------------------------------------------------------

CHECKS = (
    "connect",
    "tls",
    "create table",
    "create index",
    "alter table",
    "insert",
    "select",
    "update",
    "delete",
    "truncate",
    "temporary table",
    "drop index",
    "drop table",
)
TOO_OLD_TLS = frozenset({"SSLv2", "SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1"})


def _probe_model(table: str):
    """A throw-away model on its own app registry, so creating it never touches Hub's models."""

    class Meta:
        app_label = "hub"
        db_table = table
        apps = Apps()

    attrs = {
        "__module__": __name__,
        "Meta": Meta,
        "id": models.BigIntegerField(primary_key=True),
        "label": models.CharField(max_length=40),
    }
    return type(f"Probe{uuid.uuid4().hex[:8]}", (models.Model,), attrs)


def test_connection(stored: storage.StorageSettings, password: str) -> list[dict]:
    """Connect and check the account may do what Hub does: ``[{check, ok, detail}]`` in order.

    It ignores the backoff (it is how an administrator finds out the settings work again)."""
    results: list[dict] = []
    problem = storage.driver_problem(stored.kind)
    if problem:
        return [{"check": "driver", "ok": False, "detail": problem}]
    results.append({"check": "driver", "ok": True, "detail": storage.KINDS[stored.kind].driver_module})
    alias = open_alias(stored.database(password), "test")
    table = f"hub_probe_{uuid.uuid4().hex[:10]}"
    model = _probe_model(table)
    label_field = model._meta.get_field("label")
    index = models.Index(fields=["label"], name=f"{table}_ix")
    created = False
    try:
        connection = connections[alias]
        steps = (
            ("connect", connection.ensure_connection),
            ("tls", lambda: _check_tls(connection, stored)),
            ("create table", lambda: _schema(connection, lambda editor: editor.create_model(model))),
            ("create index", lambda: _schema(connection, lambda editor: editor.add_index(model, index))),
            ("alter table", lambda: _alter(connection, model, label_field)),
            ("insert", lambda: model._base_manager.using(alias).create(id=1, label="probe")),
            ("select", lambda: list(model._base_manager.using(alias).filter(label="probe"))),
            ("update", lambda: model._base_manager.using(alias).filter(id=1).update(label="probed")),
            ("delete", lambda: model._base_manager.using(alias).filter(id=1).delete()),
            ("truncate", lambda: _truncate(connection, table)),
            ("temporary table", lambda: _temporary_table(connection, f"{table}_tmp")),
            ("drop index", lambda: _schema(connection, lambda editor: editor.remove_index(model, index))),
            ("drop table", lambda: _schema(connection, lambda editor: editor.delete_model(model))),
        )
        for name, step in steps:
            try:
                detail = step()
            except Exception as error:  # noqa: BLE001 — every driver has its own errors
                results.append({"check": name, "ok": False, "detail": _failure_text(error)})
                break
            results.append({"check": name, "ok": True, "detail": detail if isinstance(detail, str) else ""})
            created = name not in ("connect", "tls", "drop table") and (created or name == "create table")
    finally:
        if created and results[-1]["check"] != "drop table":
            try:
                _schema(connections[alias], lambda editor: editor.delete_model(model))
            except Exception:  # noqa: BLE001 — best effort; the failed check above says why
                log.warning("The probe table %s could not be dropped.", table)
        close_alias(alias)
    return results


class TlsRefused(Exception):
    pass


def _tls_requested(stored: storage.StorageSettings) -> bool:
    tls = stored.tls
    return (
        tls.get("sslmode") in ("require", "verify-ca", "verify-full")
        or tls.get("ssl_mode") in ("REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
        or tls.get("protocol") == "tcps"
        or tls.get("Encrypt") in ("yes", "strict")
    )


def session_tls(connection) -> str:
    """The TLS protocol of this session as the server reports it (``TLSv1.3``), ``""`` when the
    session is not encrypted. Oracle and SQL Server report only that it is (``tcps`` / ``TRUE``)."""
    queries = {
        "postgresql": "SELECT COALESCE(MAX(version), '') FROM pg_stat_ssl "
        "WHERE pid = pg_backend_pid() AND ssl",
        "mysql": "SELECT COALESCE(MAX(VARIABLE_VALUE), '') FROM information_schema.SESSION_STATUS "
        "WHERE VARIABLE_NAME = 'SSL_VERSION'",
        "oracle": "SELECT CASE WHEN SYS_CONTEXT('USERENV', 'NETWORK_PROTOCOL') = 'tcps' THEN 'tcps' "
        "ELSE ' ' END FROM DUAL",
        "microsoft": "SELECT CASE WHEN encrypt_option = 'TRUE' THEN 'TRUE' ELSE '' END "
        "FROM sys.dm_exec_connections WHERE session_id = @@SPID",
    }
    with connection.cursor() as cursor:
        cursor.execute(queries[connection.vendor])
        row = cursor.fetchone()
    return (row[0] or "").strip() if row else ""


def _check_tls(connection, stored: storage.StorageSettings) -> str:
    """The database must offer TLS 1.2 or later: a session encrypted with an older protocol fails,
    and so does an unencrypted one when the TLS options ask for encryption."""
    protocol = session_tls(connection)
    if not protocol:
        if _tls_requested(stored):
            raise TlsRefused("The TLS options ask for encryption, but the session is not encrypted.")
        return "not encrypted (no TLS option asks for it)"
    if protocol in TOO_OLD_TLS:
        raise TlsRefused(f"The session uses {protocol}; Hub's database must offer TLS 1.2 or later.")
    return f"encrypted ({protocol})"


def _truncate(connection, table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE TABLE {connection.ops.quote_name(table)}")


def _temporary_table(connection, table: str) -> None:
    """Create, fill and drop a temporary table, the way each kind spells it."""
    name = connection.ops.quote_name(table)
    create = {
        "oracle": f"CREATE GLOBAL TEMPORARY TABLE {name} (id NUMBER(19)) ON COMMIT PRESERVE ROWS",
        "microsoft": f"CREATE TABLE {connection.ops.quote_name('#' + table)} (id BIGINT)",
    }.get(connection.vendor, f"CREATE TEMPORARY TABLE {name} (id BIGINT)")
    if connection.vendor == "microsoft":
        name = connection.ops.quote_name("#" + table)
    with connection.cursor() as cursor:
        cursor.execute(create)
        try:
            cursor.execute(f"INSERT INTO {name} (id) VALUES (1)")  # noqa: S608 — a generated name
            if connection.vendor == "oracle":
                cursor.execute(f"TRUNCATE TABLE {name}")
        finally:
            cursor.execute(f"DROP TABLE {name}")


def _schema(connection, act) -> None:
    with connection.schema_editor() as editor:
        act(editor)


def _alter(connection, model, old_field) -> None:
    new_field = models.CharField(max_length=80)
    new_field.set_attributes_from_name("label")
    new_field.model = model
    _schema(connection, lambda editor: editor.alter_field(model, old_field, new_field))


# --- what is copied, in which order --------------------------------------------------------------


def models_in_order() -> list[type[models.Model]]:
    """Every table Hub's models own, parents before the tables that refer to them."""
    candidates = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and router.allow_migrate_model(DEFAULT_DB_ALIAS, model)
    ]
    by_table = {model._meta.db_table: model for model in candidates}
    ordered: list[type[models.Model]] = []
    seen: set[str] = set()

    def visit(model, path: tuple[str, ...]) -> None:
        table = model._meta.db_table
        if table in seen or table in path:
            return  # done, or a cycle (its constraints are deferred or switched off while copying)
        for field in model._meta.concrete_fields:
            target = field.remote_field.model if field.remote_field else None
            if target is not None and target is not model and target._meta.db_table in by_table:
                visit(by_table[target._meta.db_table], (*path, table))
        seen.add(table)
        ordered.append(model)

    # Watermarks before the activities: a detection that commits while the copy runs then leaves the
    # new database with an older watermark (the change is detected again, and deduplicated) rather
    # than a moved watermark without the activity it stands for.
    first = [m for m in candidates if m._meta.label in COPIED_FIRST]
    for model in [*first, *sorted(candidates, key=lambda m: m._meta.db_table)]:
        visit(model, ())
    return ordered


def row_counts(alias: str, tables: Iterable[type[models.Model]] | None = None) -> dict[str, int]:
    chosen = tables or models_in_order()
    return {model._meta.db_table: model._base_manager.using(alias).count() for model in chosen}


def _copy_table(model, target: str, batch_size: int, on_batch) -> int:
    """Copy one table's rows as stored (no auto_now, secrets as their tokens) in primary-key order.

    Rows are read as tuples (no model instances) and written the fastest way the target knows:
    PostgreSQL's COPY, a multi-row INSERT elsewhere (MySQLdb turns ``executemany`` of an INSERT
    into one statement per batch). JSON columns are read as the text the source stores and written
    as that text; every other value goes through its field's ``get_db_prep_value`` for the target,
    as the ORM would write it (secrets stay tokens, datetimes keep their zone), except for Django's
    own plain types, whose preparation is known (``_plain``)."""
    fields = [field for field in model._meta.concrete_fields if not getattr(field, "generated", False)]
    # A JSON column as its stored text: decoding and encoding it again was a fifth of the copy's CPU.
    json_fields = [field for field in fields if _is_json(field)]
    raw = {f"_raw_{field.attname}": Cast(field.attname, models.TextField()) for field in json_fields}
    names = [f"_raw_{field.attname}" if _is_json(field) else field.attname for field in fields]
    key = names.index(model._meta.pk.attname)
    source = model._base_manager.using(DEFAULT_DB_ALIAS).annotate(**raw).order_by("pk")
    connection = connections[target]
    write = _copy_writer(model, fields, connection)
    copied, last = 0, None
    with transaction.atomic(using=target):
        while True:
            batch = list(
                (source.filter(pk__gt=last) if last is not None else source).values_list(*names)[:batch_size]
            )
            if not batch:
                return copied
            write(batch)
            copied += len(batch)
            last = batch[-1][key]
            on_batch(len(batch))


def _is_json(field) -> bool:
    return isinstance(field, models.JSONField)


_INTEGERS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)
_TEXTS = (models.CharField, models.TextField, models.URLField, models.SlugField, models.EmailField)


def _plain(field) -> str | None:
    """``"integer"``, ``"text"``, ``"boolean"`` or ``"datetime"`` for a field of exactly one of
    Django's own classes (or a foreign key to an integer key), whose ``get_db_prep_value`` returns
    such a value unchanged on PostgreSQL; None for anything else — a subclass (a secret field, say)
    may prepare its value its own way, so it keeps the ORM's preparation."""
    if isinstance(field, models.ForeignKey) and type(field.target_field) in _INTEGERS:
        return "integer"
    kind = type(field)
    if kind in _INTEGERS:
        return "integer"
    if kind in _TEXTS:
        return "text"
    if kind is models.BooleanField:
        return "boolean"
    if kind is models.DateTimeField:
        return "datetime"
    return None


def _prepare(field, value, connection):
    return field.get_db_prep_value(value, connection=connection, prepared=False)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(field, value, connection) -> str:
    """One value in COPY's text format, through the field's preparation for the target."""
    prepared = _prepare(field, value, connection)
    if prepared is None:
        return "\\N"
    if isinstance(prepared, bool):
        return "t" if prepared else "f"
    if isinstance(prepared, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(prepared).hex()
    return str(prepared).translate(_COPY_ESCAPES)


def _copy_converter(field, connection):
    """The function that turns one value of ``field`` into COPY's text format, picked once per
    column rather than per value."""
    plain = "text" if _is_json(field) else _plain(field)
    if plain == "text":
        return lambda value: "\\N" if value is None else value.translate(_COPY_ESCAPES)
    if plain == "integer":
        return lambda value: "\\N" if value is None else str(int(value))
    if plain == "boolean":
        return lambda value: "\\N" if value is None else ("t" if value else "f")
    if plain == "datetime" and settings.USE_TZ:
        # PostgreSQL's adapt_datetimefield_value returns an aware datetime as it is.
        return lambda value: "\\N" if value is None else str(value)
    return lambda value: _copy_text(field, value, connection)


def _parameter_converter(field, connection):
    """The function that turns one value of ``field`` into the driver's parameter for the target."""
    if _is_json(field):
        return lambda value: value  # already the stored JSON text
    if _plain(field) in ("text", "integer"):
        return lambda value: value
    return lambda value: _prepare(field, value, connection)


def _copy_writer(model, fields, connection):
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    if connection.vendor == "postgresql":
        statement = f"COPY {table} ({columns}) FROM STDIN"
        converters = [_copy_converter(field, connection) for field in fields]

        def write(rows) -> None:
            text = "".join(
                "\t".join([convert(value) for convert, value in zip(converters, row, strict=True)]) + "\n"
                for row in rows
            )
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(statement, io.StringIO(text))

        return write
    placeholders = ", ".join(["%s"] * len(fields))
    statement = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 — names from the models
    converters = [_parameter_converter(field, connection) for field in fields]
    # SQL Server refuses explicit values for an IDENTITY column unless the session allows them for
    # that table (mssql-django's own compiler does the same for inserts that carry the key).
    identity = connection.vendor == "microsoft" and isinstance(model._meta.pk, AutoFieldMixin)

    def write(rows) -> None:
        prepared = [[convert(value) for convert, value in zip(converters, row, strict=True)] for row in rows]
        with connection.cursor() as cursor:
            if identity:
                cursor.execute(f"SET IDENTITY_INSERT {table} ON")
            cursor.executemany(statement, prepared)
            if identity:
                cursor.execute(f"SET IDENTITY_INSERT {table} OFF")

    return write


# --- the job -------------------------------------------------------------------------------------


def run_dir() -> Path:
    path = Path(settings.HUB_HOME) / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_restart() -> None:
    """Ask ``runhub`` to restart every process (web, workers, beat) so they open the new database."""
    (run_dir() / RESTART_FILE).write_text(str(time.time()))


def _heartbeat(job: BackgroundJob) -> None:
    job.details["heartbeat"] = time.time()
    BackgroundJob.objects.filter(pk=job.pk).update(details=job.details)


@contextmanager
def _beating(job: BackgroundJob, every: float = 10.0):
    """Keep the job's heartbeat fresh from a thread of its own (with its own connection) while the
    block runs a long step that cannot report progress."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                details = {**job.details, "heartbeat": time.time()}
                BackgroundJob.objects.filter(pk=job.pk).update(details=details)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"transfer-heartbeat-{job.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def recover_interrupted(now: float | None = None) -> list[int]:
    """Mark transfers whose process died (no heartbeat for HUB_TRANSFER_STALE_SECONDS) as failed and
    let integrations run again on the old database, which Hub never left."""
    now = now or time.time()
    stale = []
    for job in BackgroundJob.objects.filter(
        kind=BackgroundJob.Kind.DATABASE_TRANSFER, status=BackgroundJob.Status.PROCESSING
    ):
        beat = job.details.get("heartbeat")
        beat = float(beat) if beat is not None else (job.started or job.created).timestamp()
        if now - beat < settings.HUB_TRANSFER_STALE_SECONDS:
            continue
        job.status = BackgroundJob.Status.FAILED
        job.code = storage.UNREACHABLE_CODE
        job.message = (
            "The transfer stopped half-way (its process ended). Hub stayed on its current database. Tables "
            "left in the external database: " + ", ".join(job.details.get("tables_copied", [])[:50]) + ". A "
            "new transfer empties them first."
        )
        job.finished = timezone.now()
        job.save(update_fields=["status", "code", "message", "finished"])
        stale.append(job.pk)
    if (
        stale
        and not BackgroundJob.objects.filter(
            kind=BackgroundJob.Kind.DATABASE_TRANSFER, status=BackgroundJob.Status.PROCESSING
        ).exists()
    ):
        clear_blocker(BLOCKER_KEY)
    return stale


def start_transfer(stored: storage.StorageSettings, password_token: str, requested_by: str) -> BackgroundJob:
    recover_interrupted()
    return DatabaseTransfer.enqueue(
        name=f"Database transfer to {storage.KINDS[stored.kind].label} ({redact(stored.location)})",
        parameters={**stored.as_public_dict(), "password_token": password_token},
        requested_by=requested_by,
    )


@register
class DatabaseTransfer(JobRunner):
    kind = BackgroundJob.Kind.DATABASE_TRANSFER
    exclusive = True
    holds_integrations = True

    @classmethod
    def recover_interrupted(cls, now) -> None:
        recover_interrupted()  # judged by the transfer's own heartbeat; it also frees the integrations

    def run(self, *, password_token: str, batch_size: int = BATCH_SIZE, switch: bool = True, **public):
        stored = storage.StorageSettings.from_dict(public)
        try:
            stored.validate()
        except storage.StorageError as error:
            raise JobFailed(error.code, error.message) from None
        password = vault.decrypt(password_token, PENDING_CONTEXT)
        if settings.DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] == stored.database("")["ENGINE"] and (
            _same_database(settings.DATABASES[DEFAULT_DB_ALIAS], stored.database(""))
        ):
            raise JobFailed(storage.INVALID_CODE, "The external database is the one Hub already uses.")
        self.job.details["tables_copied"] = []
        _heartbeat(self.job)
        alias = open_alias(stored.database(password), "transfer")
        raise_blocker(
            BLOCKER_KEY,
            storage.LOCKED_CODE,
            "The operational database is being transferred; integrations pause and resume by themselves "
            "when it is done.",
            impact=Blocker.Impact.ALL,
            related=[{"label": "Settings → Storage", "url": "/settings/general/storage/"}],
        )
        try:
            details = self._transfer(alias, batch_size)
            if switch:
                self._switch(alias, stored, password, details)
            return details
        except JobFailed:
            raise
        except Exception as error:  # noqa: BLE001 — any failure: stay on the old database
            left = self._tables_left(alias)
            raise JobFailed(
                storage.UNREACHABLE_CODE,
                f"The transfer failed ({_failure_text(error)}). Hub stays on its current database. "
                + "Hub's tables were created in the external database"
                + (f"; these hold copied rows: {', '.join(left)}" if left else "")
                + ". A new transfer empties them first; or drop them.",
            ) from None
        finally:
            clear_blocker(BLOCKER_KEY)
            close_alias(alias)
            self.job.parameters.pop("password_token", None)
            BackgroundJob.objects.filter(pk=self.job.pk).update(parameters=self.job.parameters)

    def _transfer(self, alias: str, batch_size: int) -> dict:
        self._drain()
        self.log("Migrating the external database …")
        with _beating(self.job):  # migrating can take minutes; the job must not look dead meanwhile
            call_command("migrate", database=alias, interactive=False, verbosity=0)
            self.set_progress(10)
            self._refuse_another_instances(alias)
            ordered = models_in_order()
            total = max(1, sum(row_counts(DEFAULT_DB_ALIAS, ordered).values()))
            self._empty(alias, ordered)
        done = 0
        started, cpu = time.monotonic(), time.thread_time()
        reported = 0.0

        def on_batch(rows: int) -> None:
            # Progress and heartbeat at most once a second: each is a write to the old database.
            nonlocal done, reported
            done += rows
            if time.monotonic() - reported >= PROGRESS_SECONDS:
                reported = time.monotonic()
                self.set_progress(10 + 85 * done // total)
                _heartbeat(self.job)

        target = connections[alias]
        with target.constraint_checks_disabled():
            for model in ordered:
                copied = _copy_table(model, alias, batch_size, on_batch)
                self.job.details["tables_copied"].append(model._meta.db_table)
                _heartbeat(self.job)
                if copied:
                    self.log(f"Copied {copied} rows of {model._meta.db_table}.")
        with target.cursor() as cursor:
            for statement in target.ops.sequence_reset_sql(no_style(), ordered):
                cursor.execute(statement)
        seconds, cpu = time.monotonic() - started, time.thread_time() - cpu
        source_counts, target_counts = row_counts(DEFAULT_DB_ALIAS, ordered), row_counts(alias, ordered)
        differing = {t: (n, target_counts[t]) for t, n in source_counts.items() if target_counts[t] != n}
        if differing:
            self.log(f"Row counts changed while copying (source, target): {differing}", "warning")
        self.log(f"Copied {done} rows of {len(ordered)} tables in {seconds:.1f} s.")
        return {
            "rows": done,
            "tables": len(ordered),
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),  # this thread's: the measure that the machine's load distorts least
            "differing": differing,
        }

    def _refuse_another_instances(self, alias: str) -> None:
        """Emptying the tables must never wipe a database another Hub instance owns; what a failed
        transfer of this instance left (its copied lease is ours) may be emptied."""
        from hub.instance import instance_id
        from hub.models import InstanceLease

        other = InstanceLease.objects.using(alias).exclude(instance_id=instance_id()).first()
        if other is not None:
            raise JobFailed(
                lease.CODE,
                f"The external database belongs to another Hub instance (on {other.host}); nothing was "
                "copied. Give Hub an empty database of its own.",
            )

    def _drain(self) -> None:
        """Let batches already claimed finish before copying (new ones are held by the blocker)."""
        deadline = time.monotonic() + DRAIN_SECONDS
        processing = ArtifactActivity.objects.filter(status=ArtifactActivity.Status.PROCESSING)
        while processing.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _empty(self, alias: str, ordered: list) -> None:
        """A freshly migrated database still holds rows its migrations made (content types,
        schedules); the copy brings the originals, with their ids."""
        target = connections[alias]
        tables = [model._meta.db_table for model in ordered]
        statements = target.ops.sql_flush(no_style(), tables, allow_cascade=True)
        with transaction.atomic(using=alias), target.constraint_checks_disabled(), target.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _switch(self, alias: str, stored: storage.StorageSettings, password: str, details: dict) -> None:
        from activity.models import BackgroundJob as Job

        now = timezone.now()
        message = "Database Transfer Completed. Hub restarts its processes on the new database."
        self.job.log.append({"time": now.isoformat(), "level": "info", "message": message})
        Blocker.objects.using(alias).filter(key=BLOCKER_KEY).delete()
        parameters = {k: v for k, v in self.job.parameters.items() if k != "password_token"}
        Job.objects.using(alias).filter(pk=self.job.pk).update(
            status=Job.Status.COMPLETED,
            progress=100,
            log=self.job.log,
            details={**self.job.details, **details},
            parameters=parameters,
            finished=now,
        )
        storage.write_file(settings.HUB_HOME, stored, vault.seal_outside(password, storage.PASSWORD_CONTEXT))
        storage.clear_backoff(run_dir())
        BackgroundJob.objects.filter(pk=self.job.pk).update(log=self.job.log)
        request_restart()
        log.warning("Database transfer completed; Hub switches to %s.", redact(stored.location))

    def _tables_left(self, alias: str) -> list[str]:
        try:
            return sorted(
                model._meta.db_table
                for model in models_in_order()
                if model._base_manager.using(alias).exists()
            )
        except Exception:  # noqa: BLE001 — the target itself is the problem; say what was reached
            return list(self.job.details.get("tables_copied", []))


def _same_database(current: dict, other: dict) -> bool:
    keys = ("HOST", "PORT", "NAME")
    return all(str(current.get(key) or "") == str(other.get(key) or "") for key in keys)
