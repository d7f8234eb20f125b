"""Processing of claimed activities: one artifact, read fresh, mapped through the model, written to
its twin (created, or updated field by field), then the pair's snapshot, the completed activity and
the counters committed in one transaction. See docs/engine.md for the order and the reasons.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair
from connectors.errors import ArtifactNotFound, ConnectorError, OperationUnsupported
from integrations.engine import claims, conflicts, counters, mapping, retry, routing
from integrations.engine.context import REVISION, IntegrationContext, SideContext, may_work, other
from integrations.engine.persons import Reconciler
from integrations.models import CreationIntent, Integration

logger = logging.getLogger("hub.engine")
Status = ArtifactActivity.Status
Result = ArtifactActivity.Result
SOON = dt.timedelta(seconds=5)
UNEXPECTED = "CCRRTT-0001E"


class Failure(Exception):
    """A classified failure: catalog code, message, and whether trying again later may succeed."""

    def __init__(self, code: str, message: str, *, transient: bool = False, soon: bool = False, **flags):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.transient, self.soon = code, message, transient, soon
        self.twin_deleted = flags.get("twin_deleted", False)
        self.server_wait = flags.get("server_wait")


class Done(Exception):
    """Nothing (more) to do for this activity: out of scope, or nothing changed."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- the batch ---------------------------------------------------------------------------------


def runnable_integrations() -> list[int]:
    ids = []
    for integration in Integration.objects.filter(running=True).select_related(
        "collection_a", "collection_b"
    ):
        if may_work(integration)[0]:
            ids.append(integration.pk)
    return ids


def process_batch(limit: int = 50, worker: str | None = None) -> int:
    """Claim up to ``limit`` due activities and process them; returns how many were claimed."""
    from hub.gates import integration_work_allowed

    if not integration_work_allowed()[0]:
        return 0
    worker = worker or worker_name()
    claims.release_stale()
    activities = claims.claim(worker, runnable_integrations(), limit)
    contexts: dict[int, IntegrationContext] = {}
    try:
        for activity in activities:
            if activity.integration_id not in contexts:
                contexts[activity.integration_id] = IntegrationContext.load(activity.integration_id)
            process(contexts[activity.integration_id], activity, worker)
    finally:
        for context in contexts.values():
            context.close()
    return len(activities)


def process(context: IntegrationContext, activity: ArtifactActivity, worker: str) -> None:
    holder = f"{worker}:{activity.pk}"
    try:
        Processor(context, activity, holder).run()
    except Done as done:
        ArtifactActivity.objects.filter(pk=activity.pk).delete()  # nothing happened: no row to show
        if done.message:
            logger.debug("%s: %s", activity, done.message)
    except claims.Busy as busy:
        fail(activity, Failure(busy.code, str(busy), transient=True, soon=True))
    except Failure as failure:
        fail(activity, failure)
    except conflicts.ConflictFailed as conflict:
        fail(activity, Failure(conflict.code, str(conflict)))
    except (mapping.MappingFailed, routing.RoutingFailed) as problem:
        fail(activity, Failure(problem.code, str(problem)))
    except ConnectorError as error:
        fail(
            activity,
            Failure(
                error.code,
                error.message,
                transient=error.transient,
                server_wait=getattr(error, "retry_after", None),
            ),
        )
    except Exception as error:  # a bug or an unexpected answer: visible, and retried on the schedule
        logger.exception("Processing %s failed unexpectedly", activity)
        fail(activity, Failure(UNEXPECTED, f"{type(error).__name__}: {error}"))
    else:
        Integration.objects.filter(pk=activity.integration_id).update(last_artifact_processed=timezone.now())


