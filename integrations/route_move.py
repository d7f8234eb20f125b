"""Move Routes Between Integrations (Settings → Advanced): the checks that say whether routes may
move, and the background job that moves them with their operational data, so nothing is created a
second time.

Routes move only between two synchronize integrations of the same style whose collections hold the
same artifact types in the same repositories, side by side. The documented exception is a tool
upgrade to a new server: a *new repository for the same data*, with the artifact ids kept; the
administrator says so (``new_repository``), the repositories must then be of the same connector, and
the pairs' links are rewritten to the new repository's address.

A route moves with everything the source integration keeps about its two projects: the artifact
pairs between them (with the snapshots that tell Hub's own writes from others'), the waiting
activities, the change detection watermarks and the creation intents in flight. A project still
used by a route that stays in the source cannot move (its artifacts could then be paired twice), and
a route whose projects the target's collections do not hold has nowhere to go; both are refused with
CCRRTT-1415E. A style, type or repository mismatch is refused with CCRRTT-1402E.

While the job waits, both integrations are blocked with CCRRTT-66003W; while it rewrites, with
CCRRTT-1414I. Each route moves in one transaction, and the job reads the routes still in the source
when it runs, so running it again after an interruption is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Replace

from activity.blockers import clear_blocker, raise_blocker
from activity.jobs import JobFailed, JobRunner, register
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from integrations.models import ChangeWatermark, CreationIntent, Integration, Route

IN_PROGRESS = "CCRRTT-66003W"
UPDATING = "CCRRTT-1414I"
STYLE_CONSTRAINTS = "CCRRTT-1402E"
ROUTING_INVALID = "CCRRTT-1415E"
SYNCHRONIZE_STYLES = (Integration.Style.WORK_ITEM_SYNC, Integration.Style.CONTAINER_WORK_ITEM)


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def blocker_key(job_id: int) -> str:
    return f"route-move:{job_id}"


def _types(collection) -> list[str]:
    return sorted(collection.artifact_types or []) if collection is not None else []


def integration_refusals(
    source: Integration, target: Integration, *, new_repository: bool = False
) -> list[Refusal]:
    """Why routes cannot move from ``source`` to ``target`` at all (empty: they can)."""
    if source.pk == target.pk:
        return [Refusal(STYLE_CONSTRAINTS, "Choose two different integrations.")]
    refusals = []
    for integration in (source, target):
        if integration.style not in SYNCHRONIZE_STYLES:
            refusals.append(
                Refusal(
                    STYLE_CONSTRAINTS,
                    f"“{integration.name}” is a {integration.get_style_display()} integration; routes move "
                    "only between synchronize integrations.",
                )
            )
    if refusals:
        return refusals
    if source.style != target.style:
        refusals.append(Refusal(STYLE_CONSTRAINTS, "Both integrations must be of the same style."))
    for side in ("a", "b"):
        mine, theirs = getattr(source, f"collection_{side}"), getattr(target, f"collection_{side}")
        if mine is None or theirs is None:
            refusals.append(
                Refusal(STYLE_CONSTRAINTS, f"Both integrations need a collection {side.upper()}.")
            )
            continue
        if _types(mine) != _types(theirs):
            refusals.append(
                Refusal(
                    STYLE_CONSTRAINTS,
                    f"Collection {side.upper()} holds other artifact types: "
                    f"{', '.join(_types(mine)) or 'none'} "
                    f"in “{source.name}”, {', '.join(_types(theirs)) or 'none'} in “{target.name}”.",
                )
            )
        if mine.repository_id == theirs.repository_id:
            continue
        if not new_repository:
            refusals.append(
                Refusal(
                    STYLE_CONSTRAINTS,
                    f"Collection {side.upper()} uses repository “{mine.repository.label}” in “{source.name}” "
                    f"but “{theirs.repository.label}” in “{target.name}”. Only a new repository holding the "
                    "same data (a tool upgrade to a new server, the ids kept) may differ: say so to move.",
                )
            )
        elif mine.repository.kind != theirs.repository.kind:
            refusals.append(
                Refusal(
                    STYLE_CONSTRAINTS,
                    f"Collection {side.upper()}: “{theirs.repository.label}” is not the same kind of "
                    "repository "
                    f"as “{mine.repository.label}”, so it cannot hold the same data with the same ids.",
                )
            )
    return refusals


def route_refusals(source: Integration, target: Integration, routes: list[Route]) -> list[Refusal]:
    """Why these routes of ``source`` cannot move to ``target`` (empty: they can)."""
    if not routes:
        return [Refusal(ROUTING_INVALID, "Choose at least one route to move.")]
    refusals = []
    moving = {route.pk for route in routes}
    staying = [route for route in source.routes.all() if route.pk not in moving]
    targets_a = set(target.collection_a.project_ids()) if target.collection_a else set()
    targets_b = set(target.collection_b.project_ids()) if target.collection_b else set()
    existing = set(target.routes.values_list("project_a", "project_b"))
    for route in routes:
        if route.integration_id != source.pk:
            refusals.append(Refusal(ROUTING_INVALID, f"Route {route} is not a route of “{source.name}”."))
            continue
        for side, project, offered in (("A", route.project_a, targets_a), ("B", route.project_b, targets_b)):
            if project not in offered:
                refusals.append(
                    Refusal(
                        ROUTING_INVALID,
                        f"Route {route}: collection {side} of “{target.name}” does not hold project "
                        f"{project}; "
                        "add it under Manage Projects first.",
                    )
                )
            column = f"project_{side.lower()}"
            shared = [other for other in staying if getattr(other, column) == project]
            if shared:
                refusals.append(
                    Refusal(
                        ROUTING_INVALID,
                        f"Route {route}: project {project} is also routed by {shared[0]}, which stays in "
                        f"“{source.name}”; move both routes or neither, or its artifacts could be paired "
                        "twice.",
                    )
                )
        if (route.project_a, route.project_b) in existing:
            refusals.append(
                Refusal(
                    ROUTING_INVALID,
                    f"“{target.name}” has a route {route.project_a} ↔ {route.project_b} already.",
                )
            )
    return refusals


def open_job(integration_ids) -> BackgroundJob | None:
    """A route move of either integration that is queued, running or waiting for its retry."""
    wanted = set(integration_ids)
    for job in BackgroundJob.objects.filter(
        kind=BackgroundJob.Kind.ROUTE_MOVE,
        status__in=[
            BackgroundJob.Status.PENDING,
            BackgroundJob.Status.PROCESSING,
            BackgroundJob.Status.FAILED,
        ],
    ).only("pk", "parameters", "status", "next_retry_at"):
        involved = {job.parameters.get("source_id"), job.parameters.get("target_id")}
        if not involved & wanted:
            continue
        if job.status != BackgroundJob.Status.FAILED or job.next_retry_at is not None:
            return job
    return None


def _block(job_id: int, source: Integration, target: Integration, code: str, message: str) -> None:
    raise_blocker(
        blocker_key(job_id),
        code,
        message,
        impact=Blocker.Impact.AFFECTED,
        integration_ids=[source.pk, target.pk],
        related=[{"label": "Background jobs", "url": "/activity/jobs/"}],
    )


def start(
    source: Integration,
    target: Integration,
    routes: list[Route],
    *,
    new_repository: bool = False,
    requested_by: str = "",
) -> BackgroundJob:
    """Check the move and queue its job; raises ``JobFailed`` with the first refusal's code."""
    refusals = integration_refusals(source, target, new_repository=new_repository)
    refusals = refusals or route_refusals(source, target, routes)
    if refusals:
        raise JobFailed(refusals[0].code, " ".join(refusal.message for refusal in refusals))
    if (busy := open_job([source.pk, target.pk])) is not None:
        raise JobFailed(IN_PROGRESS, f"{busy.name} has not finished; wait for it before moving more routes.")
    job = RouteMove.enqueue(
        name=f"Route move from “{source.name}” to “{target.name}”",
        parameters={
            "source_id": source.pk,
            "target_id": target.pk,
            "route_ids": sorted(route.pk for route in routes),
            "new_repository": new_repository,
        },
        requested_by=requested_by,
        integration_id=target.pk,
        integration_name=target.name,
    )
    _block(
        job.pk,
        source,
        target,
        IN_PROGRESS,
        f"Routes are waiting to move from “{source.name}” to “{target.name}”; both integrations wait until "
        "the move is complete.",
    )
    return job


