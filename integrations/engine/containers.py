"""The Container + Work Item style in the engine (docs/containers.md): containers are detected with
the work items, created first, matched with existing ones, and every artifact is placed in the twin
of its nearest mirrored ancestor. The processor calls in here at a few points; an integration
without container mirroring passes through unchanged."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from activity.models import ArtifactActivity
from connectors.containers import is_object, object_types, supports
from connectors.errors import ArtifactNotFound, ValuesNotAccepted
from integrations.engine import conflicts, routing

logger = logging.getLogger(__name__)

CONTAINER = "container"
PREVIEW = "preview"  # the holder of Preview's processors (integrations.engine.preview): no writes
_UNSET = object()


def mirroring_of(context):
    """The integration's ContainerMirroring, read once per context (None: not this style)."""
    found = getattr(context, "_container_mirroring", _UNSET)
    if found is _UNSET:
        from integrations.models import ContainerMirroring, Integration

        found = None
        if context.integration.style == Integration.Style.CONTAINER_WORK_ITEM:
            found = ContainerMirroring.objects.filter(integration=context.integration).first()
        context._container_mirroring = found
    return found


def detected_types(context, side: str) -> list[str]:
    """Artifact types change detection lists on ``side``: the collection's, and its container types."""
    types = list(context.sides[side].collection.artifact_types or [])
    mirroring = mirroring_of(context)
    if mirroring is not None and types:
        objects = object_types(context.sides[side].connector)  # versions: not artifacts to list
        types += [t for t in mirroring.types_of(side) if t not in types and t not in objects]
    return types


def is_container(context, side: str, artifact_type: str) -> bool:
    mirroring = mirroring_of(context)
    return mirroring is not None and artifact_type in mirroring.types_of(side)


# --- where a new twin goes -----------------------------------------------------------------------


def target_type(processor, artifact, model) -> str:
    """The artifact type of the twin: the collection's for a work item; for a container, the type
    Shared Container Mirroring gives (or the container type at the same place in the target's list)."""
    from integrations.engine.processing import Done, Failure

    source, target = processor.source, processor.target
    if not is_container(processor.context, source.name, artifact.type):
        return target.artifact_type
    mirroring = mirroring_of(processor.context)
    types = mirroring.types_of(target.name)
    if not types:
        raise Failure(
            "CCRRTT-67000E",
            f"“{target.repository.label}” has no container type in this integration, so the container "
            f"{artifact.formatted_id} has nowhere to be created. Add a container type for side "
            f"{target.name} on the integration's container mirroring.",
        )
    for condition in mirroring.conditions or []:
        if routing.condition_holds(condition, model):
            return condition.get("type") or types[0]
    if mirroring.conditions:
        if mirroring.unmatched == mirroring.Unmatched.IGNORE:
            raise Done("the container meets no Shared Container Mirroring condition and is ignored")
        if mirroring.unmatched == mirroring.Unmatched.ERROR:
            shown = "; ".join(routing.describe_condition(c) for c in mirroring.conditions)
            raise Failure(
                "CCRRTT-50016E",
                f"The container {artifact.formatted_id} meets none of the Shared Container Mirroring "
                f"conditions ({shown}), and artifacts no condition matches are an error. Add a condition "
                "for it, change the artifact, or choose Ignore or Default Type.",
            )
        return mirroring.default_type or types[0]
    mine = mirroring.types_of(source.name)
    index = mine.index(artifact.type)
    return types[index] if index < len(types) else types[0]


