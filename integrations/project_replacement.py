"""Project replacement: the background job that applies a collection's replaced projects to the
operational data, so that nothing is created a second time.

An administrator picks a replacement for each invalid project (Manage Invalid Projects) and saves
the collection; saving starts this job. For every integration that uses the collection, on the side
that uses it, the job rewrites the old project id to the new one in the artifact pairs, the
artifact activities, the routes, the change detection watermarks and the creation intents, then
the collection's project itself. While the job waits or runs, the affected integrations are
blocked with CCRRTT-66001I (queued) / CCRRTT-66002I (rewriting); a replacement whose project lacks
fields the collection's mapping reads fails with CCRRTT-66003I and is retried; a change of the
collection's replacements while the job runs stops it with CCRRTT-66004W and it resumes by itself
with the new choice.

The job reads the replacements from the collection when it runs (not from its parameters), and each
project is rewritten in one transaction, so running it again after an interruption is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activity.blockers import clear_blocker, raise_blocker
from activity.jobs import CANCELLED, JobFailed, JobRunner, register
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from connectors.errors import ConnectorError
from integrations.models import (
    ChangeWatermark,
    CollectionProject,
    CreationIntent,
    Integration,
    RepositoryCollection,
    Route,
)

QUEUED = "CCRRTT-66001I"
REWRITING = "CCRRTT-66002I"
SCHEMA_MISMATCH = "CCRRTT-66003I"


def blocker_key(collection_id: int) -> str:
    # Not of the form validation owns (``collection:<pk>:CCRRTT-…``), so validation leaves it alone.
    return f"replacement:collection:{collection_id}"


@dataclass(frozen=True)
class Use:
    """One integration using the collection, on one side."""

    integration_id: int
    side: str  # "A" or "B"


def uses_of(collection: RepositoryCollection) -> list[Use]:
    rows = Integration.objects.filter(Q(collection_a=collection) | Q(collection_b=collection)).values_list(
        "pk", "collection_a_id", "collection_b_id"
    )
    uses = []
    for pk, a, b in rows:
        if a == collection.pk:
            uses.append(Use(pk, "A"))
        if b == collection.pk:
            uses.append(Use(pk, "B"))
    return uses


def pending(collection: RepositoryCollection) -> list[CollectionProject]:
    """The invalid projects with a replacement chosen and not yet applied."""
    return list(collection.projects.filter(invalid=True).exclude(replacement_id=""))


def _choice(projects: list[CollectionProject]) -> list[tuple[str, str]]:
    return sorted((p.project_id, p.replacement_id) for p in projects)


def open_job(collection_id: int) -> BackgroundJob | None:
    """The collection's replacement job that is queued, running or waiting for its retry."""
    jobs = BackgroundJob.objects.filter(
        kind=BackgroundJob.Kind.PROJECT_REPLACEMENT,
        status__in=[
            BackgroundJob.Status.PENDING,
            BackgroundJob.Status.PROCESSING,
            BackgroundJob.Status.FAILED,
        ],
    ).only("pk", "parameters", "status", "next_retry_at")
    for job in jobs:
        if job.parameters.get("collection_id") != collection_id:
            continue
        if job.status != BackgroundJob.Status.FAILED or job.next_retry_at is not None:
            return job
    return None


def _block(collection: RepositoryCollection, code: str, message: str) -> None:
    raise_blocker(
        blocker_key(collection.pk),
        code,
        message,
        impact=Blocker.Impact.AFFECTED,
        integration_ids=[use.integration_id for use in uses_of(collection)],
        related=[{"label": collection.name, "url": collection.get_absolute_url()}],
    )


def start(collection: RepositoryCollection, requested_by: str = "") -> BackgroundJob | None:
    """Start (or keep) the job applying the collection's chosen replacements; None when none is chosen."""
    projects = pending(collection)
    if not projects:
        return None
    job = open_job(collection.pk)
    if job is None:
        job = ProjectReplacement.enqueue(
            name=f"Project replacement for collection “{collection.name}”",
            parameters={"collection_id": collection.pk},
            requested_by=requested_by,
        )
    _block(
        collection,
        QUEUED,
        f"Collection “{collection.name}” is waiting for its project replacements to be applied "
        f"({', '.join(f'{p.name} → {p.replacement_name}' for p in projects)}); "
        "its integrations wait until the update is complete.",
    )
    return job


def missing_fields(collection: RepositoryCollection, project_id: str) -> list[str]:
    """Repository fields the collection's mapping reads or writes that the project does not have."""
    from connectors import registry

    needed = {field for mapping in collection.mappings.all() for field in mapping.repository_fields}
    if not needed:
        return []
    offered: set[str] = set()
    with registry.connect(collection.repository.settings()) as connector:
        for artifact_type in collection.artifact_types:
            offered |= {field.id for field in connector.field_schema(project_id, artifact_type)}
    return sorted(needed - offered)