@dataclass
class Moved:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + count


def _side_of(route: Route) -> dict[str, str]:
    return {"A": route.project_a, "B": route.project_b}


def _move_pairs(route: Route, source: Integration, target: Integration, moved: Moved, url_changes) -> None:
    pairs = ArtifactPair.objects.filter(
        integration_id=source.pk, a_project=route.project_a, b_project=route.project_b
    )
    # An artifact the target paired already keeps the target's pair; the source's is left behind.
    clashing = pairs.filter(
        Q(a_artifact_id__in=ArtifactPair.objects.filter(integration_id=target.pk).values("a_artifact_id"))
        | Q(b_artifact_id__in=ArtifactPair.objects.filter(integration_id=target.pk).values("b_artifact_id"))
    )
    moved.add("pairs already in the target", clashing.count())
    movable = pairs.exclude(pk__in=list(clashing.values_list("pk", flat=True)))
    ids = list(movable.values_list("pk", flat=True))
    moved.add(
        "pairs",
        ArtifactPair.objects.filter(pk__in=ids).update(
            integration_id=target.pk, integration_name=target.name
        ),
    )
    for side, (old, new) in url_changes.items():
        column = f"{side.lower()}_url"
        ArtifactPair.objects.filter(pk__in=ids, **{f"{column}__startswith": old}).update(
            **{column: Replace(F(column), Value(old), Value(new))}
        )


