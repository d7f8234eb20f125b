"""Enterprise Data Stream: every artifact of the source collections (collection A and the more
sources, repository collections; a gateway collection) as one row of the SQL collection's table
(``connectors.sql.table``), keyed by repository and artifact id.

It runs where change detection runs (the same beat entries: ``detection.detect`` hands EDS
integrations here). Each pass reads what changed since the watermark of each project and upserts
those rows; the watermark moves only after the rows are committed in the target database, so what
changed while Hub was down is read on the first pass after restart, and an artifact changed several
times in between arrives as one row with its latest values. A full scan rewrites every row and marks
rows of artifacts the tool no longer has with ``deleted_at``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.utils import timezone

from activity.blockers import clear_blocker, raise_blocker
from activity.models import Blocker
from connectors.errors import ConnectorError
from connectors.sql.table import PERSON_ID_SUFFIX, Column, Table, columns_for
from integrations.engine import mapping
from integrations.engine.detection import changed_pages
from integrations.models import ChangeWatermark, Integration, SqlCollection
from integrations.secrets import unseal

logger = logging.getLogger("hub.engine")
NOT_STREAMED = ("comments", "attachments", "time_entries", "container")
FIELD_CODES = {"sql": "CCRRTT-10004E", "source": "CCRRTT-10005E", "model": "CCRRTT-10006E"}


def model_types(model) -> dict[str, str]:
    return {f.key: f.type for f in model.fields.all() if f.type not in NOT_STREAMED}


def columns(collection: SqlCollection) -> list[Column]:
    return columns_for(model_types(collection.model))


def open_table(collection: SqlCollection) -> Table:
    return Table(collection.database_url, unseal(collection.password) or "", collection.table)


def _database_identity(database: dict) -> tuple[str, ...]:
    """(engine, host, port, name) of a Django database definition, as far as they tell one
    database from another."""
    engine = database["ENGINE"].rsplit(".", 1)[-1]
    if "sqlite" in engine:
        return (engine, str(database["NAME"]))
    return (
        engine,
        database.get("HOST") or "localhost",
        str(database.get("PORT") or ""),
        database.get("NAME"),
    )


def _url_identity(url: str) -> tuple[str, ...] | None:
    import dj_database_url

    try:
        return _database_identity(dj_database_url.parse(url))
    except Exception:  # noqa: BLE001 - an unparsable URL is the URL check's to refuse, not this one's
        return None


def is_operational_database(collection: SqlCollection) -> bool:
    """Whether the URL names Hub's own operational database (refused: reports must not share it)."""
    return _url_identity(collection.database_url) == _database_identity(settings.DATABASES["default"])


def operational_database_refusal(url: str) -> str:
    """The refusal of a SQL collection's database URL naming Hub's own database, or ''."""
    if url and is_operational_database(SqlCollection(database_url=url)):
        return "CCRRTT-30015E: this is Hub's own operational database; reports need a database of their own."
    return ""


def same_table(one: SqlCollection, other: SqlCollection) -> bool:
    """Whether two SQL collections write one table: the same collection, or the same database and
    table name (compared without case: MariaDB on some systems, and unquoted names, ignore it)."""
    if one.pk is not None and one.pk == other.pk:
        return True
    where = _url_identity(one.database_url)
    return (
        where is not None
        and where == _url_identity(other.database_url)
        and one.table.strip().lower() == other.table.strip().lower()
    )


def shared_table_problems(integration: Integration, sources: list, target: SqlCollection) -> list:
    """A full scan marks deleted the rows of a repository whose artifact this integration did not
    see; another integration streaming the same repository into the same table has rows this one
    never sees, so the two would mark each other's rows deleted. Such a setup is refused (10008E:
    the table is the target collection's one project); several sources of one integration are fine."""
    repositories = {source.repository_id: source.repository for source in sources}
    if not repositories or not target.table:
        return []
    others = (
        Integration.objects.filter(
            style=Integration.Style.ENTERPRISE_DATA_STREAM, sql_collection__isnull=False
        )
        .exclude(pk=integration.pk)
        .select_related("sql_collection", "collection_a__repository")
        .prefetch_related("more_sources__repository")
        .order_by("pk")
    )
    found = []
    for other in others:
        if not same_table(other.sql_collection, target):
            continue
        shared = [one.repository for one in repository_sources(other) if one.repository_id in repositories]
        if shared:
            found.append(
                (
                    f"shared-table-{other.pk}",
                    "CCRRTT-10008E",
                    f"streams the repository “{shared[0].label}” into the table “{target.table}”, as the "
                    f"integration “{other.name}” does: a full scan of either would mark the other's rows "
                    "deleted. Stream each repository into a table from one integration only (one "
                    "integration may have several source collections)",
                )
            )
    return found