def _rewrite_watermarks(use: Use, old: str, new: str) -> int:
    watermarks = ChangeWatermark.objects.filter(integration_id=use.integration_id, side=use.side)
    existing = watermarks.filter(project=new).first()
    if existing is not None:
        # Someone scanned the new project already: keep the earlier position, so nothing is missed.
        old_mark = watermarks.filter(project=old).first()
        if old_mark is not None:
            if old_mark.position and (existing.position is None or old_mark.position < existing.position):
                existing.position = old_mark.position
                existing.save(update_fields=["position"])
            old_mark.delete()
            return 1
        return 0
    return watermarks.filter(project=old).update(project=new)


def _rewrite_routes(use: Use, old: str, new: str) -> int:
    column = f"project_{use.side.lower()}"
    other = f"project_{'b' if use.side == 'A' else 'a'}"
    changed = 0
    for route in Route.objects.filter(integration_id=use.integration_id, **{column: old}):
        twin = Route.objects.filter(
            integration_id=use.integration_id, **{column: new, other: getattr(route, other)}
        ).exclude(pk=route.pk)
        if twin.exists():
            route.delete()  # the same route exists already for the new project
        else:
            setattr(route, column, new)
            route.save(update_fields=[column])
        changed += 1
    return changed


def rewrite(use: Use, old: str, new: str) -> dict[str, int]:
    """Old project id → new one in one integration's operational data, on the side that uses it."""
    side = use.side
    integration = use.integration_id
    pairs = ArtifactPair.objects.filter(integration_id=integration, **{f"{side.lower()}_project": old})
    activities = ArtifactActivity.objects.filter(integration_id=integration)
    return {
        "pairs": pairs.update(**{f"{side.lower()}_project": new}),
        "activities": activities.filter(source_side=side, source_project=old).update(source_project=new)
        + activities.exclude(source_side=side).filter(target_project=old).update(target_project=new),
        "routes": _rewrite_routes(use, old, new),
        "watermarks": _rewrite_watermarks(use, old, new),
        "creation_intents": CreationIntent.objects.filter(integration_id=integration, target_project=old)
        .exclude(source_side=side)
        .update(target_project=new),
    }


@register
class ProjectReplacement(JobRunner):
    kind = BackgroundJob.Kind.PROJECT_REPLACEMENT
    resumable = True  # its rewrites are per project, atomic: an interrupted job picks up where it was

    def run(self, *, collection_id: int, **_ignored):
        collection = RepositoryCollection.objects.filter(pk=collection_id).first()
        if collection is None:
            self.log("The collection no longer exists; nothing to replace.")
            return {"Projects Updated": []}
        projects = pending(collection)
        choice = _choice(projects)
        uses = uses_of(collection)
        done = list(self.job.details.get("Projects Updated", []))
        totals = dict(self.job.details.get("rewritten", {}))
        _block(collection, REWRITING, f"Hub is applying the project replacements of “{collection.name}”.")
        self._check_schemas(collection, projects)
        for number, project in enumerate(projects):
            if _choice(pending(collection)) != choice:
                raise JobFailed(
                    CANCELLED,
                    "The collection's project replacements changed while the job ran; "
                    "it starts again with the new choice.",
                    transient=True,
                )
            with transaction.atomic():
                counts = {}
                for use in uses:
                    for name, count in rewrite(use, project.project_id, project.replacement_id).items():
                        counts[name] = counts.get(name, 0) + count
                old = f"{project.name} ({project.project_id})"
                new = f"{project.replacement_name} ({project.replacement_id})"
                project.project_id, project.name = project.replacement_id, project.replacement_name
                project.key = ""
                project.invalid = False
                project.replacement_id, project.replacement_name = "", ""
                project.replaced_at = timezone.now()
                project.save()
            for name, count in counts.items():
                totals[name] = totals.get(name, 0) + count
            done.append(f"{old} → {new}")
            self.log(f"{old} → {new}: " + ", ".join(f"{count} {name}" for name, count in counts.items()))
            self.job.details = {**self.job.details, "Projects Updated": done, "rewritten": totals}
            BackgroundJob.objects.filter(pk=self.job.pk).update(details=self.job.details)
            self.set_progress(100 * (number + 1) // len(projects))  # and beats
        clear_blocker(blocker_key(collection.pk))
        from integrations import validation

        validation.validate()
        return {"Projects Updated": done, "rewritten": totals}

    def _check_schemas(self, collection: RepositoryCollection, projects: list[CollectionProject]) -> None:
        for project in projects:
            try:
                missing = missing_fields(collection, project.replacement_id)
            except ConnectorError as error:
                raise JobFailed(
                    error.code,
                    f"Reading the fields of “{project.replacement_name}”: {error.message}",
                    transient=True,
                ) from error
            if missing:
                message = (
                    f"Project replacement cannot be applied: “{project.replacement_name}” lacks the fields "
                    f"{', '.join(missing)} that the mapping of “{collection.name}” uses."
                )
                _block(collection, SCHEMA_MISMATCH, message)
                raise JobFailed(SCHEMA_MISMATCH, message, transient=True)