def waves(context, creations: list) -> list[list]:
    """The batch's creations in the order containers first: the containers, parents before their
    children, then the work items (after the container of any of them, even one that sits in an
    unmirrored artifact between). A wave's pairs are recorded before the next wave is placed."""
    mirroring = mirroring_of(context)
    if mirroring is None or len(creations) < 2:
        return [creations]
    key = mirroring.parent_field
    by_id = {(c.processor.source.name, c.artifact.id): c for c in creations}
    levels: dict[int, int] = {}

    def container(creation) -> bool:
        return is_container(context, creation.processor.source.name, creation.artifact.type)

    def level_of(creation, floor: int, seen=()) -> int:
        if id(creation) not in levels:
            parent = by_id.get((creation.processor.source.name, str(creation.model.get(key) or "")))
            if parent is None or parent in seen:
                levels[id(creation)] = floor
            else:
                parent_floor = 0 if container(parent) else floor
                levels[id(creation)] = max(floor, level_of(parent, parent_floor, (*seen, creation)) + 1)
        return levels[id(creation)]

    for creation in creations:
        if container(creation):
            level_of(creation, 0)
    items_floor = max(levels.values(), default=-1) + 1
    ordered: dict[int, list] = {}
    for creation in creations:
        ordered.setdefault(level_of(creation, items_floor), []).append(creation)
    return [ordered[level] for level in sorted(ordered)]


# --- container matching (Associated Artifacts) ---------------------------------------------------


def may_match(creation) -> bool:
    processor = creation.processor
    mirroring = mirroring_of(processor.context)
    return (
        mirroring is not None
        and mirroring.matching != mirroring.Matching.OFF
        and is_container(processor.context, processor.source.name, creation.artifact.type)
    )


def matched_twin(processor, creation):
    """An existing container of the target to pair with instead of creating one, or None."""
    from integrations.engine.processing import Failure

    if not may_match(creation):
        return None
    mirroring = mirroring_of(processor.context)
    target, intent = processor.target, creation.intent
    wanted = str(creation.model.get(mirroring.match_field) or "").strip()
    if not wanted or not supports(target.connector):
        return None
    candidates = [
        ref
        for ref in target.connector.containers(intent.target_project, intent.target_type)
        if ref.title.strip() == wanted and processor.twin_of(target.name, ref.id) is None
    ]
    if not candidates:
        return None
    if len(candidates) > 1 and mirroring.matching == mirroring.Matching.ERROR:
        raise Failure(
            "CCRRTT-50007E",
            f"{len(candidates)} containers of “{target.collection.name}” match "
            f"{creation.artifact.formatted_id} by {mirroring.match_field} “{wanted}” "
            f"({', '.join(ref.id for ref in candidates)}). Rename them so "
            "that one matches, choose the first match, or turn container matching off.",
        )
    return target.connector.read_artifact(candidates[0].id)


# --- the container value between the sides -------------------------------------------------------


def in_scope(processor, side: str, artifact) -> bool:
    """Whether the integration mirrors ``artifact`` of ``side``: its type is the collection's or a
    container type, and a route leaves its project."""
    context = processor.context
    if artifact.type not in detected_types(context, side):
        return False
    return any(route.leaves(side, artifact.project) for route in context.routes)


def translate(processor, key: str, value: Any, source, target) -> Any:
    """The target's container for a source container id: the twin of the nearest mirrored ancestor
    (None: the top level). 17020E while that ancestor has no twin yet, 50018E when its own
    synchronization failed, 17022E when its twin was deleted, 67000E when the target holds no
    containers."""
    from integrations.engine.processing import Failure

    if value in (None, ""):
        return None
    if not supports(target.connector):
        raise Failure(
            "CCRRTT-67000E",
            f"“{key}” puts the artifact in container {value}, but “{target.repository.label}” cannot hold "
            "containers. Map the field only toward repositories with containers.",
        )
    if is_object(source.connector, value):
        return _object_twin(processor, str(value), source, target)
    current, seen = str(value), set()
    while current and current not in seen:
        seen.add(current)
        twin = processor.twin_of(source.name, current)
        if twin is not None:
            return _existing(processor, target, twin, current)
        try:
            container = source.connector.read_artifact(current)
        except ArtifactNotFound:
            return None  # the container is gone on the source: the artifact moves to the top level
        if in_scope(processor, source.name, container):
            _not_yet(processor, source.name, container)
        up = source.connector.container_of(current) if supports(source.connector) else None
        current = up.id if up is not None else ""
    return None