def repository_sources(integration: Integration, more=None) -> list:
    """The repository collections an EDS integration streams: collection A, then the more sources
    (``more``: those to judge instead of the saved ones, as a form has them before saving)."""
    found = [integration.collection_a] if integration.collection_a is not None else []
    if more is None:
        more = integration.more_sources.all() if integration.pk else []
    for collection in more:
        if all(collection.pk != one.pk for one in found):
            found.append(collection)
    return found


def watermark_side(integration: Integration, collection) -> str:
    """Collection A keeps side A's watermarks; each further source has its own side, ``S<its id>``
    (two sources may read projects of the same key in different tools)."""
    return "A" if collection.pk == integration.collection_a_id else f"S{collection.pk}"


def problems(integration: Integration, more=None) -> list[tuple[str, str, str]]:
    """(detail, code, message) for each problem of an EDS integration's configuration; ``more``:
    the further source collections to judge instead of the saved ones."""
    from integrations.gateway.checks import collection_problems

    found = []
    target, gateway = integration.sql_collection, integration.gateway_collection
    sources = repository_sources(integration, more)
    if target is None:
        found.append(("sql", "CCRRTT-10004E", "has no target SQL collection"))
    if not sources and gateway is None:
        found.append(("source", "CCRRTT-10005E", "has no source collection"))
    if gateway is not None:
        for detail, code, message in collection_problems(gateway):
            found.append(
                (f"gateway-{detail}", code, f"reads the gateway collection “{gateway.name}”, which {message}")
            )
    if target is None:
        return found
    if target.model_id is None:
        found.append(("model", "CCRRTT-10006E", f"streams to “{target.name}”, which is mapped to no model"))
    else:
        named = [
            ("source-model" if one.pk == integration.collection_a_id else "more-model", one)
            for one in sources
        ]
        for detail, one in [*named, ("gateway-model", gateway)]:
            if one is not None and one.model_id != target.model_id:
                found.append((detail, "CCRRTT-10007E", f"reads “{one.name}”, mapped to another model"))
    key = integration.key_identifier
    if key and target.model_id and key not in model_types(target.model):
        found.append(("key", "CCRRTT-1416E", f"has the key identifier “{key}”, no field of the model"))
    if not target.table:
        found.append(("table", "CCRRTT-10008E", f"streams to “{target.name}”, which names no table"))
    if is_operational_database(target):
        found.append(("database", "CCRRTT-30015E", "streams into Hub's own operational database"))
    found += shared_table_problems(integration, sources, target)
    return found


def test_table(collection: SqlCollection) -> None:
    """Credentials, TLS options of the URL and the table's shape; raises ConnectorError (10009E
    naming the missing columns)."""
    with open_table(collection) as table:
        table.check(columns(collection))


def proposed_ddl(collection: SqlCollection) -> str:
    with open_table(collection) as table:
        return table.proposed_ddl(columns(collection))


def create_table(collection: SqlCollection) -> None:
    """Run the proposed DDL; the database's refusal (the table exists, no CREATE privilege) is a
    ConnectorError with the driver's words."""
    with open_table(collection) as table:
        try:
            table.create(columns(collection))
        except Exception as error:  # noqa: BLE001 - every driver has its own error classes
            table.connection.rollback()
            raise ConnectorError(f"The database refused the table: {error}", code="CCRRTT-30000E") from error


def unusable(collection: SqlCollection) -> ConnectorError | None:
    """Why the screen's Test connection / Create table cannot run (no model, Hub's own database)."""
    if collection.model_id is None:
        return ConnectorError(
            f"The SQL collection “{collection.name}” has no model: choose the model reported on.",
            code="CCRRTT-10006E",
        )
    if is_operational_database(collection):
        return ConnectorError("This is Hub's own operational database; choose another.", code="CCRRTT-30015E")
    return None


