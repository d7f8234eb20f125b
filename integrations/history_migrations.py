"""Data migrations of the configuration history (the list of configuration changes), run after an
upgrade as one **Configuration History Migration** background job (seed 3405-3413, 3725-3733).

The history is not operational data: integrations run on while it is rewritten. What waits is
whatever reads the history:

- the History screen says **CCRRTT-30021E** (not available before the necessary data migrations
  are complete) until the job has completed;
- the list of configuration changes itself — the export of changes from History, by screen or by
  ``manage.py`` — is refused with **CCRRTT-17030W** (being migrated).

A migration is a function registered with ``@history_migration(name, title)``; it rewrites
``ConfigurationChange`` rows and returns how many it changed. Like the integration data migrations
(``integrations.data_migrations``) it must be idempotent and is applied in one transaction; what was
applied is recorded in ``AppliedDataMigration`` under integration id 0 (the history belongs to no
integration). A job stopped by a shutdown resumes by itself (0006W); one that fails is retried on
the usual schedule and can be prioritized on Activity → Background Jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from activity.jobs import JobRunner, register
from activity.models import AppliedDataMigration, BackgroundJob
from hub.models import ConfigurationChange

log = logging.getLogger("hub.upgrade")

BEING_MIGRATED = "CCRRTT-17030W"
NOT_AVAILABLE = "CCRRTT-30021E"
SCOPE = 0  # AppliedDataMigration.integration_id of the history's migrations
BATCH = 2000


@dataclass(frozen=True)
class HistoryMigration:
    name: str
    title: str
    apply: Callable[[], int]


REGISTRY: dict[str, HistoryMigration] = {}


def history_migration(name: str, title: str):
    def register_migration(function: Callable[[], int]) -> Callable[[], int]:
        REGISTRY[name] = HistoryMigration(name, title, function)
        return function

    return register_migration


@history_migration("0001_redact_history", "Mask secrets in configuration history under the current rules")
def redact_history() -> int:
    """Entries keep what ``hub.audit.redact`` masked when they were recorded. The rules grow (a
    secret-sounding key added, credentials in a URL): entries recorded under older rules are masked
    by the current ones, so no history screen or export shows what a newer version would hide."""
    from hub.audit import redact

    changed: list[ConfigurationChange] = []
    for change in ConfigurationChange.objects.only("id", "before", "after").iterator(chunk_size=BATCH):
        before, after = redact(change.before), redact(change.after)
        if (before, after) != (change.before, change.after):
            change.before, change.after = before, after
            changed.append(change)
    ConfigurationChange.objects.bulk_update(changed, ["before", "after"], batch_size=BATCH)
    return len(changed)


def pending() -> list[str]:
    done = set(AppliedDataMigration.objects.filter(integration_id=SCOPE).values_list("name", flat=True))
    return [name for name in REGISTRY if name not in done]


def open_job() -> BackgroundJob | None:
    unfinished = [BackgroundJob.Status.PENDING, BackgroundJob.Status.PROCESSING, BackgroundJob.Status.FAILED]
    jobs = BackgroundJob.objects.filter(kind=BackgroundJob.Kind.HISTORY_MIGRATION, status__in=unfinished)
    return jobs.first()


def migrating() -> bool:
    """Whether the history is waiting for (or in) its migration job. Only an unfinished job counts:
    a fresh database has nothing to migrate, and its migrations are recorded as applied
    (``plan`` on a first start) without a job."""
    return open_job() is not None


def plan() -> BackgroundJob | None:
    """After a schema upgrade: the job that applies the pending history migrations (none when all
    are applied or a job already waits)."""
    names = pending()
    if not names or migrating():
        return None
    if not ConfigurationChange.objects.exists():
        # Nothing to rewrite: recorded as applied at once, so the screens never wait for a job.
        AppliedDataMigration.objects.bulk_create(
            [AppliedDataMigration(name=name, integration_id=SCOPE) for name in names], ignore_conflicts=True
        )
        return None
    log.info("Upgrade: configuration history migration queued (%s)", ", ".join(names))
    return ConfigurationHistoryMigration.enqueue(
        name="Configuration History Migration", parameters={"migrations": names}
    )


@register
class ConfigurationHistoryMigration(JobRunner):
    kind = BackgroundJob.Kind.HISTORY_MIGRATION
    resumable = True  # every migration is idempotent and recorded when done
    retries_unexpected_errors = True  # the History screen waits for it: it must end some day
    cancelled_code = "CCRRTT-0006W"

    def run(self, migrations: list[str], **_) -> dict:
        rows = {}
        for number, name in enumerate(migrations, start=1):
            migration = REGISTRY.get(name)
            if migration is None or name not in pending():
                continue  # done before an interruption, or withdrawn by a later version
            with transaction.atomic():
                rows[name] = migration.apply()
                AppliedDataMigration.objects.create(name=name, integration_id=SCOPE)
            self.log(f"{migration.title}: {rows[name]} history entries rewritten.")
            self.set_progress(number * 100 // len(migrations))
        return {"migrations": rows}
