"""Preview: what Run would do, worked out without writing anything anywhere.

For an integration that is not running, each side's projects are listed as a first change
detection would list them (up to ``limit`` artifacts a side), each artifact is read and put
through the same steps as processing — mapping to the model, artifact filters, the creation
flow, routing, and for a pair that exists already the field-by-field comparison and the conflict
strategy — using the engine's own functions (``mapping``, ``routing``, ``conflicts``, and the
processor's translation of values between the sides). The outcome of each artifact says what
Run would do with it: create its twin (where), associate it with the twin an interrupted earlier
attempt created (found by its creation marker), update its twin (which fields), leave it, or fail
(with the code the Activity screen would show).

Only reads reach the tools (listing, reading artifacts, persons and markers) and the database is
only read: no activity, pair, watermark, creation intent or counter is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from activity.models import ArtifactActivity, ArtifactPair
from integrations.engine import conflicts, mapping, routing
from integrations.engine.context import IntegrationContext, other
from integrations.engine.detection import OVERLAP
from integrations.engine.processing import Processor, classify, snapshot_of
from integrations.models import CreationIntent, Integration

LIMIT = 50  # artifacts read per side
SAMPLE = 5  # artifacts whose field values are shown


class Outcome:
    CREATE = "create"
    ASSOCIATE = "associate"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    FILTERED = "filtered"
    NOT_CREATED = "not created"
    IGNORED = "ignored"
    FAIL = "fail"


LABELS = {
    Outcome.CREATE: "Would create its twin",
    Outcome.ASSOCIATE: "Would pair it with the twin found by its creation marker",
    Outcome.UPDATE: "Would update its twin",
    Outcome.UNCHANGED: "Nothing to write",
    Outcome.FILTERED: "Left out by the artifact filters",
    Outcome.NOT_CREATED: "Not created: the creation flow does not go this way",
    Outcome.IGNORED: "Left out: it meets no route condition, and such artifacts are ignored",
    Outcome.FAIL: "Would fail",
}


@dataclass
class ArtifactPreview:
    side: str
    artifact_id: str
    formatted_id: str = ""
    summary: str = ""
    url: str = ""
    project: str = ""
    outcome: str = ""
    target_project: str = ""
    twin: str = ""  # the twin an update or an association writes to
    code: str = ""
    message: str = ""
    model: dict[str, Any] = field(default_factory=dict)  # the artifact's model values
    writes: dict[str, Any] = field(default_factory=dict)  # target repository field → value

    @property
    def target_side(self) -> str:
        return other(self.side)

    @property
    def label(self) -> str:
        return LABELS.get(self.outcome, self.outcome)


@dataclass
class SideFailure:
    side: str
    code: str
    message: str


@dataclass
class Preview:
    integration: Integration
    limit: int
    artifacts: list[ArtifactPreview] = field(default_factory=list)
    failures: list[SideFailure] = field(default_factory=list)  # a side that could not be listed
    truncated: dict[str, bool] = field(default_factory=dict)  # side → more than ``limit`` in scope
    collection_names: dict[str, str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Artifacts per outcome, every outcome present (keys with underscores for templates)."""
        found = Counter(a.outcome for a in self.artifacts)
        return {outcome.replace(" ", "_"): found[outcome] for outcome in LABELS}

    @property
    def creations(self) -> list[tuple[str, str, str, int]]:
        """(target side, its collection, target project, number of twins) Run would create there."""
        counted = Counter(
            (a.target_side, a.target_project) for a in self.artifacts if a.outcome == Outcome.CREATE
        )
        return [
            (side, self.collection_names.get(side, ""), project, n)
            for (side, project), n in sorted(counted.items())
        ]

    @property
    def failure_codes(self) -> list[tuple[str, int]]:
        return sorted(Counter(a.code for a in self.artifacts if a.outcome == Outcome.FAIL).items())

    @property
    def samples(self) -> list[ArtifactPreview]:
        """The first artifacts that would be written, with their field values."""
        writing = (Outcome.CREATE, Outcome.ASSOCIATE, Outcome.UPDATE)
        return [a for a in self.artifacts if a.outcome in writing][:SAMPLE]


class NotPreviewable(Exception):
    """The integration cannot be previewed as it is (running, or a collection missing)."""


def preview(integration_id: int, *, limit: int = LIMIT) -> Preview:
    style = Integration.objects.filter(pk=integration_id).values_list("style", flat=True).first()
    if style in (Integration.Style.GATEWAY, Integration.Style.ENTERPRISE_DATA_STREAM):
        # No pair of tools to read: a Gateway's source is payloads still to come, an EDS's target a table.
        raise NotPreviewable(
            "Preview shows what Run would do between two tools; a Gateway or Enterprise Data Stream "
            "integration has no second tool to read."
        )
    context = IntegrationContext.load(integration_id)
    integration = context.integration
    if integration.running:
        raise NotPreviewable("The integration is running: Preview shows what Run would do, so stop it first.")
    if integration.collection_a is None or integration.collection_b is None:
        raise NotPreviewable("Choose collections A and B first.")
    result = Preview(integration, limit)
    result.collection_names = {name: side.collection.name for name, side in context.sides.items()}
    try:
        for side in ("A", "B"):
            _preview_side(context, side, limit, result)
    finally:
        context.close()
    return result