def ddl_digest(ddl: str) -> str:
    """What the confirmation of Create table carries: the statement run is the one shown."""
    import hashlib

    return hashlib.sha256(ddl.encode()).hexdigest()[:16]


class RowMaker:
    """Rows of the table: Hub's columns (repository id, artifact id, formatted id, URL) and the
    model values, selects by their label, persons by display name (``names``: id → display name;
    without it, or for an unknown person, the id) with their id(s) in the column beside. Made once
    per pass: the select labels are looked up once, not once per row and field."""

    def __init__(self, fields: dict, names: Callable[[str], str] | None = None):
        self.names = names or str
        self.fields = [
            (key, field.type, {str(o.get("id")): o.get("label", o.get("id")) for o in (field.options or [])})
            for key, field in fields.items()
        ]

    def __call__(
        self, identity: tuple[str, str, str, str], values: dict, synced_at: str | None = None
    ) -> dict:
        repository_id, artifact_id, formatted_id, url = identity
        row = {
            "repository_id": repository_id,
            "artifact_id": artifact_id,
            "formatted_id": formatted_id,
            "url": url,
            "synced_at": synced_at or timezone.now().isoformat(),
            "deleted_at": None,
        }
        named = self.names
        for key, field_type, labels in self.fields:
            value = values.get(key)
            if field_type == "single_select" and value is not None:
                value = labels.get(str(value), value)
            elif field_type == "multi_select" and value:
                value = sorted(labels.get(str(v), v) for v in value)
            elif field_type in PERSON_ID_SUFFIX:
                row[key + PERSON_ID_SUFFIX[field_type]] = value
                if field_type == "person" and value not in (None, ""):
                    value = named(str(value))
                elif field_type == "persons" and value:
                    value = sorted(named(str(v)) for v in value)
            row[key] = value
        return row


def person_names(connector) -> Callable[[str], str]:
    """Display names of the tool's persons, each read once per pass; the id when the tool has no
    such person (any more) or cannot say."""
    known: dict[str, str] = {}

    def name(person_id: str) -> str:
        if person_id not in known:
            try:
                person = connector.read_person(person_id)
                known[person_id] = person.display_name or person.username or person_id
            except ConnectorError:
                known[person_id] = person_id
        return known[person_id]

    return name


def stream(integration_id: int, *, full: bool = False) -> int:
    """One pass of an EDS integration; returns the rows written. A failure becomes a blocker of the
    integration (the code of the table problem, or the tool's), cleared by the next good pass."""
    integration = (
        Integration.objects.select_related(
            "collection_a__repository", "collection_a__model", "sql_collection__model"
        )
        .prefetch_related("more_sources__repository", "more_sources__model")
        .get(pk=integration_id)
    )
    key = f"integration:{integration.pk}:stream"
    if not integration.running or problems(integration):
        return 0
    try:
        written = _stream(integration, full)
    except ConnectorError as error:
        raise_blocker(
            key, error.code, f"Integration “{integration.name}”: {error.message}",
            impact=Blocker.Impact.AFFECTED, integration_ids=[integration.pk],
        )  # fmt: skip
        return 0
    clear_blocker(key)
    Integration.objects.filter(pk=integration_id).update(last_change_detected=timezone.now())
    return written


def _stream(integration: Integration, full: bool) -> int:
    target = integration.sql_collection
    sources = repository_sources(integration)
    if not sources:  # a gateway collection alone: its payloads write rows as they arrive
        return 0
    fields, wanted = streamed_fields(target), columns(target)
    written = 0
    # What a full scan saw, per repository: two sources may read projects of one repository, and
    # a row is marked deleted only when no source of this integration has its artifact.
    seen: dict[str, set[str]] = {}
    with open_table(target) as table:
        table.check(wanted)
        for source in sources:
            kept = seen.setdefault(str(source.repository_id), set())
            written += _stream_source(integration, source, table, fields, wanted, full, kept)
        if full:
            for repository_id, kept in seen.items():
                table.mark_deleted(repository_id, kept, timezone.now())
    return written


