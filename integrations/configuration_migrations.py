"""Configuration migrations: after an upgrade, rewrites of configuration elements (collections and
their mappings) into the form the new version reads (seed 1452-1453, 1523, 1736).

A migration is registered with ``@configuration_migration(name, title, targets)``: ``targets()``
gives the ids of the collections that still need it, and the function migrates one collection,
raising ``ConnectorError`` or ``MigrationFailed`` when it cannot. It must be idempotent: what is
migrated is no longer a target, so running it again does nothing.

A migration usually needs the tool (the live field schema), and a tool that cannot be reached
makes each attempt wait for its connection timeout. So an upgrade does not run them where it
migrates the schema: ``plan()`` runs there (``hub.firststart.after_upgrade``, inside the schema
lock every other starting process waits for) and only reads the database: ``targets()`` must not
talk to a tool. Each collection that needs a migration blocks its integrations with
**CCRRTT-66003W** (a plain blocker under the issue's own key), and one **Configuration migration**
background job is queued. A worker runs it after the start (``run()``); the hourly
``integrations.validate_configuration`` runs the same ``run()`` again, so nothing depends on the
job alone. A collection that cannot be migrated then becomes a **configuration migration issue**
on Activity → Issues: a blocker of kind *migration* naming the collection and the cause, with the
cause's code (an unreachable tool: CCRRTT-1000E). It blocks the integrations that use the
collection; the others go on. Once the cause is resolved, **Retry** on the Issues tab runs that
migration for that collection again (``activity.services.BLOCKER_RETRY``): success clears the
issue, a new failure refreshes it. While such an issue exists the health check
``configurationMigration`` fails.

One real migration: ``0001_repository_field_types``. Hub keeps, per mapping line, the type the
live schema gave each repository field when it was mapped; the transform check (17002E) and the
engine read it. Mappings imported from configuration exports or history snapshots older than
that record, or stored through the API of versions that did not fill it, lack some of those
types; the migration reads the repository's live schema and fills them in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from activity.blockers import clear_blocker, raise_blocker
from activity.jobs import JobRunner, register
from activity.models import BackgroundJob, Blocker
from hub.ids import is_digits

log = logging.getLogger("hub.upgrade")

PREFIX = "configuration-migration:"
OUTDATED = "CCRRTT-1109E"
WAITING = "CCRRTT-66003W"  # the collection waits for the configuration migration job
UNEXPECTED = "CCRRTT-0001E"


class MigrationFailed(Exception):
    """A configuration element the migration cannot rewrite until its administrator acts."""

    def __init__(self, message: str, code: str = OUTDATED):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ConfigurationMigration:
    name: str
    title: str
    targets: Callable[[], Iterable[int]]
    apply: Callable[[int], int]


REGISTRY: dict[str, ConfigurationMigration] = {}


def configuration_migration(name: str, title: str, targets: Callable[[], Iterable[int]]):
    def register_migration(function: Callable[[int], int]) -> Callable[[int], int]:
        REGISTRY[name] = ConfigurationMigration(name, title, targets, function)
        return function

    return register_migration


def blocker_key(name: str, collection_id: int) -> str:
    return f"{PREFIX}{name}:collection:{collection_id}"


# --- the migrations -------------------------------------------------------------------------


def _missing_types(mapping) -> list[str]:
    types = mapping.repository_field_types if isinstance(mapping.repository_field_types, dict) else {}
    return [f for f in mapping.repository_fields or () if isinstance(f, str) and not types.get(f)]


def _collections_lacking_field_types() -> list[int]:
    from integrations.models import FieldMapping

    lines = FieldMapping.objects.only("id", "collection_id", "repository_fields", "repository_field_types")
    return sorted({line.collection_id for line in lines.iterator(chunk_size=2000) if _missing_types(line)})


@configuration_migration(
    "0001_repository_field_types",
    "Record the repository field types of mappings that lack them",
    _collections_lacking_field_types,
)
def repository_field_types(collection_id: int) -> int:
    """Fill each mapping line's missing repository field types from the collection's live schema.
    A field the schema does not have cannot be typed: the collection stays a target (1109E)."""
    from integrations.models import RepositoryCollection
    from integrations.services import field_schema

    collection = RepositoryCollection.objects.select_related("repository").get(pk=collection_id)
    lines = [line for line in collection.mappings.all() if _missing_types(line)]
    if not lines:
        return 0
    schema = {field.id: str(field.type) for field in field_schema(collection)}
    unknown = sorted({f for line in lines for f in _missing_types(line) if f not in schema})
    if unknown:
        where = collection.project_ids()[:1]
        raise MigrationFailed(
            f"the mapped field(s) {', '.join(unknown)} are not in the repository's schema"
            + (f" of project {where[0]}" if where else " (the collection has no project)")
            + ": map them again or remove those lines"
        )
    with transaction.atomic():
        for line in lines:
            types = dict(line.repository_field_types) if isinstance(line.repository_field_types, dict) else {}
            for field in _missing_types(line):
                types[field] = schema[field]
            type(line).objects.filter(pk=line.pk).update(repository_field_types=types)
    return len(lines)


# --- running them ---------------------------------------------------------------------------


def _integrations_of(collection_id: int) -> list[int]:
    from integrations.models import Integration

    return list(
        Integration.objects.filter(Q(collection_a_id=collection_id) | Q(collection_b_id=collection_id))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def migrate_one(migration: ConfigurationMigration, collection_id: int) -> bool:
    """Run one migration for one collection; record or clear its issue. True when it succeeded."""
    from connectors.errors import ConnectorError
    from integrations.models import RepositoryCollection

    key = blocker_key(migration.name, collection_id)
    collection = RepositoryCollection.objects.filter(pk=collection_id).first()
    if collection is None:  # deleted since: nothing left to migrate
        clear_blocker(key)
        return True
    try:
        changed = migration.apply(collection_id)
    except (ConnectorError, MigrationFailed) as error:
        code, reason = error.code, getattr(error, "message", None) or str(error)
    except Exception as error:  # noqa: BLE001 - any failure is the administrator's to see, not a crash
        log.exception("Configuration migration %s failed for collection %s", migration.name, collection_id)
        code, reason = UNEXPECTED, f"{type(error).__name__}: {error}"
    else:
        log.info(
            "Configuration migration %s: collection %s, %s line(s)", migration.name, collection_id, changed
        )
        clear_blocker(key)
        return True
    log.warning(
        "Configuration migration %s failed for collection %s: %s %s",
        migration.name,
        collection_id,
        code,
        reason,
    )
    raise_blocker(
        key,
        code,
        f"Configuration migration “{migration.title}” could not migrate collection “{collection.name}”: "
        f"{reason}. Resolve the cause, then Retry.",
        kind=Blocker.Kind.MIGRATION,
        integration_ids=_integrations_of(collection_id),
        related=[_collection_link(collection_id, collection.name)],
    )
    return False


def _collection_link(collection_id: int, name: str) -> dict:
    return {"label": f"Collection {name}", "url": reverse("collection-edit", args=[collection_id])}


def plan() -> BackgroundJob | None:
    """At an upgrade, inside the schema lock: database work only, never a tool. Every collection
    a registered migration still targets blocks its integrations with 66003W, and one
    Configuration migration job is queued to run the migrations (``run()``) in the background.
    The job queued (or the one already waiting), or None when nothing needs migrating."""
    from integrations.models import RepositoryCollection

    names = dict(RepositoryCollection.objects.values_list("pk", "name"))
    waiting = 0
    for migration in REGISTRY.values():
        for collection_id in migration.targets():
            if collection_id not in names:
                continue
            key = blocker_key(migration.name, collection_id)
            if Blocker.objects.filter(key=key, kind=Blocker.Kind.MIGRATION).exists():
                waiting += 1  # an issue from before the upgrade stays what it is until the job
                continue
            raise_blocker(
                key,
                WAITING,
                f"Configuration migration “{migration.title}” waits to migrate collection "
                f"“{names[collection_id]}”: its integrations wait for the Configuration migration "
                "job (Activity → Background Jobs).",
                integration_ids=_integrations_of(collection_id),
                related=[_collection_link(collection_id, names[collection_id])],
            )
            waiting += 1
    if not waiting:
        return None
    if job := ConfigurationMigrationJob.busy():
        return job
    log.info("Upgrade: %s collection(s) wait for their configuration migrations", waiting)
    return ConfigurationMigrationJob.enqueue(name="Configuration migration")


def release_waiting() -> int:
    """66003W blockers whose collection no longer needs a migration (run() migrated every target,
    so what still waits was migrated or deleted meanwhile): their integrations go on."""
    deleted, _ = Blocker.objects.filter(key__startswith=PREFIX, code=WAITING).delete()
    return deleted


def run(progress: Callable[[int, int, str], None] | None = None) -> dict[str, list[int]]:
    """Every registered migration for every collection that needs it: {name: collections that
    failed}. Runs in a worker (the job, the hourly validation), never at start: it asks tools.
    ``progress(done, total, line)`` is told after each collection."""
    from integrations.models import RepositoryCollection

    failed: dict[str, list[int]] = {}
    work = [(migration, c) for migration in REGISTRY.values() for c in migration.targets()]
    names = dict(RepositoryCollection.objects.values_list("pk", "name"))
    for done, (migration, collection_id) in enumerate(work, start=1):
        migrated = migrate_one(migration, collection_id)
        if not migrated:
            failed.setdefault(migration.name, []).append(collection_id)
        if progress:
            name = names.get(collection_id, collection_id)
            outcome = "migrated" if migrated else "an issue on Activity → Issues"
            progress(done, len(work), f"{migration.name}, collection “{name}”: {outcome}")
    release_waiting()
    return failed


@register
class ConfigurationMigrationJob(JobRunner):
    """The configuration migrations an upgrade queued (``plan()``), run by a worker after the start."""

    kind = BackgroundJob.Kind.CONFIGURATION_MIGRATION
    resumable = True  # every migration is idempotent: what is migrated is no longer a target

    def run(self, **_) -> dict:
        def progress(done: int, total: int, line: str) -> None:
            self.log(line, "info" if line.endswith("migrated") else "warning")
            self.set_progress(100 * done // total)

        failed = run(progress)
        issues = sum(len(collections) for collections in failed.values())
        self.log(
            f"{issues} configuration migration issue(s) on Activity → Issues: resolve the cause, then Retry."
            if issues
            else "Every collection is migrated."
        )
        return {"issues": issues}


def retry(blocker: Blocker) -> None:
    """Retry on the Issues tab: the migration that raised the blocker, for its collection only."""
    name, _, collection = blocker.key.removeprefix(PREFIX).partition(":collection:")
    migration = REGISTRY.get(name)
    if migration is None or not is_digits(collection):  # a migration this version no longer has
        blocker.delete()
        return
    migrate_one(migration, int(collection))


def issues():
    return Blocker.objects.filter(kind=Blocker.Kind.MIGRATION)


def _register_retry() -> None:
    from activity import services

    services.BLOCKER_RETRY[PREFIX] = retry


_register_retry()