def _in_scope(context: IntegrationContext, side: str, limit: int) -> tuple[list[str], bool]:
    """The ids a first change detection would find on this side (at most ``limit``), and whether
    there are more."""
    source = context.sides[side]
    ids: list[str] = []
    for project in source.collection.project_ids():
        cursor = None
        while True:
            page = source.connector.changed_since(
                project,
                None,
                artifact_types=source.collection.artifact_types,
                overlap=OVERLAP,
                cursor=cursor,
                page_size=min(500, limit + 1),
            )
            ids += [item.id for item in page.items]
            cursor = page.next_cursor
            if len(ids) > limit:
                return ids[:limit], True
            if not cursor:
                break
    return ids, False


def _preview_side(context: IntegrationContext, side: str, limit: int, result: Preview) -> None:
    integration = context.integration
    try:
        ids, result.truncated[side] = _in_scope(context, side, limit)
        artifacts = context.sides[side].connector.read_artifacts(ids) if ids else {}
    except Exception as error:  # noqa: BLE001 - shown as the side's failure, with its code
        failure = classify(error, integration.pk)
        result.failures.append(SideFailure(side, failure.code, failure.message))
        return
    column = f"{side.lower()}_artifact_id"
    pairs = {
        getattr(pair, column): pair
        for pair in ArtifactPair.objects.filter(integration_id=integration.pk, **{f"{column}__in": ids})
    }
    intents = {
        intent.source_artifact_id: intent
        for intent in CreationIntent.objects.filter(
            integration=integration, source_side=side, source_artifact_id__in=ids
        )
    }
    for artifact_id in ids:
        artifact = artifacts.get(artifact_id)
        if artifact is None:
            continue  # gone since it was listed: Run would find nothing to do either
        # An activity that is never saved: the processor translates values between the sides.
        activity = ArtifactActivity(integration_id=integration.pk, source_side=side, artifact_id=artifact_id)
        shown = ArtifactPreview(
            side,
            artifact_id,
            formatted_id=artifact.formatted_id,
            summary=str(artifact.fields.get("summary") or artifact.fields.get("subject") or ""),
            url=artifact.url,
            project=artifact.project,
        )
        try:
            processor = Processor(context, activity, holder="preview")
            shown.model = mapping.to_model(processor.source.lines, artifact.fields)
            pair = pairs.get(artifact_id)
            if pair is not None:
                _update(processor, artifact, pair, shown)
            else:
                _creation(processor, artifact, intents.get(artifact_id), shown)
        except Exception as error:  # noqa: BLE001 - what the Activity screen would show
            failure = classify(error, integration.pk)
            shown.outcome, shown.code, shown.message = Outcome.FAIL, failure.code, failure.message
        result.artifacts.append(shown)


def _creation(processor: Processor, artifact, intent, shown: ArtifactPreview) -> None:
    """The steps of ``Processor.prepare_creation`` and ``Creations``, reading only."""
    integration, source, target = processor.integration, processor.source, processor.target
    model = shown.model
    if not routing.passes_filters(integration.filters, model, creating=True):
        shown.outcome = Outcome.FILTERED
        return
    if not conflicts.flows(integration.creation_flow, source.name):
        shown.outcome = Outcome.NOT_CREATED
        return
    project = routing.target_project(
        processor.context.routes,
        source.name,
        artifact.project,
        model,
        artifact.formatted_id,
        ignore_unmatched=integration.unmatched_routing == Integration.Unmatched.IGNORE,
    )
    if project is None:
        shown.outcome = Outcome.IGNORED
        return
    shown.target_project = project
    flowing = [
        key
        for key, flow in processor.flows(model).items()
        if conflicts.flows(flow, source.name) and key in model
    ]
    shown.writes = processor.fields_for(target, source, model, flowing)
    twin = None
    if intent is not None and target.capabilities.creation_marker:
        twin = target.connector.find_by_marker(intent.target_project, intent.target_type, intent.marker)
    if twin is not None:
        shown.outcome, shown.twin = Outcome.ASSOCIATE, twin.formatted_id or twin.id
    else:
        shown.outcome = Outcome.CREATE


def _update(processor: Processor, artifact, pair: ArtifactPair, shown: ArtifactPreview) -> None:
    """The steps of ``Processor.update`` up to the writes: the same plan, not carried out."""
    integration, source, target = processor.integration, processor.source, processor.target
    model = shown.model
    twin_side = pair.side(target.name)
    shown.twin, shown.target_project = (
        twin_side["formatted_id"] or twin_side["artifact_id"],
        twin_side["project"],
    )
    if not routing.passes_filters(integration.filters, model, creating=False):
        shown.outcome = Outcome.FILTERED
        return
    twin = target.connector.read_artifact(twin_side["artifact_id"])
    twin_model = mapping.to_model(target.lines, twin.fields)
    plan = conflicts.plan_update(
        source=source.name,
        source_model=model,
        source_snapshot=snapshot_of(pair, source.name),
        target_model=twin_model,
        target_snapshot=snapshot_of(pair, target.name),
        field_flows=processor.flows(model),
        strategy=integration.conflict_strategy,
        equivalent=processor.equivalent,
        view=processor.step_parts.view,
    )
    if plan.empty:
        shown.outcome = Outcome.UNCHANGED
        return
    shown.outcome = Outcome.UPDATE
    values = processor.step_parts.merged({**model, **plan.write}, twin_model)
    shown.writes = processor.fields_for(target, source, values, plan.write) if plan.write else {}