def _stream_source(
    integration: Integration, source, table: Table, fields, wanted, full: bool, seen: set
) -> int:
    """The rows of one source repository collection: each project read since its watermark."""
    from connectors import registry

    lines = mapping.lines_of(source)
    repository_id = str(source.repository_id)
    read, to_model = fields_read(lines), mapping.model_reader(lines)
    side = watermark_side(integration, source)
    written = 0
    with registry.connect(source.repository.settings()) as connector:
        make_row = RowMaker(fields, person_names(connector))
        # The target's upsert of one page runs while the next page is read from the tool: the
        # database's own work (and the wait for it) overlaps Hub's reading and mapping.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eds-write") as writer:
            # SQLite's connections belong to their thread, and its work is this process's anyway.
            submit = at_once if table.vendor == "sqlite" else writer.submit
            pending: Future | None = None
            try:
                for project in source.project_ids():
                    watermark, _ = ChangeWatermark.objects.get_or_create(
                        integration=integration, side=side, project=project
                    )
                    pages = changed_pages(
                        connector, source, watermark, full=full, with_values=True, fields=read
                    )
                    for page in pages:
                        artifacts = page.artifacts
                        synced_at = timezone.now().isoformat()
                        rows = [
                            make_row(
                                (repository_id, artifact.id, artifact.formatted_id, artifact.url),
                                to_model(artifact.fields),
                                synced_at,
                            )
                            for artifact in artifacts.values()
                        ]
                        seen.update(artifacts)
                        if pending is not None:
                            written += pending.result()
                        pending = submit(table.upsert, wanted, rows)
                        if not page.next_cursor:
                            # The watermark moves when the loop asks for the next page: only after
                            # this project's rows are committed.
                            written += pending.result()
                            pending = None
            finally:
                if pending is not None:  # a failed read: the write under way ends before the table closes
                    pending.exception()
    return written


def fields_read(lines) -> set[str] | None:
    """The repository fields the mapping reads, which are all a page needs from the tool; None
    (every field) when an extension line is among them: it sees the whole source artifact."""
    if any(line.reads and mapping._is_extension(line) for line in lines):
        return None
    return {name for line in lines if line.reads for name in line.repository_fields}


def at_once(function: Callable, *args) -> Future:
    """``function(*args)`` run now, as a finished future (the writer without a thread)."""
    done: Future = Future()
    try:
        done.set_result(function(*args))
    except Exception as error:  # noqa: BLE001 - handed to whoever waits for the result, as a thread would
        done.set_exception(error)
    return done


# --- a gateway collection as the source (11.17) ---------------------------------------------------


def streamed_fields(collection: SqlCollection) -> dict:
    return {f.key: f for f in collection.model.fields.all() if f.type not in NOT_STREAMED}


def gateway_identity(integration: Integration, artifact_id: str, values: dict) -> tuple[str, str, str, str]:
    """The key of a gateway artifact's row. With a key identifier its value is the artifact id, so a
    later payload about the same thing (build, commit, alert) updates that row; without one each
    artifact of each payload is a row of its own (``<payload id>.<n>``). The repository id column
    names the gateway collection: ``gateway-<id>``."""
    repository_id = f"gateway-{integration.gateway_collection_id}"
    key = values.get(integration.key_identifier) if integration.key_identifier else None
    if isinstance(key, str) and key.strip():
        return repository_id, key.strip()[:255], key.strip(), ""
    return repository_id, artifact_id, f"payload {artifact_id.replace('.', ' #')}", ""


def write_gateway_rows(integration: Integration, artifacts: list[tuple[str, dict]]) -> int:
    """Upsert the rows of (artifact id, model values) from gateway payloads, in one transaction of
    the target database; the last of several artifacts with one key wins, as it arrived last."""
    target = integration.sql_collection
    make_row = RowMaker(streamed_fields(target))
    rows = {}
    for artifact_id, values in artifacts:
        row = make_row(gateway_identity(integration, artifact_id, values), values)
        rows[row["artifact_id"]] = row
    wanted = columns(target)
    with open_table(target) as table:
        table.check(wanted)
        return table.upsert(wanted, list(rows.values()))