def fail(activity: ArtifactActivity, failure: Failure) -> None:
    now = timezone.now()
    activity.status = Status.FAILED
    activity.code, activity.message = failure.code, failure.message
    activity.retry_count += 1
    activity.last_error_at = now
    activity.twin_deleted = failure.twin_deleted
    activity.recreate = False
    activity.next_retry_at = (
        now + SOON
        if failure.soon
        else retry.next_retry(now, activity.retry_count, server_wait=failure.server_wait)
    )
    activity.claimed_by, activity.claimed_at = "", None
    key = ArtifactActivity.make_waiting_key(
        activity.integration_id, activity.source_side, activity.artifact_id
    )
    with transaction.atomic():
        # A change detected meanwhile made a pending row; this one reads fresh on retry, so it
        # carries that change too.
        ArtifactActivity.objects.filter(waiting_key=key).exclude(pk=activity.pk).delete()
        activity.save()


# --- one activity -------------------------------------------------------------------------------


@dataclass
class Outcome:
    result: str
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: int = 0


class Processor:
    def __init__(self, context: IntegrationContext, activity: ArtifactActivity, holder: str):
        self.context, self.activity, self.holder = context, activity, holder
        self.integration = context.integration
        self.source: SideContext = context.sides[activity.source_side]
        self.target: SideContext = context.sides[other(activity.source_side)]
        self.persons = Reconciler(self.source.connector, self.target.connector)

    # The order of docs/engine.md: lock, read fresh, map, filter and route, then create or update.
    def run(self) -> None:
        activity = self.activity
        keys = [claims.lock_key(self.integration.pk, self.source.name, activity.artifact_id)]
        with claims.locked(keys, self.holder):
            try:
                artifact = self.source.connector.read_artifact(activity.artifact_id)
            except ArtifactNotFound:
                raise Done("the source artifact no longer exists") from None
            activity.formatted_id, activity.url = artifact.formatted_id, artifact.url[:1000]
            activity.summary = str(artifact.fields.get("summary") or artifact.formatted_id)[:1000]
            model = mapping.to_model(self.source.lines, artifact.fields)
            pair = self.pair_of(artifact.id)
            if pair is not None and not activity.recreate:
                twin_key = claims.lock_key(
                    self.integration.pk, self.target.name, pair_side(pair, self.target.name)["artifact_id"]
                )
                with claims.locked([twin_key], self.holder):
                    self.update(artifact, model, pair)
            else:
                self.create(artifact, model, pair)

    def pair_of(self, artifact_id: str) -> ArtifactPair | None:
        column = f"{self.source.name.lower()}_artifact_id"
        return ArtifactPair.objects.filter(
            integration_id=self.integration.pk, **{column: artifact_id}
        ).first()

    # --- values between the sides ---------------------------------------------------------------

    def flows(self, model) -> dict[str, str]:
        return conflicts.normalized_flows(self.integration.field_flows, model)

    def translate(self, key: str, value: Any, source: SideContext, target: SideContext) -> Any:
        """A model value of ``source`` as the same value for ``target`` (persons and relationships
        are ids of their own repository)."""
        kind = self.context.model_types.get(key, "string")
        if kind in ("person", "persons"):
            reconciler = (
                self.persons if source is self.source else Reconciler(source.connector, target.connector)
            )
            if kind == "person":
                return reconciler.target_id(value, key)
            return sorted(filter(None, (reconciler.target_id(v, key) for v in value or [])))
        if kind in ("relationship", "relationships"):
            ids = [value] if kind == "relationship" else list(value or [])
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
        translated = {key: self.translate(key, model.get(key), source, target) for key in keys}
        return mapping.to_repository(target.lines, translated, only=keys)

    def write(self, side: SideContext, artifact_id: str, fields: dict[str, Any]):
        """Update the artifact, moving its status through a transition where the tool requires it."""
        fields = dict(fields)
        status = fields.pop("status", None) if side.capabilities.transitions_required else None
        result = side.connector.update_artifact(artifact_id, fields) if fields else None
        if status is not None:
            current = (result or side.connector.read_artifact(artifact_id)).fields.get("status")
            if current != status:
                steps = [t for t in side.connector.transitions(artifact_id) if t.to_status == status]
                if not steps:
                    raise Failure(
                        "CCRRTT-17003E", f"No transition leads from status {current!r} to {status!r}."
                    )
                result = side.connector.perform_transition(artifact_id, steps[0].id)
        return result

    # --- no pair yet: create the twin -------------------------------------------------------------

    def create(self, artifact, model, old_pair: ArtifactPair | None) -> None:
        activity, integration = self.activity, self.integration
        if not routing.passes_filters(integration.filters, model, creating=True):
            raise Done("filtered out")
        if not conflicts.flows(integration.creation_flow, self.source.name) and not activity.recreate:
            raise Done("the creation flow does not go this way")
        project = routing.target_project(
            self.context.routes,
            self.source.name,
            artifact.project,
            model,
            artifact.formatted_id,
            ignore_unmatched=integration.unmatched_routing == integration.Unmatched.IGNORE,
        )
        if project is None:
            raise Done("no route condition holds, and the integration ignores such artifacts")
        activity.target_project = project
        if CreationIntent.objects.filter(
            integration=integration,
            source_side=self.target.name,
            target_project=artifact.project,
            created__gte=timezone.now() - claims.STALE,  # an abandoned intent blocks nothing for ever
        ).exists():
            # Hub may be creating this very artifact as the twin of one on the other side.
            raise Failure(
                "CCRRTT-50013W",
                "Waiting for other artifact creations of this integration to finish.",
                soon=True,
            )
        intent, new = CreationIntent.objects.get_or_create(
            integration=integration,
            source_side=self.source.name,
            source_artifact_id=artifact.id,
            defaults={
                "target_project": project,
                "target_type": self.target.artifact_type,
                "marker": f"hub-{uuid.uuid4().hex}",
            },
        )
        twin, result = None, Result.CREATED
        if not new:  # an earlier attempt may have created the twin before it died
            if not self.target.capabilities.creation_marker:
                raise Failure(
                    "CCRRTT-17016E",
                    f"An earlier attempt to create the twin in “{self.target.collection.name}” may have "
                    "succeeded, and that repository keeps no creation marker to check; Hub does not risk a "
                    "duplicate. Check the repository, then delete the creation intent or pair by hand.",
                )
            twin = self.target.connector.find_by_marker(
                intent.target_project, intent.target_type, intent.marker
            )
            result = Result.ASSOCIATED if twin is not None else Result.CREATED
        flowing = [
            k for k, f in self.flows(model).items() if conflicts.flows(f, self.source.name) and k in model
        ]
        if twin is None:
            fields = self.fields_for(self.target, self.source, model, flowing)
            marker = intent.marker if self.target.capabilities.creation_marker else ""
            twin = self.target.connector.create_artifact(
                intent.target_project, intent.target_type, fields, marker=marker
            )
        pair = ArtifactPair(integration_id=integration.pk, integration_name=integration.name)
        set_side(pair, self.source.name, artifact)
        set_side(pair, self.target.name, twin)
        writes = self.comments_and_attachments(artifact, twin.id, pair)
        if writes:
            twin = self.target.connector.read_artifact(twin.id)
        snapshot(pair, self.source.name, model, artifact.revision)
        snapshot(pair, self.target.name, mapping.to_model(self.target.lines, twin.fields), twin.revision)
        changed = {key: {"original": None, "new": model.get(key)} for key in flowing}
        with transaction.atomic():
            if old_pair is not None:
                old_pair.delete()
            ArtifactPair.objects.filter(
                integration_id=integration.pk, **{f"{self.target.name.lower()}_artifact_id": twin.id}
            ).delete()
            pair.last_synced_at = timezone.now()
            pair.save()
            intent.delete()
            self.complete(result, changed, created=result == Result.CREATED)

    # --- pair exists: update field by field ----------------------------------------------------------

    def update(self, artifact, model, pair: ArtifactPair) -> None:
        if not routing.passes_filters(self.integration.filters, model, creating=False):
            raise Done("filtered out")
        twin_id = pair_side(pair, self.target.name)["artifact_id"]
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
        source_snapshot = snapshot_of(pair, self.source.name)
        target_snapshot = snapshot_of(pair, self.target.name)
        plan = conflicts.plan_update(
            source=self.source.name,
            source_model=model,
            source_snapshot=source_snapshot,
            target_model=twin_model,
            target_snapshot=target_snapshot,
            field_flows=self.flows(model),
            strategy=self.integration.conflict_strategy,
            equivalent=self.equivalent,
        )
        writes = 0
        if plan.write:
            twin = (
                self.write(self.target, twin.id, self.fields_for(self.target, self.source, model, plan.write))
                or twin
            )
            writes += 1
        if plan.write_back:
            fields = self.fields_for(self.source, self.target, twin_model, plan.write_back)
            artifact = self.write(self.source, artifact.id, fields) or artifact
            model = mapping.to_model(self.source.lines, artifact.fields)
            writes += 1
        extra = self.comments_and_attachments(artifact, twin.id, pair)
        if extra:
            twin = self.target.connector.read_artifact(twin.id)
        writes += extra
        twin_after = mapping.to_model(self.target.lines, twin.fields)
        new_target = dict(target_snapshot)
        for key, value in twin_after.items():
            unchanged_there = twin_model.get(key) == target_snapshot.get(key, object())
            if key in plan.write or unchanged_there or self.equivalent(key, model.get(key), value):
                new_target[key] = value
        snapshot(pair, self.source.name, model, artifact.revision)
        snapshot(pair, self.target.name, new_target, twin.revision)
        set_side(pair, self.source.name, artifact)
        set_side(pair, self.target.name, twin)
        pair.last_synced_at = timezone.now()
        if not writes:
            # Nothing to write: a change Hub made itself, or one that does not flow. Keep the
            # revisions so detection skips it next time; no activity to show.
            pair.save()
            raise Done("nothing changed that flows to the other side")
        changed = {
            key: {"original": source_snapshot.get(key), "new": value}
            for key, value in {**plan.write, **plan.write_back}.items()
        }
        with transaction.atomic():
            pair.save()
            self.complete(Result.UPDATED, changed, created=False)

    # --- comments and attachments -----------------------------------------------------------------

    def direction(self) -> str:
        return "a_to_b" if self.source.name == "A" else "b_to_a"

    def comments_and_attachments(self, artifact, twin_id: str, pair: ArtifactPair) -> int:
        return self.comments(artifact, twin_id, pair) + self.attachments(artifact, twin_id, pair)

    def comments(self, artifact, twin_id: str, pair: ArtifactPair) -> int:
        flow = (self.integration.comment_flow or {}).get(self.direction()) or {}
        if not flow.get("enabled") or not self.target.capabilities.comments:
            return 0
        comment_map = pair.comment_map = dict(pair.comment_map or {})
        written = 0
        for comment in artifact.comments or []:
            key = f"{self.source.name}:{comment.id}"
            if key in comment_map:
                continue  # copied before, or a copy Hub made of a comment from the other side
            private = comment.private
            if private:
                internal = flow.get("internal", "skip")
                if internal == "skip" or internal == "keep" and not self.target.capabilities.private_comments:
                    continue
                private = internal == "keep"
            copy = self.target.connector.add_comment(twin_id, comment.body, private=private)
            comment_map[key] = f"{self.target.name}:{copy.id}"
            comment_map[f"{self.target.name}:{copy.id}"] = key
            written += 1
        return written

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
                twin_id, attachment.filename, content, content_type=attachment.content_type, max_bytes=limit
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

    # --- the commit -------------------------------------------------------------------------------------

    def complete(self, result: str, changed: dict, *, created: bool) -> None:
        """Inside the caller's transaction: the completed activity, counters and person sightings."""
        activity = self.activity
        activity.status, activity.result = Status.COMPLETED, result
        activity.changed_fields = changed
        activity.code = activity.message = ""
        activity.next_retry_at = None
        activity.twin_deleted = activity.recreate = False
        activity.claimed_at = None  # claimed_by stays: which worker did it
        activity.save()
        counters.record(self, created=created)


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
    return values


def snapshot(pair: ArtifactPair, side: str, model: dict, revision: str) -> None:
    setattr(pair, f"{side.lower()}_snapshot", {**model, REVISION: revision})


__all__ = ["Failure", "OperationUnsupported", "process_batch"]