def routed_by_container(processor, artifact, model, missing: routing.RouteMissing) -> str:
    """The target project of an item whose own project has no route (``missing``, 17019E): the
    project of its nearest mirrored ancestor's twin, so that the item goes into that twin (the
    catalog's 17019E user action 1). 17020E / 50018E while that ancestor has no twin yet; 17019E
    when none of its ancestors is mirrored (naming them), or when the twin it is routed by was
    deleted (user action 3: change the container and Recreate it)."""
    from activity.models import ArtifactPair

    mirroring = mirroring_of(processor.context)
    source, target = processor.source, processor.target
    value = model.get(mirroring.parent_field) if mirroring is not None else None
    if value in (None, "") or not supports(source.connector) or is_object(source.connector, value):
        raise missing
    chain, current = [], str(value)
    while current and current not in chain:
        chain.append(current)
        pair = ArtifactPair.objects.filter(
            integration_id=processor.integration.pk, **{f"{source.name.lower()}_artifact_id": current}
        ).first()
        if pair is not None:
            twin = pair.side(target.name)
            if not _still_there(
                processor.context, target.name, twin["artifact_id"], target.connector.read_artifact
            ):
                mine = pair.side(source.name)["formatted_id"] or current
                shown = twin["formatted_id"] or twin["artifact_id"]
                raise routing.RouteMissing(
                    f"{artifact.formatted_id} is routed by its container {mine}, "
                    f"whose twin {shown} in “{target.collection.name}” was "
                    "deleted, and its own project has no route. Make a change to the container so that its "
                    "activity shows the deleted twin, and use Recreate Artifact on it (or add a route)."
                )
            return twin["project"]
        try:
            container = source.connector.read_artifact(current)
        except ArtifactNotFound:
            break
        if in_scope(processor, source.name, container):
            _not_yet(processor, source.name, container)
        up = source.connector.container_of(current)
        current = up.id if up is not None else ""
    raise routing.RouteMissing(
        f"{missing} {artifact.formatted_id} is in container {', in '.join(chain)}; neither that container "
        "nor any of its ancestors is part of the mirrored container structure. Mirror one of them (its "
        "project routed, its type a container type), or add a route for the artifact's project."
    )


