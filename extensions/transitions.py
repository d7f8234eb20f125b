"""Moving an artifact's status where the tool's workflow needs several steps: by the collection's
transition graph (shortest path, the recommended way), or by a state transition extension that
is called again and again and returns one transition each time.

Codes: 17010E the same status reached twice (the extension is not called again), 17009E a
transition or attribute value that is not valid, 17021E a transition the tool refused,
17013E a state transition configured without fields, 17018E fields the model lacks, 17003E no
path in the graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConnectorError, ValuesNotAccepted
from extensions.errors import ExtensionError
from extensions.models import CollectionExtensions

MAX_STEPS = 20


class TransitionFailed(ExtensionError):
    pass


def transition_json(transition) -> dict:
    """A connector Transition as extensions see it: ``{id, label, attributes}``."""
    return {
        "id": str(transition.id),
        "label": transition.name,
        "attributes": dict.fromkeys(transition.required_fields, None),
    }


def settings_of(collection) -> CollectionExtensions | None:
    cached = getattr(collection, "_hub_extension_settings", False)
    if cached is False:
        cached = (
            CollectionExtensions.objects.filter(collection=collection)
            .select_related("state_transition")
            .first()
        )
        collection._hub_extension_settings = cached
    return cached


def configured(collection) -> bool:
    """Whether the collection moves statuses itself (graph or extension) instead of writing them."""
    settings = settings_of(collection)
    return bool(settings and (settings.transition_graph or settings.state_transition_id))


def shortest_path(edges: list[dict], start: str, goal: str) -> list[dict] | None:
    """The edges from ``start`` to ``goal`` with the fewest steps (breadth first), or None."""
    if start == goal:
        return []
    seen, queue = {start}, deque([(start, [])])
    while queue:
        status, path = queue.popleft()
        for edge in edges:
            if str(edge.get("from")) != status or str(edge.get("to")) in seen:
                continue
            step = [*path, edge]
            if str(edge["to"]) == goal:
                return step
            seen.add(str(edge["to"]))
            queue.append((str(edge["to"]), step))
    return None


@dataclass
class Mover:
    """Moves one artifact of a side; ``values`` are the repository values being written (a
    transition that requires a field takes it from there)."""

    collection: Any
    connector: Any
    artifact_id: str

    def _status(self, artifact=None) -> str:
        artifact = artifact or self.connector.read_artifact(self.artifact_id)
        return str(artifact.fields.get("status") or "")

    def by_graph(self, goal: str, values: Mapping[str, Any], current=None):
        settings = settings_of(self.collection)
        start = self._status(current)
        path = shortest_path(list(settings.transition_graph), start, str(goal))
        if path is None:
            raise TransitionFailed(
                f"The transition graph of “{self.collection.name}” has no path from status {start!r} "
                f"to {goal!r}.",
                code="CCRRTT-17003E",
            )
        result = None
        for edge in path:
            offered = self.connector.transitions(self.artifact_id)
            step = next((t for t in offered if str(t.to_status) == str(edge["to"])), None)
            if step is None:
                raise TransitionFailed(
                    f"The tool offers no transition from {edge['from']!r} to {edge['to']!r} for "
                    f"{self.artifact_id} (graph of “{self.collection.name}”).",
                    code="CCRRTT-17021E",
                )
            attributes = {name: values.get(name) for name in step.required_fields if values.get(name)}
            result = self._perform(step.id, attributes)
        return result

    def _perform(self, transition_id: str, attributes: Mapping[str, Any]):
        try:
            return self.connector.perform_transition(self.artifact_id, transition_id, attributes or None)
        except ValuesNotAccepted as error:
            raise TransitionFailed(
                f"The tool refused transition {transition_id} of {self.artifact_id}: {error}",
                code="CCRRTT-17021E",
            ) from None
        except ConnectorError as error:
            raise TransitionFailed(
                f"Transition {transition_id} of {self.artifact_id} failed: {error}", code="CCRRTT-17021E"
            ) from None

    def _labelled(self, model: Mapping[str, Any]) -> dict:
        """Model values with select options by label, as the guide's examples compare them."""
        fields = {f.key: f for f in self.collection.model.fields.all()} if self.collection.model_id else {}
        labelled = {}
        for key, value in model.items():
            field = fields.get(key)
            options = {str(o.get("id")): str(o.get("label")) for o in (field.options or [])} if field else {}
            if options and isinstance(value, list):
                labelled[key] = [options.get(str(v), v) for v in value]
            elif options and value is not None:
                labelled[key] = options.get(str(value), value)
            else:
                labelled[key] = value
        return labelled

    def _option_ids(self, attributes: dict) -> dict:
        """Attribute values an extension gives by label (``'Fixed'``) as the tool's option ids."""
        if not attributes:
            return attributes
        artifact = self.connector.read_artifact(self.artifact_id)
        try:
            schema = {f.id: f for f in self.connector.field_schema(artifact.project, artifact.type)}
        except ConnectorError:
            return attributes
        converted = {}
        for name, value in attributes.items():
            field = schema.get(name)
            by_label = {o.label: o.id for o in field.options} if field and field.options else {}
            if by_label and isinstance(value, str) and value in by_label:
                converted[name] = by_label[value]
            elif by_label and isinstance(value, str) and value not in by_label.values():
                raise TransitionFailed(
                    f"“{value}” is not an option of {field.label} ({', '.join(by_label)}).",
                    code="CCRRTT-17009E",
                )
            else:
                converted[name] = value
        return converted

    def by_extension(self, source_model: Mapping[str, Any], model_keys: set[str]):
        from extensions import transformations
        from extensions.licensing import require_type

        settings = settings_of(self.collection)
        extension = settings.state_transition
        require_type(extension.type)
        fields = list(settings.state_transition_fields or [])
        if not fields:
            raise TransitionFailed(
                f"The state transition of “{self.collection.name}” has no fields: choose the model "
                "fields it needs, or None to turn it off.",
                code="CCRRTT-17013E",
            )
        missing = [f for f in fields if f not in model_keys]
        if missing:
            raise TransitionFailed(
                f"The state transition of “{self.collection.name}” needs model field(s) "
                f"{', '.join(missing)}, which the model lacks.",
                code="CCRRTT-17018E",
            )
        visited: list[str] = [self._status()]
        source_model = self._labelled(source_model)
        result = None
        for _ in range(MAX_STEPS):
            offered = self.connector.transitions(self.artifact_id)
            given = [transition_json(t) for t in offered]
            context = {
                "sourceArtifact": dict(source_model),
                "targetRepositoryArtifact": self.connector.read_raw(self.artifact_id),
            }
            context["targetArtifact"] = context["targetRepositoryArtifact"]
            run = transformations.run(extension, "transitionArtifact", [context, given])
            if run.undefined or run.value is None:
                return result
            chosen = run.value
            if not isinstance(chosen, dict) or str(chosen.get("id")) not in {t["id"] for t in given}:
                offered_ids = ", ".join(f"{t['id']} ({t['label']})" for t in given) or "none"
                raise TransitionFailed(
                    f"Extension “{extension.name}” returned {str(chosen)[:80]}, which is not one of the "
                    f"transitions offered: {offered_ids}.",
                    code="CCRRTT-17009E",
                )
            attributes = chosen.get("attributes") or {}
            if not isinstance(attributes, dict):
                raise TransitionFailed(
                    f"Extension “{extension.name}” returned attributes that are not an object.",
                    code="CCRRTT-17009E",
                )
            values = self._option_ids({k: v for k, v in attributes.items() if v is not None})
            try:
                result = self.connector.perform_transition(
                    self.artifact_id, str(chosen["id"]), values or None
                )
            except ValuesNotAccepted as error:
                raise TransitionFailed(
                    f"The tool refused transition “{chosen.get('label')}” of {self.artifact_id}: {error}",
                    code="CCRRTT-17021E",
                ) from None
            except ConnectorError as error:
                raise TransitionFailed(
                    f"Transition “{chosen.get('label')}” of {self.artifact_id} failed: {error}",
                    code="CCRRTT-17021E",
                ) from None
            status = self._status(result)
            if status in visited:
                raise TransitionFailed(
                    f"Extension “{extension.name}” moved {self.artifact_id} to status {status!r} a second "
                    "time; it is not called again for this change.",
                    code="CCRRTT-17010E",
                )
            visited.append(status)
        raise TransitionFailed(
            f"Extension “{extension.name}” kept returning transitions ({MAX_STEPS}).", code="CCRRTT-17010E"
        )


def move(
    side, artifact_id: str, status: Any, values: Mapping[str, Any], source_model, model_keys, current=None
):
    """For ``Processor.write``: move the artifact by the collection's extension, else its graph.
    Returns the artifact as the last step left it, or None when nothing was done."""
    mover = Mover(side.collection, side.connector, artifact_id)
    settings = settings_of(side.collection)
    if settings.state_transition_id:
        return mover.by_extension(source_model or {}, set(model_keys))
    if status is None or mover._status(current) == str(status):
        return None
    return mover.by_graph(str(status), values, current)
