"""Integration data migrations: after an upgrade, rewrites of one integration's operational data
(its artifact pairs, activities, watermarks) run as one **Integration Data Migration** background
job per integration, so unrelated integrations keep running meanwhile (seed 1450-1455).

A migration is a function registered with ``@data_migration(name, title)``; it rewrites the data of
one integration and returns how many rows it changed. It must be idempotent (a job interrupted by a
shutdown runs again from the start) and must write with ``QuerySet.update`` or ``bulk_update`` naming
its fields, never ``save()``: ``ArtifactPair.updated`` then stays the time the *engine* last wrote the
pair, which is what the upgrade backup file (``integrations.upgrade_backup``) collects.

``plan()`` runs once after a schema upgrade (``hub.firststart.after_upgrade``):

- artifact pairs of integrations that no longer exist are logged and deleted, and Hub says so with
  **CCRRTT-22001E** (to acknowledge on the Issues tab);
- every integration with a registered migration not yet applied (``AppliedDataMigration``) gets a
  job and is blocked with **CCRRTT-66003W** until it ran; while its job rewrites, **CCRRTT-1414I**.

A job stopped by a shutdown fails with **CCRRTT-0006W** and resumes by itself. An integration with
failed activities on a disabled repository cannot be migrated (**CCRRTT-0006E**): the job is retried
on the usual schedule, and **Prioritize** on the Background Jobs tab runs it at once after the fix.
A job that fails unexpectedly (**CCRRTT-0001E**) is retried the same way, without end (its
integration waits for it), and Prioritize applies to it too.
The configuration history's own migrations (``integrations.history_migrations``) are planned beside
these, as one job of their own.
When the last job of an upgrade ends, the upgrade backup file of that upgrade is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from activity.blockers import clear_blocker, raise_blocker
from activity.jobs import JobFailed, JobRunner, register
from activity.models import AppliedDataMigration, ArtifactActivity, ArtifactPair, BackgroundJob, Blocker

log = logging.getLogger("hub.upgrade")

IN_PROGRESS = "CCRRTT-66003W"
UPDATING = "CCRRTT-1414I"
CANCELLED = "CCRRTT-0006W"
DISABLED_REPOSITORY = "CCRRTT-0006E"
ORPHANS = "CCRRTT-22001E"
ORPHANS_KEY = "upgrade:orphan-associations"
BATCH = 2000


@dataclass(frozen=True)
class DataMigration:
    name: str
    title: str
    apply: Callable[[int], int]


REGISTRY: dict[str, DataMigration] = {}


def data_migration(name: str, title: str):
    def register_migration(function: Callable[[int], int]) -> Callable[[int], int]:
        REGISTRY[name] = DataMigration(name, title, function)
        return function

    return register_migration


def blocker_key(integration_id: int) -> str:
    return f"data-migration:{integration_id}"


@data_migration("0001_maps_both_ways", "Record comment and attachment twins both ways")
def maps_both_ways(integration_id: int) -> int:
    """Hub looks a copied comment or attachment up from either side (``"B:7" → "A:3"`` as well as
    ``"A:3" → "B:7"``); pairs written by versions that kept one direction only get the other, so a
    comment edited on the far side is not taken for a new one and copied a second time."""
    changed: list[ArtifactPair] = []
    pairs = ArtifactPair.objects.filter(integration_id=integration_id).only(
        "id", "comment_map", "attachment_map"
    )
    for pair in pairs.iterator(chunk_size=BATCH):
        dirty = False
        for name in ("comment_map", "attachment_map"):
            mapping = dict(getattr(pair, name) or {})
            for key, twin in list(mapping.items()):
                if isinstance(twin, str) and twin and twin not in mapping:
                    mapping[twin] = key
                    dirty = True
            setattr(pair, name, mapping)
        if dirty:
            changed.append(pair)
    # bulk_update names its fields: the pairs' ``updated`` (auto_now) is left as the engine wrote it.
    ArtifactPair.objects.bulk_update(changed, ["comment_map", "attachment_map"], batch_size=BATCH)
    return len(changed)


def pending_for(integration_id: int) -> list[str]:
    done = set(
        AppliedDataMigration.objects.filter(integration_id=integration_id).values_list("name", flat=True)
    )
    return [name for name in REGISTRY if name not in done]


def open_jobs():
    return BackgroundJob.objects.filter(
        kind=BackgroundJob.Kind.DATA_MIGRATION,
        status__in=[
            BackgroundJob.Status.PENDING,
            BackgroundJob.Status.PROCESSING,
            BackgroundJob.Status.FAILED,
        ],
    )


def delete_orphan_pairs(known: set[int]) -> int:
    orphans = ArtifactPair.objects.exclude(integration_id__in=known)
    count = orphans.count()
    if not count:
        return 0
    for pair in orphans.iterator(chunk_size=BATCH):
        log.warning(
            "%s: deleting artifact pair %s of unknown integration %s (%s ↔ %s)",
            ORPHANS, pair.pk, pair.integration_id, pair.a_formatted_id or pair.a_artifact_id,
            pair.b_formatted_id or pair.b_artifact_id,
        )  # fmt: skip
    orphans.delete()
    raise_blocker(
        ORPHANS_KEY,
        ORPHANS,
        f"Artifact Association records with unknown Artifact Handles found and deleted during upgrade: "
        f"{count} artifact pairs of integrations that no longer exist (listed in the log).",
        kind=Blocker.Kind.ACKNOWLEDGE,
    )
    return count


def plan(now=None) -> list[BackgroundJob]:
    """Enqueue the data migrations an upgrade needs, one job per integration; the jobs created."""
    from integrations.models import Integration

    now = now or timezone.now()
    integrations = dict(Integration.objects.values_list("pk", "name"))
    delete_orphan_pairs(set(integrations))
    waiting = set(open_jobs().values_list("integration_id", flat=True))
    upgrade = now.isoformat()
    created = []
    for integration_id, name in sorted(integrations.items()):
        pending = pending_for(integration_id)
        if not pending or integration_id in waiting:
            continue
        raise_blocker(
            blocker_key(integration_id),
            IN_PROGRESS,
            f"Integration data migration is currently in progress for “{name}”: it waits for its "
            "Integration Data Migration job (Activity → Background Jobs).",
            integration_ids=[integration_id],
        )
        created.append(
            IntegrationDataMigration.enqueue(
                name=f"Integration Data Migration: {name}",
                parameters={"migrations": pending, "upgrade": upgrade},
                integration_id=integration_id,
                integration_name=name,
            )
        )
    if created:
        log.info("Upgrade: %s integration data migration jobs queued", len(created))
    return created


def _disabled_repository_errors(integration_id: int) -> str | None:
    from integrations.models import Integration

    integration = Integration.objects.select_related(
        "collection_a__repository", "collection_b__repository"
    ).get(pk=integration_id)
    failed = ArtifactActivity.objects.filter(
        integration_id=integration_id, status=ArtifactActivity.Status.FAILED
    )
    for collection in (integration.collection_a, integration.collection_b):
        repository = collection.repository if collection is not None else None
        if repository is not None and not repository.enabled and failed.exists():
            return repository.label
    return None


@register
class IntegrationDataMigration(JobRunner):
    kind = BackgroundJob.Kind.DATA_MIGRATION
    resumable = True  # every migration is idempotent and recorded when done
    retries_unexpected_errors = True  # its integration stays blocked until it completes
    cancelled_code = CANCELLED

    def run(self, migrations: list[str], upgrade: str = "", **_) -> dict:
        integration_id = self.job.integration_id
        key = blocker_key(integration_id)
        try:
            details = self._migrate(integration_id, migrations, key)
        except JobFailed as failure:
            raise_blocker(key, failure.code, failure.message, integration_ids=[integration_id])
            raise
        except Exception as error:
            raise_blocker(
                key,
                "CCRRTT-0001E",
                f"The integration data migration failed: {error}",
                integration_ids=[integration_id],
            )
            raise
        clear_blocker(key)
        if upgrade:
            from integrations import upgrade_backup

            upgrade_backup.write_when_finished(upgrade, self.job.pk)
        return details

    def _migrate(self, integration_id: int, migrations: list[str], key: str) -> dict:
        if repository := _disabled_repository_errors(integration_id):
            raise JobFailed(
                DISABLED_REPOSITORY,
                f"Migration cannot be completed as there are errors related to disabled repositories: "
                f"“{repository}”. Remove its failed activities or enable the repository, then Prioritize "
                "this job.",
                transient=True,
            )
        raise_blocker(
            key,
            UPDATING,
            "Hub is currently updating its operational data for this integration.",
            integration_ids=[integration_id],
        )
        rows = {}
        for number, name in enumerate(migrations, start=1):
            migration = REGISTRY.get(name)
            if migration is None or name not in pending_for(integration_id):
                continue  # done before an interruption, or withdrawn by a later version
            with transaction.atomic():
                rows[name] = migration.apply(integration_id)
                AppliedDataMigration.objects.create(name=name, integration_id=integration_id)
            self.log(f"{migration.title}: {rows[name]} rows rewritten.")
            self.set_progress(number * 100 // len(migrations))
        return {"migrations": rows}