def _object_twin(processor, value: str, source, target) -> str | None:
    """The twin of a container that is not an artifact (a Redmine version): the one its
    ContainerPair names, else one made now (or, with container matching, found by title) in the
    route's target project and paired. A container whose type is not a container type of the side
    is out of scope (None: no container). 17022E when the twin was deleted."""
    from integrations.engine.processing import Failure
    from integrations.models import ContainerPair

    integration = processor.integration
    pairs = ContainerPair.objects.filter(integration_id=integration.pk)
    pair = pairs.filter(**{f"{source.name.lower()}_container_id": value}).first()
    if pair is not None:
        return _existing_object(processor, target, pair, value)
    try:
        ref = source.connector.read_container(value)
    except ArtifactNotFound:
        return None  # gone on the source: the artifact leaves its container
    mirroring = mirroring_of(processor.context)
    mine = mirroring.types_of(source.name) if mirroring is not None else []
    if ref.type not in mine:
        return None
    theirs = mirroring.types_of(target.name)
    wanted = theirs[mine.index(ref.type)] if mine.index(ref.type) < len(theirs) else ""
    if wanted not in object_types(target.connector):
        raise Failure(
            "CCRRTT-67000E",
            f"The {ref.type} {ref.title or value} this artifact is in has no kind of container to be "
            f"created as in “{target.repository.label}” (container types of side {target.name}: "
            f"{', '.join(theirs) or 'none'}). Add the matching container type on the integration's "
            "container mirroring.",
        )
    if processor.holder == PREVIEW:  # Preview reads only: it shows the container it would make
        return f"(new {wanted} “{ref.title}”)"
    activity = processor.activity  # the version goes where the artifact's twin is, either way
    project = activity.target_project if target.name == processor.target.name else activity.source_project
    # The twin copies the source's attributes; a closed or locked one is made open, so that items
    # can be filed in it, and closed at the end of the batch (``close_held``).
    wanted_values = dict(ref.attributes)
    hold = _closed(wanted_values)
    made_values = {**wanted_values, STATUS: OPEN} if hold else wanted_values
    twin = _matching_object(processor, target, project, wanted, ref, mirroring)
    if twin is None:
        try:
            twin = target.connector.create_container(project, wanted, ref.title, made_values).id
        except ValuesNotAccepted:
            # A tool that keeps titles unique (Redmine's version names, per project) refuses a second
            # one: an earlier attempt made it and died before recording the pair, or a user did.
            twin = _unpaired_with_title(processor, target, project, wanted, ref)
            if twin is None:
                raise
            _write_object(target.connector, twin, None, made_values)
    else:  # an existing container, matched by title: it takes the source's attributes
        _write_object(target.connector, twin, None, made_values)
    ids = {source.name: value, target.name: twin}
    projects = {source.name: ref.project, target.name: project}
    try:
        with transaction.atomic():
            pair = ContainerPair.objects.create(
                integration_id=integration.pk,
                a_container_id=ids["A"],
                b_container_id=ids["B"],
                a_project=projects["A"],
                b_project=projects["B"],
                title=ref.title[:1000],
                snapshot=_values_of(ref),
                held_open={target.name: timezone.now().isoformat()} if hold else {},
            )
    except IntegrityError:  # another worker paired it first: use its pair
        pair = pairs.get(**{f"{source.name.lower()}_container_id": value})
        return pair.id_of(target.name)
    if hold:
        _held(processor.context).add(pair.pk)
    _checked(processor.context)[target.name, twin] = True
    return twin


# --- the attributes of containers that are not artifacts (Redmine versions) ----------------------

TITLE, STATUS, OPEN = "title", "status", "open"
HELD_AT_MOST = dt.timedelta(minutes=10)  # longer than a batch runs: its worker died


def _values_of(ref) -> dict:
    """What a container pair compares: the title and the connector's attributes."""
    return {TITLE: ref.title, **dict(ref.attributes)}


def _closed(values: dict) -> bool:
    return values.get(STATUS) not in (None, "", OPEN)


def _write_object(connector, container_id: str, title, attributes: dict) -> None:
    if title is not None or attributes:
        connector.update_container(container_id, title=title, attributes=attributes or None)


def _held(context) -> set[int]:
    """The ContainerPairs whose closed twin this batch opened to file items in it."""
    return context.__dict__.setdefault("_container_pairs_held_open", set())


def _hold_open(processor, target, pair, twin: str) -> None:
    """Open the pair's ``target`` container for the batch when the snapshot says it is closed or
    locked (Redmine files no issue in such a version), recorded on the pair first, so that the end
    of the batch, or the next detection after a kill, closes it again."""
    if not _closed(pair.snapshot or {}) or target.name in (pair.held_open or {}):
        if target.name in (pair.held_open or {}):
            _held(processor.context).add(pair.pk)
        return
    pair.held_open = {**(pair.held_open or {}), target.name: timezone.now().isoformat()}
    pair.save(update_fields=["held_open"])
    _held(processor.context).add(pair.pk)
    _write_object(target.connector, twin, None, {STATUS: OPEN})