def _move_activities(route: Route, source: Integration, target: Integration, moved: Moved) -> None:
    projects = _side_of(route)
    of_route = ArtifactActivity.objects.filter(integration_id=source.pk).filter(
        Q(source_side="A", source_project=projects["A"]) | Q(source_side="B", source_project=projects["B"])
    )
    if of_route.filter(status=ArtifactActivity.Status.PROCESSING).exists():
        raise JobFailed(
            IN_PROGRESS,
            f"Activities of route {route} are being processed; the move waits for them "
            "(stop both integrations "
            "first to move at once).",
            transient=True,
        )
    waiting = of_route.filter(status__in=ArtifactActivity.WAITING)
    # An artifact the target is waiting on already needs no second activity.
    theirs = set(
        ArtifactActivity.objects.filter(
            integration_id=target.pk, status__in=ArtifactActivity.WAITING
        ).values_list("source_side", "artifact_id")
    )
    duplicate = [
        pk
        for pk, side, artifact in waiting.values_list("pk", "source_side", "artifact_id")
        if (side, artifact) in theirs
    ]
    ArtifactActivity.objects.filter(pk__in=duplicate).delete()
    ids = list(waiting.values_list("pk", flat=True))
    rows = ArtifactActivity.objects.filter(pk__in=ids)
    moved.add("pending activities", len(ids))
    # Two statements: MariaDB evaluates SET clauses left to right, so the key must see the new id.
    rows.update(integration_id=target.pk, integration_name=target.name)
    for side, collection, other in (
        ("A", target.collection_a, target.collection_b),
        ("B", target.collection_b, target.collection_a),
    ):
        rows.filter(source_side=side).update(
            source_collection_id=collection.pk,
            source_collection_name=collection.name,
            target_collection_id=other.pk,
            target_collection_name=other.name,
        )
    rows.update(waiting_key=ArtifactActivity.waiting_key_expression())


def _move_watermarks(route: Route, source: Integration, target: Integration, moved: Moved) -> None:
    for side, project in _side_of(route).items():
        mark = ChangeWatermark.objects.filter(integration=source, side=side, project=project).first()
        if mark is None:
            continue
        existing = ChangeWatermark.objects.filter(integration=target, side=side, project=project).first()
        if existing is None:
            mark.integration = target
            mark.save(update_fields=["integration", "updated"])
        else:
            # The target scanned the project already: keep the earlier position, so nothing is missed.
            if mark.position and (existing.position is None or mark.position < existing.position):
                existing.position = mark.position
                existing.save(update_fields=["position", "updated"])
            mark.delete()
        moved.add("watermarks", 1)


