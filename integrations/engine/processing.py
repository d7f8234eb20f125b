"""Processing of claimed activities: one artifact, read fresh, mapped through the model, written to
its twin (created, or updated field by field), then the pair's snapshot, the completed activity and
the counters committed in one transaction. See docs/engine.md for the order and the reasons.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import random
import sys
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair
from connectors.errors import ArtifactNotFound, ConnectorError, OperationUnsupported, RevisionConflict
from connectors.hidden_marker import comment_key_of, with_comment_marker
from extensions import engine as extension_hooks
from extensions.licensing import per_batch
from hub import prometheus
from hub.bulk import insert_instances
from integrations.engine import (
    claims,
    conflicts,
    containers,
    counters,
    heartbeat,
    mapping,
    retry,
    routing,
    settled,
    test_step_flow,
    time_entries,
)
from integrations.engine.context import (
    REVISION,
    WRITING,
    IntegrationContext,
    SideContext,
    integration_ready,
    mask_secrets,
    other,
)
from integrations.models import CreationIntent, Integration

logger = logging.getLogger("hub.engine")
# Two changes of one field, one on each side, less than this apart by the tools' clocks are taken as
# made at once (a conflict for the strategy): Redmine dates its journals to the second.
TOUCH_GRAIN = dt.timedelta(seconds=1)
Status = ArtifactActivity.Status
Result = ArtifactActivity.Result
SOON = dt.timedelta(seconds=5)
UNEXPECTED = "CCRRTT-0001E"
OUT_OF_MEMORY = "CCRRTT-0003E"


class Failure(Exception):
    """A classified failure: catalog code, message, and whether trying again later may succeed."""

    def __init__(self, code: str, message: str, *, transient: bool = False, soon: bool = False, **flags):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.transient, self.soon = code, message, transient, soon
        self.twin_deleted = flags.get("twin_deleted", False)
        self.server_wait = flags.get("server_wait")


class ContainerNotYet(Failure):
    """CCRRTT-17020E: the container the artifact goes into (or is routed by) has no twin yet.
    ``waits_for`` is (side, the container's id); the batch that is creating that container places
    the artifact after it (``Batch.follow_their_containers``), any other retries it soon."""

    def __init__(self, message: str, waits_for: tuple[str, str]):
        super().__init__("CCRRTT-17020E", message, transient=True, soon=True)
        self.waits_for = waits_for


class Done(Exception):
    """Nothing (more) to do for this activity: out of scope, or nothing changed."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


def worker_name() -> str:
    return heartbeat.worker_name()


# --- the batch ---------------------------------------------------------------------------------


def runnable_integrations() -> list[int]:
    """Running integrations nothing blocks (the caller has checked the instance-wide gates)."""
    ids = []
    for integration in Integration.objects.filter(running=True).select_related(
        "collection_a", "collection_b"
    ):
        if integration_ready(integration)[0]:
            ids.append(integration.pk)
    return ids


def process_batch(limit: int = 50, worker: str | None = None, *, gated: bool = False) -> int:
    """Claim up to ``limit`` due activities and process them; returns how many were claimed.
    ``gated``: the caller has just checked the instance-wide gates (the process task, once a round)."""
    from hub.gates import integration_work_allowed

    if not gated and not integration_work_allowed()[0]:
        return 0
    worker = worker or worker_name()
    heartbeat.beat(worker)  # alive while it works, also where no heartbeat thread runs
    try:
        claims.release_stale()
    except DatabaseError:  # e.g. a deadlock with a detection: the next round releases them
        logger.warning("Releasing dead workers' claims failed; trying again next round", exc_info=True)
    activities = claims.claim(worker, runnable_integrations(), limit)
    groups: dict[int, list[ArtifactActivity]] = {}
    for activity in activities:
        groups.setdefault(activity.integration_id, []).append(activity)
    for integration_id, group in groups.items():
        try:
            context = IntegrationContext.load(integration_id)
        except Exception as error:  # noqa: BLE001 - e.g. deleted since the claim: shown, not stuck
            for activity in group:
                settle(activity, error)
            continue
        try:
            # One license check per extension type and batch, not one per mapping line and artifact.
            with prometheus.timed(prometheus.PROCESSING, integration_id, share=len(group)), per_batch():
                Batch(context, group, worker).run()
        except Exception as error:  # noqa: BLE001 - a bug of the batch: its unsettled rows fail visibly
            unsettled(group, worker, error)
        finally:
            context.close()
    return len(activities)


def unsettled(group: list[ArtifactActivity], worker: str, error: BaseException) -> None:
    """Whatever escapes a batch fails the activities it left *processing*, each on its own schedule
    (instead of leaving them claimed until the worker is found dead) — and no other integration's."""
    still = ArtifactActivity.objects.filter(
        pk__in=[a.pk for a in group], status=Status.PROCESSING, claimed_by=worker
    ).values_list("pk", flat=True)
    left = set(still)
    for activity in group:
        if activity.pk in left:
            try:
                settle(activity, error)
            except Exception:  # noqa: BLE001 - the next release of dead claims takes this one
                logger.exception("Recording the failure of %s failed", activity)


def classify(error: BaseException, integration_id: int) -> Failure | None:
    """The failure an exception of processing stands for; None for ``Done`` (nothing to do)."""
    if isinstance(error, Done):
        return None
    if isinstance(error, Failure):
        return error
    if isinstance(error, (claims.Busy, RevisionConflict)):  # read afresh and try again soon
        return Failure(error.code, str(error), transient=True, soon=True)
    if isinstance(error, (conflicts.ConflictFailed, mapping.MappingFailed, routing.RoutingFailed)):
        return Failure(error.code, str(error))
    if extension_hooks.failure_of(error):  # an extension threw, returned nonsense, or a host failed
        return Failure(*extension_hooks.failure_of(error))
    if isinstance(error, ConnectorError):
        return Failure(
            error.code,
            error.message,
            transient=error.transient,
            server_wait=getattr(error, "retry_after", None),
        )
    if isinstance(error, MemoryError):  # not a bug of this change: tried again later, not at once
        logger.error("Processing ran out of memory (activity of integration %s)", integration_id)
        return Failure(
            OUT_OF_MEMORY,
            "Hub ran out of memory while processing this change; it is tried again later. If this "
            "keeps happening, give Hub more memory (or lower the batch size) and restart it.",
            transient=True,
        )
    # A bug or an unexpected answer: visible on the Activity screen, and retried on the schedule.
    # Its text and traceback are shown and logged with the repositories' secrets masked.
    trace = "".join(traceback.format_exception(error))
    logger.error("Processing failed unexpectedly\n%s", mask_secrets(integration_id, trace))
    return Failure(UNEXPECTED, mask_secrets(integration_id, f"{type(error).__name__}: {error}"))


def settle(activity: ArtifactActivity, error: BaseException) -> None:
    """Record how processing ``activity`` ended when it did not complete."""
    failure = classify(error, activity.integration_id)
    if failure is None:
        # Nothing happened: no row to show, unless the claim went to another worker meanwhile.
        held(activity).delete()
        if getattr(error, "message", ""):
            logger.debug("%s: %s", activity, error.message)
    else:
        fail(activity, failure)


def written_by_hub(pair: ArtifactPair, side: str, artifact, integration: Integration | None = None) -> bool:
    """Whether ``artifact`` is still at the revision Hub last synchronized for this pair, with no
    comment or attachment Hub has not copied yet: then there is nothing to take from it. This is
    what detection checks too; an artifact detected while Hub was creating it as a twin (its pair
    not yet recorded) arrives here as such an echo, and costs no further reads.

    The revision alone is not enough: when Hub writes to an artifact right after someone commented
    on it, the revision Hub records after its write already includes that comment (Redmine's
    journals), so the comment's own activity would pass for Hub's echo and the comment be lost."""
    revision = (getattr(pair, f"{side.lower()}_snapshot") or {}).get(REVISION)
    if not (artifact is not None and artifact.revision and revision == artifact.revision):
        return False
    return integration is None or not uncopied(pair, side, artifact, integration)


def uncopied(pair: ArtifactPair, side: str, artifact, integration: Integration) -> bool:
    """Whether ``artifact`` has a comment or attachment that flows and is in neither map of the pair
    (not read with it: cannot tell, so yes)."""
    direction = "a_to_b" if side == "A" else "b_to_a"
    if integration.style == Integration.Style.TIME_TRACKING:
        return True  # worklogs are not on the artifact: only reading them says what is left to copy
    comment_flow = (integration.comment_flow or {}).get(direction) or {}
    if comment_flow.get("enabled"):
        if artifact.comments is None:
            return True
        skip_private = comment_flow.get("internal", "skip") == "skip"
        known = pair.comment_map or {}
        if any(
            f"{side}:{c.id}" not in known and not copy_of(integration, c)
            for c in artifact.comments
            if not (c.private and skip_private)
        ):
            return True
    if ((integration.attachment_flow or {}).get(direction) or {}).get("enabled"):
        if artifact.attachments is None:
            return True
        known = pair.attachment_map or {}
        return any(f"{side}:{a.id}" not in known for a in artifact.attachments)
    return False


def copy_of(integration: Integration, comment) -> str:
    """The ``<side>:<id>`` of the comment that ``comment`` is Hub's copy of, by the comment marker
    Hub wrote with it for this integration; "" for any other comment."""
    integration_id, _, key = comment_key_of(comment.body).partition("/")
    return key if integration_id == str(integration.pk) else ""


class Batch:
    """The claimed activities of one integration, processed together where that saves round trips
    to the database and the tools: their artifact locks are taken in one statement, the source
    artifacts read in one call, and the twins to create are prepared, created and recorded
    together — the creation intents committed before any remote create, the pairs, completed
    activities and counters in one transaction after them. Updates of existing pairs go one by
    one (each reads its pair and both artifacts fresh, under both locks). A failure stays with its
    own activity."""

    def __init__(self, context: IntegrationContext, activities: list[ArtifactActivity], worker: str):
        self.context, self.activities, self.worker = context, activities, worker
        self.holder = f"{worker}:batch"

    def key(self, activity: ArtifactActivity) -> str:
        return claims.lock_key(self.context.integration.pk, activity.source_side, activity.artifact_id)

    def run(self) -> None:
        keys = {activity.pk: self.key(activity) for activity in self.activities}
        held = claims.lock_many(keys.values(), self.holder)
        try:
            ready = []
            for activity in self.activities:
                if keys[activity.pk] in held:
                    ready.append(activity)
                else:
                    settle(
                        activity,
                        claims.Busy(
                            f"Another worker is synchronizing this artifact "
                            f"({keys[activity.pk]}); trying again shortly."
                        ),
                    )
            creations, waiting = self.process(ready, held)
            for wave in containers.waves(self.context, creations):  # containers first
                Creations(self.context, wave).run()
            self.follow_their_containers(creations, waiting)
        finally:
            try:
                containers.close_held(self.context)  # the closed versions it opened to file items
            finally:
                claims.unlock_many(held, self.holder)
        Integration.objects.filter(pk=self.context.integration.pk).update(
            last_artifact_processed=timezone.now()
        )

    def follow_their_containers(self, created: list[Creation], waiting: list) -> None:
        """Creations routed by their container (``containers.routed_by_container``) whose container
        had no twin yet when they were prepared: those whose container this batch was creating are
        prepared again once its waves are recorded, and follow in waves of their own (a chain of
        such containers, one level per round). The others, and those whose container still has no
        twin after its round, keep their 17020E (or get the container's failure, 50018E)."""
        while waiting:
            coming = {(c.processor.source.name, str(c.artifact.id)) for c in created}
            coming |= {(p.source.name, str(a.id)) for p, a, _, _ in waiting}
            created, still = [], []
            for processor, artifact, old_pair, error in waiting:
                if error.waits_for not in coming:
                    settle(processor.activity, error)
                    continue
                try:
                    created.append(processor.prepare_creation(artifact, old_pair))
                except ContainerNotYet as again:  # its container follows in this round: the next one
                    still.append((processor, artifact, old_pair, again))
                except Exception as failed:  # noqa: BLE001 - classified and shown on the Activity screen
                    settle(processor.activity, failed)
            if not created:
                for processor, _, _, error in still:
                    settle(processor.activity, error)
                return
            for wave in containers.waves(self.context, created):
                Creations(self.context, wave).run()
            waiting = still

    def process(self, activities: list[ArtifactActivity], held: set[str]) -> tuple[list[Creation], list]:
        """Update what is paired; return what is to be created, and the creations routed by a
        container that has no twin yet (processor, artifact, old pair, its ContainerNotYet)."""
        read_started = timezone.now()
        artifacts = self.read_sources(activities)
        pairs = self.pairs_of(activities)
        creations, waiting, unchanged, settled_now = [], [], [], {"A": [], "B": []}
        written_to: set[tuple[str, str]] = set()  # twins this batch may have written so far
        latest: dict[tuple[str, str], Any] = {}  # their newest reads: a write's read-back
        containers_checked = False
        with self.source_models_ahead(activities, artifacts, pairs):
            for index, activity in enumerate(activities):
                processor = Processor(self.context, activity, self.holder, held=held)
                try:
                    key = (activity.source_side, activity.artifact_id)
                    pair, artifact = pairs.get(key), artifacts.get(key)
                    if key in written_to:
                        # Both twins' activities in one batch: the one before wrote this artifact
                        # after the batch read it, so that read (and the pair) is stale — deciding on
                        # it would take Hub's own write for a change and undo it (issue #20). Its
                        # read-back after that write stands in for a read of its own: read later,
                        # it would show no more (a change made after the read-back is detected as
                        # a new activity, this one being claimed).
                        artifact, pair = (
                            latest.get(key) or processor.read_source(),
                            processor.pair_of(activity.artifact_id),
                        )
                        processor.describe(artifact)
                    if pair is not None and not activity.recreate:
                        if written_by_hub(pair, activity.source_side, artifact, self.context.integration) or (
                            self.as_synchronized(pair, activity.source_side, artifact)
                        ):
                            # Hub's echo writes nothing: the batch's read of its twin stays good.
                            unchanged.append(activity.pk)
                            settled_now[activity.source_side].append(artifact)
                            continue
                        twin_side = other(activity.source_side)
                        written_to.add((twin_side, pair_side(pair, twin_side)["artifact_id"]))
                        if not containers_checked:  # the 17022E check of the updates: one read
                            containers_checked = True
                            self.check_containers(activities[index:], artifacts, pairs)
                        processor.latest = latest
                        processor.run(artifact)  # re-reads the pair, reads the twin under both locks
                        continue
                    if pair is not None:
                        twin_side = other(activity.source_side)
                        written_to.add((twin_side, pair_side(pair, twin_side)["artifact_id"]))
                    if artifact is None:  # not in the batch read: read it alone (its own error, if any)
                        artifact = processor.read_source()
                    try:
                        creations.append(processor.prepare_creation(artifact, pair))
                    except ContainerNotYet as error:  # perhaps its container is coming
                        waiting.append((processor, artifact, pair, error))
                except Exception as error:  # noqa: BLE001 - classified and shown on the Activity screen
                    settle(activity, error)
        # Nothing happened for these: no rows to show (as for every activity that ends in Done).
        ArtifactActivity.objects.filter(pk__in=unchanged).delete()
        for side, found in settled_now.items():  # the next listings skip them without a read
            settled.record(self.context.integration.pk, side, found, read_started)
        return creations, waiting

    def check_containers(self, activities, artifacts, pairs) -> None:
        """The 17022E check of the batch's updates from here on, in one batched read per target
        side (``containers.check_containers``) instead of one read per container: every update
        translates its container (to write it, or to compare it with the twin's)."""
        mirroring = containers.mirroring_of(self.context)
        if mirroring is None:
            return
        values = []
        for activity in activities:
            key = (activity.source_side, activity.artifact_id)
            artifact = artifacts.get(key)
            if artifact is None or key not in pairs or activity.recreate:
                continue
            try:
                model = mapping.to_model(self.context.sides[activity.source_side].lines, artifact.fields)
            except Exception:  # noqa: BLE001, S112 - the update itself reports its mapping failure
                continue
            values.append((activity.source_side, model.get(mirroring.parent_field)))
        containers.check_containers(self.context, values)

    def source_models_ahead(self, activities, artifacts, pairs):
        """``extensions.transformations.ahead`` for the source models of the batch's updates: the
        extension lines that read each paired source artifact into the model (for the check for
        Hub's own write, then for the update itself) run in one sandbox round trip for the batch,
        not one or two per update. ``to_model`` looks nothing up (a Container input's summary is
        read once per batch), so collecting repeats no request; a source read again in the loop
        (stale after a write) has other fields, so other fingerprints."""
        from extensions.transformations import ahead

        jobs = []
        for activity in activities:
            key = (activity.source_side, activity.artifact_id)
            artifact, lines = artifacts.get(key), self.context.sides[activity.source_side].lines
            if (
                artifact is None
                or key not in pairs
                or activity.recreate
                or not mapping.has_extension_lines(lines)
            ):
                continue
            jobs.append(functools.partial(mapping.to_model, lines, artifact.fields))
        return ahead(jobs) if jobs else contextlib.nullcontext()

    def as_synchronized(self, pair: ArtifactPair, side: str, artifact) -> bool:
        """Whether ``artifact`` still has the values Hub last synchronized for this pair, with no
        comment or attachment left to copy: Hub's own write coming back under a revision Hub did
        not record (Redmine's listing gives only ``updated_on``; a read-back that met someone else's
        change; a worker killed before the pair was committed), or a change that was undone. Then
        nothing flows from it, and the twin is not even read (issue #20: no echo)."""
        return already_synchronized(self.context, pair, side, artifact)

    def read_sources(self, activities) -> dict[tuple[str, str], Any]:
        found = {}
        for side in ("A", "B"):
            ids = [a.artifact_id for a in activities if a.source_side == side and not a.recreate]
            if not ids:
                continue
            try:
                artifacts = self.context.sides[side].connector.read_artifacts(ids)
            except Exception:  # noqa: BLE001 - each activity then reads alone and gets its own failure
                logger.debug("Reading a batch of side %s failed; reading one by one", side, exc_info=True)
                continue
            found.update({(side, artifact_id): artifact for artifact_id, artifact in artifacts.items()})
        return found

    def pairs_of(self, activities) -> dict[tuple[str, str], ArtifactPair]:
        return pairs_of(self.context.integration.pk, activities)


def already_synchronized(context: IntegrationContext, pair: ArtifactPair, side: str, artifact) -> bool:
    """``Batch.as_synchronized``: ``artifact`` holds the values Hub last synchronized for ``pair``."""
    if artifact is None or not pair.a_snapshot or not pair.b_snapshot:
        return False
    if WRITING in pair.a_snapshot or WRITING in pair.b_snapshot:
        return False  # a write whose outcome the pair does not record: only update() can tell
    if uncopied(pair, side, artifact, context.integration):
        return False
    model = mapping.to_model(context.sides[side].lines, artifact.fields)
    return model == snapshot_of(pair, side)


def pairs_of(integration_id: int, activities) -> dict[tuple[str, str], ArtifactPair]:
    """The pairs of the activities' source artifacts, by (side, artifact id): one query per side."""
    found = {}
    for side in ("A", "B"):
        ids = [a.artifact_id for a in activities if a.source_side == side]
        column = f"{side.lower()}_artifact_id"
        if ids:
            for pair in ArtifactPair.objects.filter(integration_id=integration_id, **{f"{column}__in": ids}):
                found[side, getattr(pair, column)] = pair
    return found


@dataclass
class Creation:
    """A twin to create: the processor of its activity, the source artifact read fresh and mapped,
    the target project its route gives, and the pair to replace (Recreate)."""

    processor: Processor
    artifact: Any
    model: dict
    project: str
    old_pair: ArtifactPair | None
    intent: CreationIntent | None = None
    earlier_attempt: bool = False  # the intent was there already: look for the twin by its marker
    flowing: list[str] = field(default_factory=list)
    pair: ArtifactPair | None = None
    result: str = ""
    changed: dict = field(default_factory=dict)
    target_type: str = ""  # "" = the target collection's type (a container's comes from its mirroring)
    # changes met in the window of bringing an earlier attempt's twin up to date (Processor.window):
    # per side, fields whose snapshot keeps the value read; fields left open on both sides
    kept: dict = field(default_factory=dict)
    open: set = field(default_factory=set)

    @property
    def activity(self) -> ArtifactActivity:
        return self.processor.activity


class Creations:
    """Creating the twins of a batch: wait where Hub may be creating the other way, commit the
    creation intents, create each twin remotely (or find the one an earlier attempt made, by its
    marker), then record pairs, completed activities and counters in one transaction."""

    def __init__(self, context: IntegrationContext, creations: list[Creation]):
        self.context, self.creations = context, creations
        self.integration = context.integration

    def run(self) -> None:
        if not self.creations:
            return
        # In this order: the intents first, then the pairs. A creation of the other side commits
        # its pair and deletes its intent together, so a create not seen as an intent here is seen
        # as a pair by the re-read after it (the pairs the batch read at its start may be older).
        ready = self.not_waiting(self.creations)
        ready = self.still_unpaired(ready)
        ready = self.not_hubs_twins(ready)
        self.write_intents(ready)
        containers.check_twins(self.context, ready)  # the 17022E check: one read, not one per child
        created, together = [], {}
        bulk = [c for c in ready if self.created_together(c)]
        together_ids = {id(c) for c in bulk}
        with self.twin_fields_ahead(bulk):
            for creation in ready:
                processor = creation.processor
                try:
                    if id(creation) in together_ids:
                        fields = processor.twin_fields(creation)
                        group = (
                            processor.target.name,
                            creation.intent.target_project,
                            creation.intent.target_type,
                        )
                        together.setdefault(group, []).append((creation, fields))
                        continue
                    processor.create_twin(creation)
                    created.append(creation)
                except Exception as error:  # noqa: BLE001 - classified and shown on the Activity screen
                    settle(creation.activity, error)
        for (side, project, artifact_type), group in together.items():
            created += self.create_together(side, project, artifact_type, group)
        self.record(created)

    @staticmethod
    def created_together(creation: Creation) -> bool:
        """Whether the twin is made with others of its batch in one request of the target's tool."""
        return (
            creation.processor.target.capabilities.bulk_create
            and not creation.earlier_attempt
            and not containers.may_match(creation)
        )

    def twin_fields_ahead(self, creations: list[Creation]):
        """``extensions.transformations.ahead`` for the twin fields of ``creations``: the write
        direction's extension lines of all of them in one sandbox round trip. Only where the model
        has no persons, relationships or containers, whose translation before the extension lines
        (look-ups in the tools and the pairs) the collecting run would repeat."""
        from extensions.transformations import ahead

        translated = {"person", "persons", "relationship", "relationships", containers.CONTAINER}
        if set(self.context.model_types.values()) & translated:
            return contextlib.nullcontext()
        return ahead(
            functools.partial(c.processor.twin_fields, c)
            for c in creations
            if mapping.has_extension_lines(c.processor.target.lines)
        )

    def create_together(self, side: str, project: str, artifact_type: str, group) -> list[Creation]:
        """Twins of one project and type in one request, where the target's tool can; it makes all or
        none, so when it refuses, each is created alone and gets its own outcome."""
        connector = self.context.sides[side].connector
        try:
            twins = connector.create_artifacts(
                project, artifact_type, [(fields, c.processor.marker(c)) for c, fields in group]
            )
        except Exception:  # noqa: BLE001 - nothing was created; one by one finds the culprit
            logger.debug("Creating %d twins together failed; creating one by one", len(group), exc_info=True)
            twins = None
        from extensions.transformations import ahead

        # Each staged twin is read back into the model for its pair's snapshot: its extension
        # lines for all the twins in one sandbox round trip, not one per twin.
        read_back = [
            functools.partial(mapping.to_model, creation.processor.target.lines, twins[n].fields)
            for n, (creation, _) in enumerate(group)
            if twins is not None and mapping.has_extension_lines(creation.processor.target.lines)
        ]
        staged = []
        with ahead(read_back):
            for n, (creation, _) in enumerate(group):
                try:
                    if twins is None:
                        creation.processor.create_twin(creation)
                    else:
                        creation.processor.stage_created(creation, twins[n])
                    staged.append(creation)
                except Exception as error:  # noqa: BLE001 - classified and shown on the Activity screen
                    settle(creation.activity, error)
        return staged

    def not_waiting(self, creations: list[Creation]) -> list[Creation]:
        """The creations that need not wait (CCRRTT-50013W) for Hub's creations the other way.

        An artifact that carries a marker of an open creation intent is a twin Hub created and has
        not paired yet: it waits for that pair, and is never copied back as an original. Where the
        source's tool keeps no marker, Hub cannot tell its twins from originals, so every creation
        from a project waits while the other side's *live* activities create into it — an intent
        whose activity failed, was cancelled or whose worker died blocks nothing (its retry still
        finds the twin by the marker)."""
        markers = {c.artifact.marker for c in creations if c.artifact.marker}
        pending_twins = (
            set(CreationIntent.objects.filter(marker__in=markers).values_list("marker", flat=True))
            if markers
            else set()
        )
        unmarked = [c for c in creations if not c.processor.source.capabilities.creation_marker]
        busy = self.creating_into() if unmarked else set()
        ready = []
        for creation in creations:
            if creation.artifact.marker in pending_twins:
                wait = (
                    f"It is the twin Hub is creating (marker {creation.artifact.marker}); "
                    "waiting for its pair."
                )
            elif creation in unmarked and (creation.processor.target.name, creation.artifact.project) in busy:
                wait = "Waiting for other artifact creations of this integration to finish."
            else:
                ready.append(creation)
                continue
            settle(creation.activity, Failure("CCRRTT-50013W", wait, soon=True))
        return ready

    def creating_into(self) -> set[tuple[str, str]]:
        """(side, project) into which a live activity of this integration is creating artifacts."""
        intents = list(
            CreationIntent.objects.filter(integration=self.integration).values_list(
                "source_side", "source_artifact_id", "target_project"
            )
        )
        if not intents:
            return set()
        owners = list(
            ArtifactActivity.objects.filter(
                integration_id=self.integration.pk, status=Status.PROCESSING
            ).values_list("source_side", "artifact_id", "claimed_by")
        )
        alive = heartbeat.alive({holder for _, _, holder in owners})
        live = {(side, artifact_id) for side, artifact_id, holder in owners if holder in alive}
        return {(side, project) for side, artifact_id, project in intents if (side, artifact_id) in live}

    def still_unpaired(self, creations: list[Creation]) -> list[Creation]:
        """Re-read the pairs under the artifact locks, right before creating: one recorded since the
        batch read them makes this an update, not a second twin."""
        # The pair instances, not only their ids: one paired meanwhile is checked as Hub's echo.
        fresh = pairs_of(self.integration.pk, [c.activity for c in creations])
        ready = []
        for creation in creations:
            key = (creation.processor.source.name, creation.artifact.id)
            if creation.activity.recreate or key not in fresh:
                ready.append(creation)
                continue
            try:
                # Paired meanwhile: Hub's echo (typically the twin another worker just created,
                # holding what that worker recorded) ends here without further reads; anything else
                # is updated like any paired artifact, on a fresh read — that worker may have written
                # it after the batch's read (its status move, its comments).
                pair, side = fresh[key], creation.processor.source.name
                if written_by_hub(pair, side, creation.artifact, self.integration) or (
                    already_synchronized(self.context, pair, side, creation.artifact)
                ):
                    raise Done("Hub's own twin, paired meanwhile")
                creation.processor.run()
            except Exception as error:  # noqa: BLE001 - classified and shown on the Activity screen
                settle(creation.activity, error)
        return ready

    def not_hubs_twins(self, creations: list[Creation]) -> list[Creation]:
        """An artifact with Hub's creation marker, neither paired nor being created, is a twin whose
        source Hub has lost track of: reported (CCRRTT-17016E), never copied back as an original."""
        ready = []
        for creation in creations:
            if not creation.artifact.marker or creation.activity.recreate:
                ready.append(creation)
                continue
            settle(
                creation.activity,
                Failure(
                    "CCRRTT-17016E",
                    f"{creation.artifact.formatted_id} carries Hub's creation marker "
                    f"{creation.artifact.marker}: it is a twin Hub created, and no pair or creation "
                    "records its source. Hub does not copy it back as a new artifact. Pair it with its "
                    "source on the Artifact Pairs tab, or clear its marker to synchronize it as an original.",
                ),
            )
        return ready

    def write_intents(self, creations: list[Creation]) -> None:
        """Committed before any remote create. An intent that is already there means an earlier
        attempt may have created the twin: ``create_twin`` looks for it by its marker."""
        for side in ("A", "B"):
            mine = [c for c in creations if c.processor.source.name == side]
            if not mine:
                continue
            existing = {
                intent.source_artifact_id: intent
                for intent in CreationIntent.objects.filter(
                    integration=self.integration,
                    source_side=side,
                    source_artifact_id__in=[c.artifact.id for c in mine],
                )
            }
            new = []
            for creation in mine:
                creation.intent = existing.get(creation.artifact.id)
                creation.earlier_attempt = creation.intent is not None
                if creation.intent is None:
                    creation.intent = CreationIntent(
                        integration=self.integration,
                        source_side=side,
                        source_artifact_id=creation.artifact.id,
                        target_project=creation.project,
                        target_type=creation.target_type or creation.processor.target.artifact_type,
                        marker=f"hub-{uuid.uuid4().hex}",
                        source_values=creation.model,
                    )
                    new.append(creation.intent)
            with transaction.atomic():
                insert_instances(new)  # bulk_create's rows, without its SQL compiler (hub.bulk)

    def record(self, created: list[Creation]) -> None:
        if not created:
            return
        try:
            with transaction.atomic():
                self.commit(created)
        except Exception:  # noqa: BLE001 - one bad row must not cost the others their record
            if len(created) == 1:
                settle(created[0].activity, sys.exc_info()[1])
                return
            logger.debug("Recording a batch of creations failed; recording one by one", exc_info=True)
            for creation in created:
                self.record([creation])

    def commit(self, created: list[Creation]) -> None:
        now = timezone.now()
        integration_id = self.integration.pk
        for creation in created:
            if creation.old_pair is not None and creation.old_pair.pk:
                ArtifactPair.objects.filter(pk=creation.old_pair.pk).delete()
        for side in ("A", "B"):
            twins = [c.pair.side(side)["artifact_id"] for c in created if c.processor.target.name == side]
            if twins:
                # A pair that still names the twin (a Recreate's leftover) gives way to the new one.
                ArtifactPair.objects.filter(
                    integration_id=integration_id, **{f"{side.lower()}_artifact_id__in": twins}
                ).delete()
            sources = [c.artifact.id for c in created if c.processor.source.name == side]
            if sources:
                CreationIntent.objects.filter(
                    integration_id=integration_id, source_side=side, source_artifact_id__in=sources
                ).delete()
        for creation in created:
            creation.pair.last_synced_at = now
            creation.pair.created = creation.pair.updated = now
        insert_instances([c.pair for c in created])
        activities = []
        for creation in created:
            activity = creation.activity
            completed(activity, creation.result, creation.changed)
            activity.updated = now
            activities.append(activity)
        save_completed(activities)
        counters.record((c.processor, c.result == Result.CREATED) for c in created)


def soon() -> dt.timedelta:
    """When a "try again shortly" failure (17004W, 50013W) is due: 5 to 10 s, spread at random.
    With one fixed delay, a pair of twins claimed by two workers at once — each locks its own
    artifact, then is refused the other's — failed together and came back together, again and
    again (the bounded acceptance run ended with such rows still retrying; issue #20)."""
    return SOON * (1 + random.random())  # noqa: S311 - a spread, not a secret


def fail(activity: ArtifactActivity, failure: Failure) -> None:
    now = timezone.now()
    activity.status = Status.FAILED
    activity.code, activity.message = failure.code, failure.message
    activity.retry_count += 1
    activity.last_error_at = now
    activity.twin_deleted = failure.twin_deleted
    activity.recreate = False
    activity.next_retry_at = (
        now + soon()
        if failure.soon
        else retry.next_retry(now, activity.retry_count, server_wait=failure.server_wait)
    )
    mine = held(activity)  # before the claim is cleared: who holds the row now
    activity.claimed_by, activity.claimed_at = "", None
    key = ArtifactActivity.make_waiting_key(
        activity.integration_id, activity.source_side, activity.artifact_id
    )
    for _ in range(3):
        try:
            with transaction.atomic():
                if not mine.select_for_update().exists():
                    # Released as a dead worker's and taken again (or settled) meanwhile: the row
                    # is another worker's now, and this failure is no longer its news.
                    logger.info("%s is no longer held by this worker; its failure is not recorded", activity)
                    return
                # A change detected meanwhile made a pending row; this one reads fresh on retry, so
                # it carries that change too.
                ArtifactActivity.objects.filter(waiting_key=key).exclude(pk=activity.pk).delete()
                activity.save()
            return
        except IntegrityError:  # detection made that row between the delete and the save: again
            continue
    raise RuntimeError(f"Could not record the failure of {activity}: its artifact keeps changing")


# --- one activity -------------------------------------------------------------------------------


@dataclass
class Outcome:
    result: str
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: int = 0


class Processor:
    def __init__(
        self,
        context: IntegrationContext,
        activity: ArtifactActivity,
        holder: str,
        held: set[str] = frozenset(),
    ):
        self.context, self.activity, self.holder = context, activity, holder
        self.held = held  # lock keys the batch holds already
        self.latest: dict[tuple[str, str], Any] = {}  # (side, id) → the newest read after update()
        self.integration = context.integration
        self.source: SideContext = context.sides[activity.source_side]
        self.target: SideContext = context.sides[other(activity.source_side)]
        self.persons = extension_hooks.reconciler(self.source, self.target)
        # Test Step Flow: the parts of a step that flow; the others stay each side's own.
        self.step_parts = test_step_flow.StepParts(self.integration.field_flows, context.model_types)
        extension_hooks.enter(self.integration.name, activity.artifact_id)
        extension_hooks.serve(context.sides.values(), self.integration.pk)

    # The order of docs/engine.md: (the batch has locked the source) read fresh, map, find the
    # pair; with a pair, lock the twin and update; without one, create through the batch.
    def run(self, artifact=None) -> None:
        """``artifact``: the source as the batch read it under its lock (not read again)."""
        activity = self.activity
        if artifact is None:
            artifact = self.read_source()
        else:
            self.describe(artifact)
        pair = self.pair_of(artifact.id)
        if pair is None or activity.recreate:
            Creations(self.context, [self.prepare_creation(artifact, pair)]).run()
            return
        model = mapping.to_model(self.source.lines, artifact.fields)
        twin_key = claims.lock_key(
            self.integration.pk, self.target.name, pair_side(pair, self.target.name)["artifact_id"]
        )
        with claims.locked([twin_key] if twin_key not in self.held else [], self.holder):
            # Read the pair again under the twin's lock: another worker may have written the twin
            # and committed the pair after the read above but before its lock was free, and
            # deciding on the older snapshots would take that write for a change to undo.
            pair = self.pair_of(artifact.id) or pair
            self.update(artifact, model, pair)

    def read_source(self):
        try:
            artifact = self.source.connector.read_artifact(self.activity.artifact_id)
        except ArtifactNotFound:
            raise Done("the source artifact no longer exists") from None
        self.describe(artifact)
        return artifact

    def describe(self, artifact) -> None:
        activity = self.activity
        activity.formatted_id, activity.url = artifact.formatted_id, artifact.url[:1000]
        activity.summary = str(artifact.fields.get("summary") or artifact.formatted_id)[:1000]

    def pair_of(self, artifact_id: str) -> ArtifactPair | None:
        column = f"{self.source.name.lower()}_artifact_id"
        return ArtifactPair.objects.filter(
            integration_id=self.integration.pk, **{column: artifact_id}
        ).first()

    # --- values between the sides ---------------------------------------------------------------

    def flows(self, model) -> dict[str, str]:
        flows = conflicts.normalized_flows(self.integration.field_flows, model)
        # Worklogs are copied entry by entry (time_entries()), never written as one value.
        return {
            key: flow
            for key, flow in flows.items()
            if self.context.model_types.get(key) != time_entries.TIME_ENTRIES_TYPE
        }

    def translate(self, key: str, value: Any, source: SideContext, target: SideContext) -> Any:
        """A model value of ``source`` as the same value for ``target`` (persons and relationships
        are ids of their own repository)."""
        kind = self.context.model_types.get(key, "string")
        if kind == containers.CONTAINER:
            return containers.translate(self, key, value, source, target)
        if kind in ("person", "persons"):
            reconciler = self.persons if source is self.source else extension_hooks.reconciler(source, target)
            if kind == "person":
                return reconciler.target_id(value, key)
            return sorted(filter(None, (reconciler.target_id(v, key) for v in value or [])))
        if kind in ("relationship", "relationships"):
            ids = [value] if kind == "relationship" else list(value or [])
            for linked in filter(None, ids):
                copies = self.copies_in(target, source.name, linked)
                if len(copies) > 1:
                    raise Failure(
                        "CCRRTT-17015E",
                        f"“{key}” links to {linked}, which has {len(copies)} twins in "
                        f"“{target.repository.label}” ({', '.join(sorted(copies))}) made by different "
                        "integrations, so Hub cannot tell which one to link to. Remove the link, or "
                        "delete the outdated pairs on the Activity screen's Artifact pairs tab.",
                    )
            twins = [self.twin_of(source.name, v) for v in ids if v]
            missing = [v for v, t in zip(ids, twins, strict=False) if t is None]
            if missing:
                raise Failure(
                    "CCRRTT-17014E",
                    f"“{key}” links to {', '.join(missing)}, which is not synchronized yet; "
                    "retrying until it is.",
                    transient=True,
                )
            return (twins[0] if twins else None) if kind == "relationship" else sorted(twins)
        return value

    def translated_ahead(self, model) -> None:
        """Translate the source's person values before the twin is read: the reconciler keeps what
        it found, so the look-ups in the tools (a person search) fall before that read, not into
        the window between the read and Hub's write, which a tool without optimistic concurrency
        cannot guard (issue #20: keep it as short as the tool allows)."""
        for key, kind in self.context.model_types.items():
            if kind in ("person", "persons") and key in model:
                try:
                    self.translate(key, model.get(key), self.source, self.target)
                except Exception:  # noqa: BLE001, S112 - the plan's own translation reports it
                    continue

    def copies_in(self, target: SideContext, side: str, artifact_id: str) -> set[str]:
        """The twins of ``artifact_id`` (of side ``side``) in the target's repository, made by any
        integration between the same two repositories, this one included."""
        source_repository, target_repository = self.context.sides[side].repository.pk, target.repository.pk
        copies: set[str] = set()
        pairs = Integration.objects.values_list("pk", "collection_a__repository", "collection_b__repository")
        for integration_id, a, b in pairs:
            for mine, theirs, ends in (("a", "b", (a, b)), ("b", "a", (b, a))):
                if ends == (source_repository, target_repository):
                    copies.update(
                        ArtifactPair.objects.filter(
                            integration_id=integration_id, **{f"{mine}_artifact_id": artifact_id}
                        ).values_list(f"{theirs}_artifact_id", flat=True)
                    )
        return copies

    def twin_of(self, side: str, artifact_id: str) -> str | None:
        mine, theirs = f"{side.lower()}_artifact_id", f"{other(side).lower()}_artifact_id"
        return (
            ArtifactPair.objects.filter(integration_id=self.integration.pk, **{mine: artifact_id})
            .values_list(theirs, flat=True)
            .first()
        )

    def equivalent(self, key: str, source_value: Any, target_value: Any) -> bool:
        try:
            return self.translate(key, source_value, self.source, self.target) == target_value
        except Failure:
            return False

    def fields_for(self, target: SideContext, source: SideContext, model, keys) -> dict[str, Any]:
        extension_hooks.note_source(self.persons, model)
        if source is self.source:
            self.note_people(model)
        self.written_model = model  # what a state transition extension sees as the source artifact
        translated = {key: self.translate(key, model.get(key), source, target) for key in keys}
        return mapping.to_repository(target.lines, translated, only=keys)

    def note_people(self, model) -> None:
        """Every person in a person field of the source, for the user count: a field that does not
        flow (or did not change) names its people too."""
        for key, kind in self.context.model_types.items():
            if kind == "person":
                self.persons.note(key, model.get(key))
            elif kind == "persons":
                for person_id in model.get(key) or []:
                    self.persons.note(key, person_id)

    def write(self, side: SideContext, artifact, fields: dict[str, Any]):
        """Update ``artifact`` (as read), moving its status through a transition where the tool
        requires it. Where the tool has optimistic concurrency the write holds only if the artifact
        is still at the revision read (else RevisionConflict: read afresh and try again soon)."""
        artifact_id = artifact.id
        fields = dict(fields)
        moves_itself = extension_hooks.moves_status(side)  # a transition graph or extension
        pops_status = side.capabilities.transitions_required or moves_itself
        status = fields.pop("status", None) if pops_status else None
        expected = artifact.revision if side.capabilities.optimistic_concurrency else None
        result = (
            side.connector.update_artifact(artifact_id, fields, expected_revision=expected)
            if fields
            else None
        )
        if moves_itself:
            moved = extension_hooks.move_status(
                side,
                artifact_id,
                status,
                fields,
                getattr(self, "written_model", {}),
                self.context.model_types,
                result,
            )
            result = moved or result
        elif status is not None:
            current = (result or side.connector.read_artifact(artifact_id)).fields.get("status")
            if current != status:
                steps = [t for t in side.connector.transitions(artifact_id) if t.to_status == status]
                if not steps:
                    raise Failure(
                        "CCRRTT-17003E", f"No transition leads from status {current!r} to {status!r}."
                    )
                result = side.connector.perform_transition(artifact_id, steps[0].id)
        return result

    # --- no pair yet: create the twin (see Creations for the order) ------------------------------

    def prepare_creation(self, artifact, old_pair: ArtifactPair | None) -> Creation:
        activity, integration = self.activity, self.integration
        self.describe(artifact)
        model = mapping.to_model(self.source.lines, artifact.fields)
        if not routing.passes_filters(integration.filters, model, creating=True):
            raise Done("filtered out")
        if not conflicts.flows(integration.creation_flow, self.source.name) and not activity.recreate:
            raise Done("the creation flow does not go this way")
        try:
            project = routing.target_project(
                self.context.routes,
                self.source.name,
                artifact.project,
                model,
                artifact.formatted_id,
                ignore_unmatched=integration.unmatched_routing == integration.Unmatched.IGNORE,
            )
        except routing.RouteMissing as missing:  # Container + Work Item: routed by its container
            if containers.mirroring_of(self.context) is None:
                raise
            project = containers.routed_by_container(self, artifact, model, missing)
        if project is None:
            raise Done("no route condition holds, and the integration ignores such artifacts")
        activity.target_project = project
        creation = Creation(self, artifact, model, project, old_pair)
        creation.target_type = containers.target_type(self, artifact, model)
        return creation

    def earlier_twin(self, creation: Creation):
        """The twin an earlier attempt created before it died (found by its marker), if any."""
        if not creation.earlier_attempt:
            return None
        if not self.target.capabilities.creation_marker:
            raise Failure(
                "CCRRTT-17016E",
                f"An earlier attempt to create the twin in “{self.target.collection.name}” may have "
                "succeeded, and that repository keeps no creation marker to check; Hub does not risk a "
                "duplicate. Check the repository, then delete the creation intent or pair by hand.",
            )
        intent = creation.intent
        return self.target.connector.find_by_marker(intent.target_project, intent.target_type, intent.marker)

    def twin_fields(self, creation: Creation) -> dict[str, Any]:
        """The target's fields for a new twin: every model field that flows this way."""
        model = creation.model
        creation.flowing = [
            k for k, f in self.flows(model).items() if conflicts.flows(f, self.source.name) and k in model
        ]
        values = self.step_parts.merged(model, {})  # a new twin: the flowing parts of every step
        fields = self.fields_for(self.target, self.source, values, creation.flowing)
        if self.target.capabilities.transitions_required or extension_hooks.moves_status(self.target):
            fields.pop("status", None)  # a new artifact starts where its workflow starts
        return fields

    def marker(self, creation: Creation) -> str:
        return creation.intent.marker if self.target.capabilities.creation_marker else ""

    def create_twin(self, creation: Creation) -> None:
        """Find the twin an earlier attempt created, or create it remotely; then stage the pair."""
        twin = self.earlier_twin(creation) or containers.matched_twin(self, creation)
        fields = self.twin_fields(creation)
        if twin is not None:
            self.stage(creation, self.brought_up_to_date(creation, twin), Result.ASSOCIATED)
            return
        intent = creation.intent
        twin = self.target.connector.create_artifact(
            intent.target_project, intent.target_type, fields, marker=self.marker(creation)
        )
        self.stage_created(creation, twin)

    def stage_created(self, creation: Creation, twin) -> None:
        """Stage a twin the tool has just created. What fails from here on leaves that twin in the
        tool without some of its values (its comments, its attachments): 17006E says so."""
        try:
            self.stage(creation, twin, Result.CREATED)
        except Exception as error:
            cause = classify(error, self.integration.pk)
            raise Failure(
                "CCRRTT-17006E",
                f"The twin {twin.formatted_id or twin.id} was created in “{self.target.collection.name}”, "
                f"but not all of its values could be set ({cause.code}: {cause.message}). Retry to finish "
                "it, or check the twin in the tool and correct it by hand.",
                transient=cause.transient,
            ) from error

    def brought_up_to_date(self, creation: Creation, twin):
        """The twin an earlier attempt made has the source's values of then (kept with the intent);
        both may have changed since, while the worker was dead. Compared with those values like an
        update with the pair's snapshots: a field changed on the source only is written to the twin
        (the pair recorded next makes detection skip this revision of the source); one changed on
        the twin only is brought back to the source where it flows that way, never overwritten; one
        changed on both is a conflict for the integration's strategy."""
        found = mapping.to_model(self.target.lines, twin.fields)
        model, written = creation.model, creation.intent.source_values or {}
        if self.only_hub_edited(twin):
            # Nobody but Hub has touched the twin (Redmine's journals say who did): where it differs
            # from the source, that is Hub's own unfinished create (say, killed between the create
            # in the initial status and the move to the wanted one), never a change to bring back.
            written = {}
        if not written:  # an intent of an older version, without the values: the source's win
            stale = [
                key for key in creation.flowing if not self.equivalent(key, model.get(key), found.get(key))
            ]
            if not stale:
                return twin
            values = self.step_parts.merged({**model}, found)
            fields = self.fields_for(self.target, self.source, values, stale)
            written = self.write(self.target, twin, fields) or twin
            return self.window(creation, self.target, twin, found, written, stale)
        # The twin's value counts as unchanged where it still means what was written.
        unchanged = {
            key: value for key, value in found.items() if self.equivalent(key, written.get(key), value)
        }
        plan = conflicts.plan_update(
            source=self.source.name,
            source_model=model,
            source_snapshot=written,
            target_model=found,
            target_snapshot=unchanged,
            field_flows=self.flows(model),
            strategy=self.integration.conflict_strategy,
            equivalent=self.equivalent,
            view=self.step_parts.view,
        )
        if plan.write:
            values = self.step_parts.merged({**model, **plan.write}, found)
            read = twin
            twin = (
                self.write(self.target, twin, self.fields_for(self.target, self.source, values, plan.write))
                or twin
            )
            twin = self.window(creation, self.target, read, found, twin, plan.write)
        back = {
            key: value
            for key, value in found.items()
            if key not in unchanged
            and key not in plan.write
            and conflicts.flows(self.flows(model).get(key, conflicts.NONE), self.target.name)
            and model.get(key) == written.get(key, model.get(key))
        } | plan.write_back
        if back:
            values = self.step_parts.merged({**found, **back}, model)
            fields = self.fields_for(self.source, self.target, values, list(back))
            read = creation.artifact
            written = self.write(self.source, read, fields) or read
            creation.artifact = self.window(creation, self.source, read, model, written, back)
            creation.model = mapping.to_model(self.source.lines, creation.artifact.fields)
        return twin

    def window(self, creation: Creation, side: SideContext, read, read_model: dict, written, keys):
        """The check of a write that brings a twin or its source up to date after an interrupted
        create: a change made on ``side`` between Hub's read and its write is kept as that side's
        change (another field), or put back and left open for the strategy (the same field) — in
        the snapshots ``stage`` records (``Creation.kept``, ``Creation.open``)."""
        written, opened = self.replaced_back(side, read, written, "bring_up_to_date")
        beside = self.changed_beside(side, read_model, written, set(keys) | opened)
        self.window_hit("bring_up_to_date", "other_field", written, beside)
        creation.kept.setdefault(side.name, {}).update({key: read_model.get(key) for key in beside})
        creation.open |= opened
        return written

    def only_hub_edited(self, twin) -> bool:
        if twin.editors is None:
            return False
        try:
            hub = str(self.target.connector.current_user["id"])
        except Exception:  # noqa: BLE001 - who Hub is unknown: assume someone else edited it
            return False
        return twin.editors <= {hub}

    def stage(self, creation: Creation, twin, result: str) -> None:
        """Comments and attachments of the new pair, then the pair and the completed activity for the
        batch's commit."""
        artifact, model = creation.artifact, creation.model
        pair = ArtifactPair(integration_id=self.integration.pk, integration_name=self.integration.name)
        set_side(pair, self.source.name, artifact)
        set_side(pair, self.target.name, twin)
        if self.comments_and_attachments(artifact, twin, pair):
            twin = self.after_writing(twin.id)
        sides = {
            self.source.name: (dict(model), artifact.revision),
            self.target.name: (mapping.to_model(self.target.lines, twin.fields), twin.revision),
        }
        for name, (values, revision) in sides.items():
            # a change met in the window of bringing them up to date (``window``): not synchronized
            kept = creation.kept.get(name) or {}
            values.update(kept)
            for key in creation.open:
                values.pop(key, None)
            snapshot(pair, name, values, "" if kept or creation.open else revision)
        creation.pair, creation.result = pair, result
        creation.changed = {key: {"original": None, "new": model.get(key)} for key in creation.flowing}

    # --- pair exists: update field by field ----------------------------------------------------------

    def update(self, artifact, model, pair: ArtifactPair) -> None:
        if not routing.passes_filters(self.integration.filters, model, creating=False):
            raise Done("filtered out")
        twin_id = pair_side(pair, self.target.name)["artifact_id"]
        self.activity.target_project = pair_side(pair, self.target.name)["project"]
        self.translated_ahead(model)
        try:
            twin = self.target.connector.read_artifact(twin_id)
        except ArtifactNotFound:
            raise Failure(
                "CCRRTT-50001E",
                f"The twin {pair_side(pair, self.target.name)['formatted_id'] or twin_id} in "
                f"“{self.target.collection.name}” was deleted. Recreate makes a new twin and pairs it.",
                twin_deleted=True,
            ) from None
        twin_model = mapping.to_model(self.target.lines, twin.fields)
        snapshots = self.unfinished_writes(pair, (model, artifact.revision), (twin_model, twin.revision))
        originals = dict(snapshots[0])  # what the Activity screen shows as each field's original value
        self.forget_touched(pair, artifact, twin, snapshots)
        target_snapshot = snapshots[1]
        plan = self.plan(model, twin_model, snapshots)
        writes = 0
        if plan.write:
            values = self.step_parts.merged({**model, **plan.write}, twin_model)
            fields = self.fields_for(self.target, self.source, values, plan.write)
            self.writing(pair, self.target.name, plan.write, model, twin_model, twin.revision)
            written = self.write(self.target, twin, fields) or twin
            asked = set(plan.write)
            plan, written = self.replaced_unseen(twin, written, model, plan, snapshots)
            beside = self.changed_beside(self.target, twin_model, written, asked | set(plan.write))
            self.window_hit("update", "other_field", written, beside)
            twin = written
            writes += 1
        source_kept, source_open = {}, set()  # the source's snapshot where its write-back met a change
        if plan.write_back:
            values = self.step_parts.merged({**twin_model, **plan.write_back}, model)
            fields = self.fields_for(self.source, self.target, values, plan.write_back)
            self.writing(pair, self.source.name, plan.write_back, twin_model, model, artifact.revision)
            written = self.write(self.source, artifact, fields) or artifact
            written, source_open = self.replaced_back(self.source, artifact, written, "write_back")
            source_kept = self.changed_beside(self.source, model, written, plan.write_back)
            self.window_hit("write_back", "other_field", written, source_kept)
            source_kept = {key: model.get(key) for key in source_kept}
            artifact = written
            model = mapping.to_model(self.source.lines, artifact.fields)
            writes += 1
        extra = self.comments_and_attachments(artifact, twin, pair)
        if extra:
            twin = self.after_writing(twin.id)
        writes += extra
        twin_after = mapping.to_model(self.target.lines, twin.fields)
        new_target = dict(target_snapshot)
        for key, value in twin_after.items():
            # Only what Hub wrote, or what equals the source anyway, is synchronized now. Any other
            # field keeps its snapshot value even if the read-back differs: someone may have changed
            # it between Hub's read and its write (Redmine cannot refuse a write, it has no optimistic
            # concurrency), and that change must still count as a change of the twin.
            if key in plan.write or self.equivalent(key, model.get(key), value):
                new_target[key] = value
        # A write-back that met a change of the source made after the batch read it: another field
        # keeps its synchronized value in the snapshot (so it still counts as the source's change);
        # a field the write-back replaced is open on both sides (a conflict for the next round).
        new_source = {**model, **source_kept}
        for key in source_open:
            new_source.pop(key, None)
            new_target.pop(key, None)
        source_changed = bool(source_kept or source_open)
        snapshot(pair, self.source.name, new_source, "" if source_changed else artifact.revision)
        # A twin that differs from what is synchronized now carries a change Hub did not make: its
        # revision must not pass for Hub's own write, or detection (and the batch) would skip it.
        changed_there = source_open or any(new_target.get(key) != value for key, value in twin_after.items())
        snapshot(pair, self.target.name, new_target, "" if changed_there else twin.revision)
        set_side(pair, self.source.name, artifact)
        set_side(pair, self.target.name, twin)
        pair.last_synced_at = timezone.now()
        # the newest reads of both sides, for a later activity of the batch on the twin (Batch.process)
        self.latest[self.target.name, twin.id] = twin
        self.latest[self.source.name, artifact.id] = artifact
        if not writes:
            # Nothing to write: a change Hub made itself, or one that does not flow. Keep the
            # revisions so detection skips it next time; no activity to show.
            pair.save()
            raise Done("nothing changed that flows to the other side")
        changed = {
            key: {"original": originals.get(key), "new": value}
            for key, value in {**plan.write, **plan.write_back}.items()
        }
        with transaction.atomic():
            pair.save()
            completed(self.activity, Result.UPDATED, changed)
            save_held(self.activity)
            counters.record([(self, False)])

    def writing(self, pair: ArtifactPair, side: str, keys, propagated: dict, read: dict, revision) -> None:
        """Commit, before Hub writes ``keys`` to ``side``, that it is about to: the value each one
        takes from the other side (``propagated``), the value it has there now (``read``) and that
        side's revision. The pair's save after the write drops it; where that save never comes (the
        worker killed, the activity failed after the write), the next processing of the pair reads
        it (``unfinished_writes``) instead of taking the old snapshot for that side's state."""
        column = f"{side.lower()}_snapshot"
        stored = dict(getattr(pair, column) or {})
        entries = dict(stored.get(WRITING) or {})
        for key in keys:
            entries[key] = {"from": propagated.get(key), "was": read.get(key), "revision": revision}
        stored[WRITING] = entries
        setattr(pair, column, stored)
        ArtifactPair.objects.filter(pk=pair.pk).update(**{column: stored})

    def unfinished_writes(self, pair: ArtifactPair, source: tuple, target: tuple) -> tuple[dict, dict]:
        """The pair's snapshots (source's, target's) as Hub's unfinished writes left the sides.
        ``source`` and ``target``: each side's model values and revision as read now.

        A write Hub began and never recorded (``writing``) may have landed or not, and the side may
        have been changed since by someone else. The old snapshot would take a landed write for that
        side's own change and, worse, a user's later change back to the old value for no change at
        all: the other side's value, which Hub had already written, then overwrote it on both sides
        (issue #20, the bounded acceptance run's "A#10 and B#17 both hold priority 1, the last write
        was 2"). Per field written:
        - it holds the value written: the write landed; both sides are synchronized at that value;
        - it holds the value read, at the revision read: the write never landed; the snapshot holds;
        - anything else (changed since, perhaps back to the old value): a change of that side, so
          where the other side changed too it is a conflict for the strategy, never a silent loss."""
        snapshots = {self.source.name: snapshot_of(pair, self.source.name)}
        snapshots[self.target.name] = snapshot_of(pair, self.target.name)
        now = {self.source.name: source, self.target.name: target}
        for side in (self.source.name, self.target.name):
            entries = (getattr(pair, f"{side.lower()}_snapshot") or {}).get(WRITING) or {}
            values, revision = now[side]
            for key, entry in entries.items():
                mine, theirs = snapshots[side], snapshots[other(side)]
                value = values.get(key)
                if side == self.target.name:
                    landed = self.equivalent(key, entry["from"], value)
                else:
                    landed = self.equivalent(key, value, entry["from"])
                if landed:
                    mine[key], theirs[key] = value, entry["from"]
                elif value == entry["was"] and revision == entry["revision"]:
                    continue
                else:
                    mine.pop(key, None)  # no snapshot value: changed on that side
        return snapshots[self.source.name], snapshots[self.target.name]

    def forget_touched(self, pair: ArtifactPair, artifact, twin, snapshots: tuple[dict, dict]) -> None:
        """Drop from a side's snapshot each field someone changed there since the pair's last
        synchronization, by the tool's history (``Connector.touched_since``), later than the other
        side's own last change of it: a field changed and changed back by a user is a change of that
        side, which values alone do not show. Otherwise the other side's earlier change of it would
        overwrite the user's later write (issue #20, the long acceptance run: priority 2 → 1 → 2 on
        A after 2 → 3 on B; Hub wrote 3 to A). No snapshot value means changed on that side: where
        the other side changed it too, a conflict for the strategy.

        "Later" by the tools' clocks: the other side's history of the field where it keeps one,
        else its last change of anything; within ``TOUCH_GRAIN`` counts as at once (Redmine dates to
        the second), so a conflict. A touch clearly older than the other side's change (a change and
        undo Hub already found as synchronized) is no rival to that change: it flows."""
        sides = (self.source, artifact), (self.target, twin)
        touched = [self.touch_times(pair, side, found) for side, found in sides]
        for n, snapshot in enumerate(snapshots):
            mine, theirs, rival_artifact = touched[n], touched[1 - n], sides[1 - n][1]
            for key, when in (mine or {}).items():
                rival = theirs.get(key) if theirs is not None else rival_artifact.updated
                if rival is None or when is None or when + TOUCH_GRAIN > rival:
                    snapshot.pop(key, None)

    def touch_times(self, pair: ArtifactPair, side, found) -> dict[str, Any] | None:
        """Model key → when someone other than Hub last changed it on ``side`` since the pair's
        snapshot of that side (None: the tool keeps no history)."""
        revision = (getattr(pair, f"{side.name.lower()}_snapshot") or {}).get(REVISION)
        fields = side.connector.touched_since(found, revision) if revision else None
        if fields is None:
            return None
        times: dict[str, Any] = {}
        for line in side.lines:
            hits = [fields[f] for f in line.repository_fields if f in fields]
            if not line.reads or not hits:
                continue
            when = None if None in hits else max(hits)
            for key in line.model_fields:
                times[key] = when
        return times

    def plan(self, model: dict, twin_model: dict, snapshots: tuple[dict, dict]) -> conflicts.Plan:
        """What to write each way, the conflicts decided recorded on the activity (CCRRTT-50002E
        where the strategy decides none)."""
        strategy = self.integration.conflict_strategy
        try:
            plan = conflicts.plan_update(
                source=self.source.name,
                source_model=model,
                source_snapshot=snapshots[0],
                target_model=twin_model,
                target_snapshot=snapshots[1],
                field_flows=self.flows(model),
                strategy=strategy,
                equivalent=self.equivalent,
                view=self.step_parts.view,
            )
        except conflicts.ConflictFailed as failed:
            undecided = {key: (mine, theirs, "") for key, (mine, theirs) in failed.conflicts.items()}
            conflicts.record(self.activity, self.source.name, strategy, undecided)
            raise containers.conflict_of(failed, self.context.model_types, self.source.name) from None
        conflicts.record(self.activity, self.source.name, strategy, plan.decided)
        return plan

    def replaced_unseen(self, read, written, model: dict, plan: conflicts.Plan, snapshots):
        """Where the tool has no optimistic concurrency (Redmine), someone may change the twin
        between Hub's read and Hub's write, and the write replaces that change unseen. Where the
        tool says what the write replaced (``Artifact.replaced``) and it is not what Hub read, plan
        again as if the read had seen it: a conflict for the strategy — the twin's value put back
        where the twin wins (and brought to the source by the write-back), or where no side wins
        (CCRRTT-50002E) — never a silent loss (issue #20: a title set on the twin a second before
        Hub wrote the other side's title over it). Returns the plan that holds and the twin now."""
        if written.revision == read.revision:  # the write changed nothing: no journal of its own
            return plan, written
        unseen = {
            field_id: value
            for field_id, value in (written.replaced or {}).items()
            if value != read.fields.get(field_id)
        }
        if not unseen:
            return plan, written
        was = mapping.to_model(self.target.lines, {**read.fields, **unseen})
        again = None
        try:
            again = self.plan(model, was, snapshots)
        finally:
            keep = again.write if again is not None else {}
            back = [
                key
                for key in plan.write
                if key not in keep and not self.equivalent(key, model.get(key), was.get(key))
            ]
            if back:
                fields = mapping.to_repository(self.target.lines, was, only=back)
                written = self.write(self.target, written, fields) or written
        self.window_hit("update", "same_field", written, unseen)
        return again, written

    def window_hit(self, path: str, kind: str, artifact, keys) -> None:
        """Count (metric ``hub_write_window_changes_total``) and log a fresh change Hub found made in
        the window between its read of ``artifact`` and its write to it (issue #20: "measure how
        often it is hit"). ``kind``: ``same_field`` (Hub's write replaced it) or ``other_field``."""
        if not keys:
            return
        prometheus.WRITE_WINDOW_CHANGES.labels(str(self.integration.pk), path, kind).inc()
        logger.info(
            "%s: write window hit (%s, %s): %s changed after Hub read it (%s); %s",
            self.activity,
            path,
            kind,
            artifact.formatted_id or artifact.id,
            ", ".join(sorted(keys)),
            "decided as a conflict" if kind == "same_field" else "kept as that side's change",
        )

    def changed_beside(self, side: SideContext, read_model: dict, written, keys) -> set[str]:
        """The model fields Hub did not write (``keys``) whose value changed between Hub's read
        (``read_model``) and its read-back ``written``: someone else's change in the window, which
        must stay a change of that side, never enter the snapshot as synchronized."""
        after = mapping.to_model(side.lines, written.fields)
        return {key for key, value in after.items() if key not in keys and value != read_model.get(key)}

    def replaced_back(self, side: SideContext, read, written, path: str):
        """A write that brings values *back* (a conflict's write-back to the source, or the source
        or twin brought up to date after an interrupted create) replaced a change made on that side
        after Hub read it, where the tool says so (``Artifact.replaced``: Redmine's journal of the
        write). Both sides have then changed the field: a conflict, recorded on the activity. Where
        the strategy lets the value Hub wrote win, the write stands; otherwise (that side wins, or
        none does) the value is put back and the field left open on both sides (no snapshot value),
        so the next round decides it by the strategy — never a silent overwrite. Returns the
        artifact now and the model fields left open."""
        if written.revision == read.revision:
            return written, set()
        unseen = {
            field_id: value
            for field_id, value in (written.replaced or {}).items()
            if value != read.fields.get(field_id)
        }
        if not unseen:
            return written, set()
        was = mapping.to_model(side.lines, {**read.fields, **unseen})
        now = mapping.to_model(side.lines, written.fields)
        keys = [key for key, value in was.items() if value != now.get(key)]
        strategy = self.integration.conflict_strategy
        winner = {"a_wins": "A", "b_wins": "B"}.get(strategy, "")
        stands = winner == other(side.name)  # the side whose value Hub wrote wins anyway
        decided = {}
        for key in keys:
            theirs, written_value = was.get(key), now.get(key)
            pair_of_values = (theirs, written_value) if side is self.source else (written_value, theirs)
            decided[key] = (*pair_of_values, winner if stands else "")
        if keys:
            before = list(self.activity.conflicts or [])
            conflicts.record(self.activity, self.source.name, strategy, decided)
            self.activity.conflicts = before + list(self.activity.conflicts)
        opened = set()
        if keys and not stands:
            fields = mapping.to_repository(side.lines, was, only=keys)
            written = self.write(side, written, fields) or written
            opened = set(keys)
        self.window_hit(path, "same_field", written, unseen)
        return written, opened

    def after_writing(self, twin_id: str):
        """The twin after Hub wrote its comments, attachments or worklogs: the connector's own read
        right after its last write where it has one (Redmine's note read), else a read."""
        connector = self.target.connector
        return connector.read_after_write(twin_id) or connector.read_artifact(twin_id)

    # --- comments and attachments -----------------------------------------------------------------

    def direction(self) -> str:
        return "a_to_b" if self.source.name == "A" else "b_to_a"

    def comments_and_attachments(self, artifact, twin, pair: ArtifactPair) -> int:
        return (
            self.comments(artifact, twin, pair)
            + self.attachments(artifact, twin.id, pair)
            + self.time_entries(artifact, twin, pair)
        )

    def time_entries(self, artifact, twin, pair: ArtifactPair) -> int:
        """The Time Tracking style's worklogs, each copied once (``integrations.engine.time_entries``)."""
        if self.integration.style != Integration.Style.TIME_TRACKING:
            return 0
        key = time_entries.time_entries_key(self.context.model_types)
        if key is None:
            return 0
        return time_entries.TimeEntryCopier(self, key).copy(artifact.id, twin.id, pair)

    def comments(self, artifact, twin, pair: ArtifactPair) -> int:
        """Copy the source's new comments to the twin, each once. Where the target keeps Hub's
        comment marker, each copy names the comment it copies: a copy an earlier attempt wrote (its
        worker killed before the comment map was committed with the pair) is found on the twin and
        mapped instead of written again, and a copy Hub made on the source is mapped, not copied
        back (issue #20, comments exactly once)."""
        flow = (self.integration.comment_flow or {}).get(self.direction()) or {}
        if not flow.get("enabled") or not self.target.capabilities.comments:
            return 0
        comment_map = pair.comment_map = dict(pair.comment_map or {})
        for comment in artifact.comments or []:
            copied, own = copy_of(self.integration, comment), f"{self.source.name}:{comment.id}"
            if copied.startswith(f"{self.target.name}:") and own not in comment_map:
                comment_map[own] = copied
                comment_map.setdefault(copied, own)
        there: dict[str, list[str]] = {}
        for comment in twin.comments or []:
            if copied := copy_of(self.integration, comment):
                there.setdefault(copied, []).append(f"{self.target.name}:{comment.id}")
        written = 0
        for comment in artifact.comments or []:
            key = f"{self.source.name}:{comment.id}"
            if key in comment_map:
                continue  # copied before, or a copy Hub made of a comment from the other side
            if there.get(key):  # written by an attempt that died before the map was committed
                comment_map[key] = there[key][0]
                comment_map.update(dict.fromkeys(there[key], key))
                continue
            private = comment.private
            if private:
                internal = flow.get("internal", "skip")
                if internal == "skip" or internal == "keep" and not self.target.capabilities.private_comments:
                    continue
                private = internal == "keep"
            copies = extension_hooks.comment_copies(
                self.source, self.target, comment, private, artifact.fields
            )
            comment_map[key] = ""  # left out by a comment extension: not looked at again
            for body, private_copy in copies:  # one, or what comment extensions made of it
                if self.target.capabilities.comment_marker:
                    body = with_comment_marker(body, f"{self.integration.pk}/{key}")
                copy = self.add_authored_comment(twin.id, comment, body, private_copy)
                comment_map[key] = comment_map[key] or f"{self.target.name}:{copy.id}"
                comment_map[f"{self.target.name}:{copy.id}"] = key
                written += 1
        return written

    def add_authored_comment(self, twin_id: str, comment, body: str, private: bool):
        """Write a copy of ``comment`` that names its original author: in the target's own author
        field when the target lets Hub set one and has that person, else as a first line."""
        author = comment.author and self.persons.target_id(comment.author, "comments")
        if author and self.target.capabilities.comment_author:
            return self.target.connector.add_comment(twin_id, body, private=private, author=author)
        name = author_name(self.persons, comment.author)
        if name:
            body = f"{name} wrote:\n\n{body}"
        return self.target.connector.add_comment(twin_id, body, private=private)

    def attachment_author(self, attachment) -> dict:
        """How the copy of ``attachment`` names who attached it, as the target allows: that person
        as its uploader where the tool lets Hub set one and the person reconciliation finds them,
        else a description "Attached by <name>" where the tool keeps one; else nothing (the file
        has no first line to name them in)."""
        if not attachment.author:
            return {}
        author = self.persons.target_id(attachment.author, "attachments")
        if author and self.target.capabilities.attachment_author:
            return {"author": author}
        name = author_name(self.persons, attachment.author)
        if name and self.target.capabilities.attachment_description:
            return {"description": f"Attached by {name}"}
        return {}

    def attachments(self, artifact, twin_id: str, pair: ArtifactPair) -> int:
        flow = (self.integration.attachment_flow or {}).get(self.direction()) or {}
        if not flow.get("enabled") or not self.target.capabilities.attachments:
            return 0
        limit = int(flow.get("max_size_mb") or 10) * 1024 * 1024
        attachment_map = pair.attachment_map = dict(pair.attachment_map or {})
        written, refused = 0, []
        for attachment in artifact.attachments or []:
            key = f"{self.source.name}:{attachment.id}"
            if key in attachment_map:
                continue
            if attachment.size > limit:
                refused.append(attachment.filename)
                continue
            content = self.source.connector.download_attachment(artifact.id, attachment.id, max_bytes=limit)
            copy = self.target.connector.upload_attachment(
                twin_id,
                attachment.filename,
                content,
                content_type=attachment.content_type,
                max_bytes=limit,
                **self.attachment_author(attachment),
            )
            attachment_map[key] = f"{self.target.name}:{copy.id}"
            attachment_map[f"{self.target.name}:{copy.id}"] = key
            written += 1
        if refused:
            pair.save() if pair.pk else None
            raise Failure(
                "CCRRTT-17003E",
                f"Larger than the {limit // (1024 * 1024)} MB attachment limit of this flow: "
                f"{', '.join(refused)}.",
            )
        return written


COMPLETION_FIELDS = [
    "status",
    "result",
    "changed_fields",
    "code",
    "message",
    "next_retry_at",
    "twin_deleted",
    "recreate",
    "claimed_at",
    "formatted_id",
    "url",
    "summary",
    "target_project",
    "updated",
]


def save_completed(activities: list[ArtifactActivity]) -> None:
    """Save the completion of a batch's activities: one prepared UPDATE run for each row.
    (``bulk_update`` builds a CASE expression per field and row, which costs far more time in Python
    than the database spends on the rows.) Only a row its worker still holds: one released meanwhile
    (its worker's heartbeat timed out, say after a network cut) is back in the queue or another
    worker's, and its retry finds the pair committed with this and ends as an echo."""
    meta = ArtifactActivity._meta
    fields = [meta.get_field(name) for name in COMPLETION_FIELDS]
    quote = connection.ops.quote_name
    # Names from the model's own metadata, quoted; every value is a parameter.
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    held = f"{quote(meta.pk.column)} = %s AND {quote('status')} = %s AND {quote('claimed_by')} = %s"
    statement = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {held}"  # noqa: S608
    rows = [
        [f.get_db_prep_save(getattr(activity, f.attname), connection) for f in fields]
        + [activity.pk, Status.PROCESSING.value, activity.claimed_by]
        for activity in activities
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_batch

            # All statements in one round trip; executemany would make one round trip per row.
            execute_batch(cursor.cursor, statement, rows, page_size=len(rows))
        else:
            cursor.executemany(statement, rows)


def held(activity: ArtifactActivity):
    """The row of ``activity`` as long as the worker that claimed it still holds it (any row of it
    where it was never claimed)."""
    rows = ArtifactActivity.objects.filter(pk=activity.pk)
    if activity.claimed_by:
        rows = rows.filter(status=Status.PROCESSING, claimed_by=activity.claimed_by)
    return rows


def save_held(activity: ArtifactActivity) -> bool:
    """Save every field of ``activity`` only where its worker still holds the row, as
    ``save_completed`` does for a batch: a claim released meanwhile (the worker's heartbeat timed
    out) is back in the queue or another worker's, and this save must not complete it under them.
    Whether it was saved."""
    activity.updated = timezone.now()
    meta = ArtifactActivity._meta
    values = {f.attname: getattr(activity, f.attname) for f in meta.concrete_fields if not f.primary_key}
    held = ArtifactActivity.objects.filter(
        pk=activity.pk, status=Status.PROCESSING, claimed_by=activity.claimed_by
    )
    return bool(held.update(**values))


def completed(activity: ArtifactActivity, result: str, changed: dict) -> None:
    """Mark ``activity`` completed (the caller saves it, inside the transaction that records the
    pair and the counters)."""
    activity.status, activity.result = Status.COMPLETED, result
    activity.changed_fields = kept_values(changed)
    activity.code = activity.message = ""
    activity.next_retry_at = None
    activity.twin_deleted = activity.recreate = False
    activity.claimed_at = None  # claimed_by stays: which worker did it


def kept_values(changed: dict) -> dict:
    """What a completed activity keeps of its changed fields: for each, ``[new]`` where there was
    no original (a created twin) and ``[original, new]`` otherwise (``ArtifactActivity.kept_change``).
    The Activity screen shows an absent original as it shows an empty one; the ledger keeps 100,000
    of these rows (issue #19: bytes per pair)."""
    return {
        key: ArtifactActivity.kept_change(values.get("original"), values.get("new"))
        for key, values in changed.items()
    }


def author_name(persons, person_id: str) -> str:
    """How a comment's author (or a file's uploader) is named in its copy: display name, else
    username, else id; "" for none. The reconciler has read the person (target_id) and remembers it."""
    if not person_id:
        return ""
    person = getattr(persons, "seen", {}).get(person_id)
    if person is None:
        return person_id
    return person.display_name or person.username or person.id


def pair_side(pair: ArtifactPair, side: str) -> dict:
    return pair.side(side)


def set_side(pair: ArtifactPair, side: str, artifact) -> None:
    prefix = side.lower()
    setattr(pair, f"{prefix}_artifact_id", artifact.id)
    setattr(pair, f"{prefix}_formatted_id", artifact.formatted_id or "")
    setattr(pair, f"{prefix}_summary", str(artifact.fields.get("summary") or "")[:1000])
    setattr(pair, f"{prefix}_url", (artifact.url or "")[:1000])
    setattr(pair, f"{prefix}_project", artifact.project or "")


def snapshot_of(pair: ArtifactPair, side: str) -> dict:
    values = dict(getattr(pair, f"{side.lower()}_snapshot") or {})
    values.pop(REVISION, None)
    values.pop(WRITING, None)
    return values


def snapshot(pair: ArtifactPair, side: str, model: dict, revision: str) -> None:
    setattr(pair, f"{side.lower()}_snapshot", {**model, REVISION: revision})


__all__ = ["Failure", "OperationUnsupported", "process_batch"]