def close_held(context, pair_ids=None) -> int:
    """Give the containers Hub held open their snapshot's status again (closed, locked): those of
    this batch (``pair_ids`` None), or the ones listed. Returns how many were closed."""
    from integrations.models import ContainerPair

    ids = _held(context) if pair_ids is None else set(pair_ids)
    closed = 0
    for pair in ContainerPair.objects.filter(pk__in=sorted(ids), integration_id=context.integration.pk):
        for side in sorted(pair.held_open or {}):
            try:
                _write_object(
                    context.sides[side].connector, pair.id_of(side), None, {STATUS: pair.snapshot.get(STATUS)}
                )
                closed += 1
            except ArtifactNotFound:
                pass  # deleted meanwhile: nothing to close
            except Exception:  # noqa: BLE001 - still held: the next detection closes it
                logger.warning("Could not close container %s again", pair.id_of(side), exc_info=True)
                continue
            pair.held_open = {s: since for s, since in pair.held_open.items() if s != side}
            pair.save(update_fields=["held_open"])
    if pair_ids is None:
        ids.clear()
    return closed


def sync_object_containers(context) -> int:
    """Bring the attributes of paired containers that are not artifacts (Redmine versions: name,
    description, status, due date, sharing) in step, once per detection: a change on one side since
    the pair's snapshot is written to the other where the parent field flows that way; a change of
    the same attribute on both sides goes to the winner of the conflict strategy (Error upon
    conflict: neither is written, and a warning is logged). One listing per paired project and
    side. Containers Hub held open and did not close (a killed batch) are closed here. Returns how
    many containers were written."""
    from integrations.models import ContainerPair

    mirroring = mirroring_of(context)
    if mirroring is None:
        return 0
    pairs = list(ContainerPair.objects.filter(integration_id=context.integration.pk))
    if not pairs or not all(object_types(context.sides[s].connector) for s in ("A", "B")):
        return 0
    current = {}
    for side in ("A", "B"):
        connector = context.sides[side].connector
        for project in sorted({getattr(p, f"{side.lower()}_project") for p in pairs} - {""}):
            for kind in sorted(object_types(connector)):
                for ref in connector.containers(project, kind):
                    current[side, ref.id] = ref
    integration = context.integration
    flow = (integration.field_flows or {}).get(mirroring.parent_field, conflicts.BOTH)
    written = 0
    leftovers = []
    for pair in pairs:
        refs = {side: current.get((side, pair.id_of(side))) for side in ("A", "B")}
        if None in refs.values():
            continue  # gone on a side (17022E when an item needs it), or not listed
        values = {side: _values_of(ref) for side, ref in refs.items()}
        snapshot = dict(pair.snapshot or {}) or dict(values[_first_source(integration)])
        for side in pair.held_open or {}:  # held open by Hub: its status is still the snapshot's
            values[side][STATUS] = snapshot.get(STATUS, values[side][STATUS])
        writes: dict[str, dict] = {"A": {}, "B": {}}
        for key in sorted(set(values["A"]) | set(values["B"])):
            a, b = values["A"].get(key), values["B"].get(key)
            if a == b:
                snapshot[key] = a
                continue
            changed = [side for side in ("A", "B") if values[side].get(key) != snapshot.get(key)]
            winner = changed[0] if len(changed) == 1 else _winner(integration, pair, key, a, b)
            if winner and conflicts.flows(flow, winner):
                loser = "B" if winner == "A" else "A"
                writes[loser][key] = values[winner].get(key)
                snapshot[key] = values[winner].get(key)
        for side, change in writes.items():
            if not change:
                continue
            title = change.pop(TITLE, None)
            try:
                _write_object(context.sides[side].connector, pair.id_of(side), title, change)
                written += 1
            except Exception:  # noqa: BLE001 - the next detection tries again
                logger.warning("Could not update container %s", pair.id_of(side), exc_info=True)
                snapshot = dict(pair.snapshot or {}) or snapshot
                continue
            if STATUS in change:  # the status is now what Hub means it to be: no longer held
                pair.held_open = {s: t for s, t in (pair.held_open or {}).items() if s != side}
        if snapshot != (pair.snapshot or {}) or writes["A"] or writes["B"]:
            pair.snapshot = snapshot
            pair.title = str(snapshot.get(TITLE, pair.title))[:1000]
            pair.save(update_fields=["snapshot", "held_open", "title"])
        if _left_over(pair):
            leftovers.append(pair.pk)
    written += close_held(context, leftovers) if leftovers else 0
    return written