def _move_intents(route: Route, source: Integration, target: Integration, moved: Moved) -> None:
    intents = CreationIntent.objects.filter(integration=source).filter(
        Q(source_side="A", target_project=route.project_b)
        | Q(source_side="B", target_project=route.project_a)
    )
    taken = set(
        CreationIntent.objects.filter(integration=target).values_list("source_side", "source_artifact_id")
    )
    movable = [
        pk
        for pk, side, artifact in intents.values_list("pk", "source_side", "source_artifact_id")
        if (side, artifact) not in taken
    ]
    moved.add("creation intents", CreationIntent.objects.filter(pk__in=movable).update(integration=target))


def move_route(route: Route, source: Integration, target: Integration, url_changes) -> dict[str, int]:
    """One route and its operational data from ``source`` to ``target``, in one transaction."""
    moved = Moved()
    with transaction.atomic():
        _move_activities(route, source, target, moved)
        _move_pairs(route, source, target, moved, url_changes)
        _move_watermarks(route, source, target, moved)
        _move_intents(route, source, target, moved)
        last = target.routes.aggregate(last=Max("position"))["last"]
        route.integration = target
        route.position = 0 if last is None else last + 1
        route.save(update_fields=["integration", "position"])
    return moved.counts


def url_changes(source: Integration, target: Integration, new_repository: bool) -> dict[str, tuple[str, str]]:
    """Side → (old address, new address) for pairs that move to a new repository of the same data."""
    changes = {}
    if not new_repository:
        return changes
    for side in ("A", "B"):
        mine = getattr(source, f"collection_{side.lower()}").repository
        theirs = getattr(target, f"collection_{side.lower()}").repository
        if mine.pk != theirs.pk and mine.url and theirs.url:
            changes[side] = (mine.url.rstrip("/"), theirs.url.rstrip("/"))
    return changes


@register
class RouteMove(JobRunner):
    kind = BackgroundJob.Kind.ROUTE_MOVE

    def run(
        self,
        *,
        source_id: int,
        target_id: int,
        route_ids: list[int],
        new_repository: bool = False,
        **_ignored,
    ):
        source = Integration.objects.filter(pk=source_id).first()
        target = Integration.objects.filter(pk=target_id).first()
        if source is None or target is None:
            clear_blocker(blocker_key(self.job.pk))
            raise JobFailed(STYLE_CONSTRAINTS, "One of the two integrations no longer exists; nothing moved.")
        done = list(self.job.details.get("Routes Moved", []))
        routes = list(Route.objects.filter(pk__in=route_ids, integration=source))  # the ones not moved yet
        refusals = integration_refusals(source, target, new_repository=new_repository) or (
            route_refusals(source, target, routes) if routes else []
        )
        if refusals:
            clear_blocker(blocker_key(self.job.pk))
            raise JobFailed(refusals[0].code, " ".join(refusal.message for refusal in refusals))
        _block(
            self.job.pk,
            source,
            target,
            UPDATING,
            f"Hub is moving routes from “{source.name}” to “{target.name}” and updating their "
            "operational data.",
        )
        changes = url_changes(source, target, new_repository)
        totals = dict(self.job.details.get("moved", {}))
        for number, route in enumerate(routes):
            counts = move_route(route, source, target, changes)
            for name, count in counts.items():
                totals[name] = totals.get(name, 0) + count
            done.append(str(route))
            self.log(
                f"{route}: " + (", ".join(f"{count} {name}" for name, count in counts.items()) or "no data")
            )
            self.job.details = {**self.job.details, "Routes Moved": done, "moved": totals}
            BackgroundJob.objects.filter(pk=self.job.pk).update(details=self.job.details)
            self.set_progress(100 * (number + 1) // len(routes))
        clear_blocker(blocker_key(self.job.pk))
        from integrations import validation

        validation.validate()
        self.log(f"Review the configuration of “{target.name}”, then run it.")
        return {"Routes Moved": done, "moved": totals}