def _left_over(pair) -> bool:
    """Whether Hub holds one of the pair's containers open since longer than any batch runs: the
    batch that opened it died (kill -9) before it closed it again. A batch running now keeps its
    own open."""
    limit = (timezone.now() - HELD_AT_MOST).isoformat()
    return any(since < limit for since in (pair.held_open or {}).values())


def _first_source(integration) -> str:
    """The side a pair without a snapshot (paired before Hub kept one) takes its values from."""
    return "B" if integration.creation_flow == conflicts.B_TO_A else "A"


def _winner(integration, pair, key: str, a, b) -> str:
    strategy = integration.conflict_strategy
    if strategy == integration.ConflictStrategy.A_WINS:
        return "A"
    if strategy == integration.ConflictStrategy.B_WINS:
        return "B"
    logger.warning(
        "Containers %s and %s: %s changed on both sides (%r, %r); neither is written (Error upon conflict)",
        pair.a_container_id,
        pair.b_container_id,
        key,
        a,
        b,
    )
    return ""


def _matching_object(processor, target, project: str, container_type: str, ref, mirroring) -> str | None:
    """With container matching on: the unpaired container of the target project with the same
    title (several: the first, or 50007E)."""
    from integrations.engine.processing import Failure

    if mirroring.matching == mirroring.Matching.OFF or not ref.title.strip():
        return None
    candidates = _same_title(processor, target, project, container_type, ref)
    if len(candidates) > 1 and mirroring.matching == mirroring.Matching.ERROR:
        raise Failure(
            "CCRRTT-50007E",
            f"{len(candidates)} containers of “{target.collection.name}” match the {ref.type} "
            f"“{ref.title}” ({', '.join(candidates)}). Rename them so that one matches, choose the "
            "first match, or turn container matching off.",
        )
    return candidates[0] if candidates else None


def _same_title(processor, target, project: str, container_type: str, ref) -> list[str]:
    """The target project's containers of the type titled as ``ref`` that no pair holds yet."""
    from integrations.models import ContainerPair

    paired = set(
        ContainerPair.objects.filter(integration_id=processor.integration.pk).values_list(
            f"{target.name.lower()}_container_id", flat=True
        )
    )
    return [
        found.id
        for found in target.connector.containers(project, container_type)
        if found.title.strip() == ref.title.strip() and found.id not in paired
    ]


def _unpaired_with_title(processor, target, project: str, container_type: str, ref) -> str | None:
    found = _same_title(processor, target, project, container_type, ref) if ref.title.strip() else []
    return found[0] if len(found) == 1 else None


def _existing_object(processor, target, pair, value: str) -> str:
    """The paired twin when it still exists (read once per batch); else 17022E, and the pair is
    forgotten so that the artifact's retry makes the container again (a version has no activity of
    its own to Recreate)."""
    from integrations.engine.processing import Failure

    twin = pair.id_of(target.name)
    if _still_there(processor.context, target.name, twin, target.connector.read_container):
        if processor.holder != PREVIEW:
            _hold_open(processor, target, pair, twin)
        return twin
    pair.delete()
    raise Failure(
        "CCRRTT-17022E",
        f"The container {value} (“{pair.title}”) is paired with {twin} in “{target.collection.name}”, "
        "which was deleted. Retry this artifact to create the container again (or file it elsewhere "
        "and change it).",
    )


def _still_there(context, side: str, twin: str, read) -> bool:
    """Whether the twin exists on ``side``, read (``read(twin)``) once per batch."""
    seen = _checked(context)
    if (side, twin) not in seen:
        try:
            read(twin)
            seen[side, twin] = True
        except ArtifactNotFound:
            seen[side, twin] = False
    return seen[side, twin]


def _checked(context) -> dict[tuple[str, str], bool]:
    """The container twins whose existence this batch has checked: twin id → it exists."""
    return context.__dict__.setdefault("_container_twins_checked", {})


def check_twins(context, creations: list) -> int:
    """The 17022E check of a wave of creations in one batched read per target side
    (``check_containers``). Returns how many twins were checked."""
    mirroring = mirroring_of(context)
    if mirroring is None or not creations:
        return 0
    return check_containers(
        context, [(c.processor.source.name, c.model.get(mirroring.parent_field)) for c in creations]
    )


def check_containers(context, values) -> int:
    """Check, in one batched read per target side, that the twins of these containers still exist
    (the 17022E check), instead of one read per container in ``translate``. ``values``: (source
    side, the source's container id) of the batch's creations or updates. Only those found are
    marked: a twin the batched read did not return (deleted, or a kind of container the tool's list
    does not show) is read alone by ``_existing``, which decides. Returns how many were checked."""
    from activity.models import ArtifactPair

    seen = _checked(context)
    by_side: dict[str, set[str]] = {}
    for side, value in values:
        if value not in (None, ""):
            by_side.setdefault(side, set()).add(str(value))
    wanted: list[tuple[Any, set[str]]] = []
    for side, ids in by_side.items():
        target = context.sides["B" if side == "A" else "A"]
        if not supports(target.connector):
            continue
        mine, theirs = f"{side.lower()}_artifact_id", f"{target.name.lower()}_artifact_id"
        pairs = ArtifactPair.objects.filter(
            integration_id=context.integration.pk, **{f"{mine}__in": sorted(ids)}
        )
        twins = {twin for twin in pairs.values_list(theirs, flat=True) if (target.name, twin) not in seen}
        if twins:
            wanted.append((target, twins))
    checked = 0
    for target, twins in wanted:
        try:
            found = target.connector.read_field_values(sorted(twins))
        except Exception:  # noqa: BLE001 - the one-by-one check in _existing still decides
            logger.info("Batched container check failed; checking one by one", exc_info=True)
            found = {}
        for twin in twins & set(found):
            seen[target.name, twin] = True
        checked += len(twins)
    return checked


def _existing(processor, target, twin: str, source_container: str) -> str:
    """``twin`` when it still exists in the target (checked once per batch, for creations in one
    read by ``check_twins``), else 17022E."""
    from integrations.engine.processing import Failure

    if not _still_there(processor.context, target.name, twin, target.connector.read_artifact):
        raise Failure(
            "CCRRTT-17022E",
            f"The container {source_container} is paired with {twin} in “{target.collection.name}”, which "
            "was deleted. Change the container to make it synchronize again and use Recreate Artifact on its "
            "activity; this artifact is placed once the container's twin exists.",
        )
    return twin


def _not_yet(processor, side: str, container) -> None:
    from integrations.engine.processing import ContainerNotYet, Failure

    failed = ArtifactActivity.objects.filter(
        integration_id=processor.integration.pk,
        source_side=side,
        artifact_id=container.id,
        status=ArtifactActivity.Status.FAILED,
    ).first()
    if failed is not None:
        raise Failure(
            "CCRRTT-50018E",
            f"The container {container.formatted_id} this artifact depends on has not synchronized: its "
            f"own activity failed ({failed.code}). Fix that failure; this artifact follows.",
            transient=True,
        )
    raise ContainerNotYet(
        f"The container {container.formatted_id} has no twin yet; this artifact is placed when the "
        "container has synchronized (no action needed).",
        (side, str(container.id)),
    )


# --- re-parenting on both sides ------------------------------------------------------------------


class ContainmentConflict(conflicts.ConflictFailed):
    """CCRRTT-50005E: the container changed on both sides, and the strategy is Error upon conflict."""

    code = "CCRRTT-50005E"


def conflict_of(failed: conflicts.ConflictFailed, model_types, source: str) -> conflicts.ConflictFailed:
    """50005E for a conflict over containment (shown with both containers), the error as it is
    otherwise."""
    if any(model_types.get(key) == CONTAINER for key in failed.conflicts):
        return ContainmentConflict(failed.conflicts, source)
    return failed
