"""The extension screen's helpers: a starting script per type, the Artifact Schema Information of a
collection or model, and the test bench — one run of the extension on a real artifact read from a
collection, or on pasted arguments, with its output, console lines, host calls and time. The bench
writes nothing: the host APIs only read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import ConnectorError
from extensions import runtime
from extensions.errors import ExtensionError
from extensions.hosts import HostApis
from extensions.models import Extension, ExtensionType
from hub.ids import parse_id

TEMPLATES = {
    ExtensionType.CUSTOM_DATA_TRANSFORMATION: (
        "var inputTypes = 'String';\nvar outputTypes = 'String';\n\n"
        "function transform(context, input) {\n"
        "  // return the value for the target field\n"
        "  return input;\n}\n"
    ),
    ExtensionType.PAYLOAD_TRANSFORMATION: (
        "function transformPayload(payload, parameters, headers) {\n"
        "  // return an array of 0 or more objects shaped like the gateway collection's model\n"
        "  return [];\n}\n"
    ),
    ExtensionType.PERSON_RECONCILIATION: (
        "function mapPersonFromRepository(repositoryPerson, unresolvedPerson, context) {\n"
        "  if (repositoryPerson) {\n    return repositoryPerson['person-id'];\n  }\n}\n\n"
        "function mapPersonToRepository(modelPerson, context) {\n"
        "  if (modelPerson) {\n    return modelPerson.id;\n  }\n}\n"
    ),
    ExtensionType.STATE_TRANSITION: (
        "function transitionArtifact(context, transitions) {\n"
        "  // return one of the transitions, or nothing when no more are needed\n}\n"
    ),
}
COMMENT_SHAPE = [
    ("id", "String"),
    ("comment-content", "Rich Text (HTML)"),
    ("content", "Rich Text (HTML), the same as comment-content"),
    ("is-private", "Boolean"),
    ("creator", "Person id"),
    ("created", "Date Time"),
]
PERSON_SHAPE = [
    ("person-id", "String"),
    ("person-username", "String"),
    ("person-email", "String"),
    ("person-display-name", "String"),
    ("active", "Boolean"),
]
MODEL_PERSON_SHAPE = [("id", "String"), ("display-name", "String (may be empty)")]


def schema_of(source: str) -> dict:
    """``collection:ID`` or ``model:ID`` → the fields to show, and an error if the tool answered none."""
    from integrations.models import Model, RepositoryCollection
    from integrations.services import field_schema

    kind, _, text = source.partition(":")
    context: dict[str, Any] = {"comment": COMMENT_SHAPE, "source": source, "fields": [], "error": ""}
    pk = parse_id(text)
    if pk is None:
        return {**context, "comment": [], "person": []}
    if kind == "model":
        model = Model.objects.filter(pk=pk).first()
        if model is None:
            return {**context, "error": "No such model."}
        context["title"] = f"Model {model.name}"
        context["fields"] = [
            {
                "id": f.key,
                "label": f.label,
                "type": f.get_type_display(),
                "options": [str(o.get("label")) for o in f.options or []],
            }
            for f in model.fields.all()
        ]
        context["person"] = MODEL_PERSON_SHAPE
        return context
    collection = RepositoryCollection.objects.filter(pk=pk).select_related("repository").first()
    if collection is None:
        return {**context, "error": "No such collection."}
    context["title"] = f"Collection {collection.name}"
    context["person"] = PERSON_SHAPE
    try:
        schema = field_schema(collection)
    except ConnectorError as error:
        return {**context, "error": str(error)}
    context["fields"] = [
        {
            "id": f.id,
            "label": f.label,
            "type": str(f.type).replace("_", " ").title(),
            "options": [o.label for o in f.options],
        }
        for f in schema
    ]
    return context


@dataclass
class BenchRun:
    output: Any = None
    undefined: bool = False
    error: str = ""
    code: str = ""
    logs: list[str] = field(default_factory=list)
    host_calls: list[runtime.HostCall] = field(default_factory=list)
    ms: float = 0.0
    arguments: Any = None


def _artifact_arguments(extension: Extension, connector, artifact, fields: str) -> tuple[str, list]:
    from extensions.transformations import _jsonable

    raw = connector.read_raw(artifact.id)
    model_like = _jsonable(artifact.fields)
    if extension.type == ExtensionType.CUSTOM_DATA_TRANSFORMATION:
        names = [f.strip() for f in fields.split(",") if f.strip()] or ["summary"]
        inputs = [model_like.get(n) for n in names]
        context = {
            "sourceArtifact": model_like,
            "targetArtifact": {},
            "targetRepositoryArtifact": {},
            "sourceFields": [{"id": n, "label": n} for n in names],
            "sourceField": {"id": names[0], "label": names[0]} if len(names) == 1 else None,
            "direction": "repository-to-model",
        }
        return "transform", [context, inputs[0] if len(inputs) == 1 else inputs]
    if extension.type == ExtensionType.STATE_TRANSITION:
        from extensions.transitions import transition_json

        transitions = [transition_json(t) for t in connector.transitions(artifact.id)]
        context = {"sourceArtifact": model_like, "targetRepositoryArtifact": raw, "targetArtifact": raw}
        return "transitionArtifact", [context, transitions]
    if extension.type == ExtensionType.PERSON_RECONCILIATION:
        from extensions.hosts.persons import person_json

        person_id = next((v for k, v in artifact.fields.items() if k in ("assignee", "reporter") and v), None)
        person = person_json(connector.read_person(str(person_id))) if person_id else None
        context = {"sourceArtifact": model_like, "targetArtifact": {}, "targetField": {"id": "assignee"}}
        return "mapPersonFromRepository", [person, None, context]
    return "transformPayload", [raw, {}, {}]


def run_bench(
    extension: Extension,
    *,
    source: str,
    collection_id: str | None,
    artifact_id: str,
    arguments: str,
    fields: str = "",
) -> BenchRun:
    from connectors import registry
    from extensions.hosts.artifacts import ArtifactsApi
    from extensions.hosts.persons import PersonsApi
    from integrations.models import RepositoryCollection

    run = BenchRun()
    connector = None
    try:
        collection = None
        if parse_id(collection_id) is not None:
            collection = RepositoryCollection.objects.filter(pk=parse_id(collection_id)).first()
        if collection is not None:
            connector = registry.connect(collection.repository.settings())
        host = HostApis(
            persons=PersonsApi(connector) if connector else None,
            artifacts=ArtifactsApi(connector, collection) if connector else None,
        )
        if source == "artifact":
            if connector is None:
                run.error = "Choose the collection to read the artifact from."
                return run
            artifact = connector.read_artifact(artifact_id) if artifact_id else None
            if artifact is None:
                run.error = "Enter the id of an artifact of that collection."
                return run
            entry, args = _artifact_arguments(extension, connector, artifact, fields)
        else:
            try:
                args = json.loads(arguments or "[]")
            except json.JSONDecodeError as error:
                run.error = f"The arguments are not JSON (line {error.lineno}: {error.msg})."
                return run
            if not isinstance(args, list):
                args = [args]
            entry = next(iter(_entries(extension.type)))
            if extension.type == ExtensionType.PERSON_RECONCILIATION and len(args) == 1:
                entry = "mapPersonToRepository"
        run.arguments = args
        result = runtime.invoke(extension.script, entry, args, host)
        run.output, run.undefined = result.value, result.undefined
        run.logs, run.host_calls, run.ms = result.logs, result.host_calls, result.ms
    except ExtensionError as error:
        run.error, run.code = error.message, error.code
    except ConnectorError as error:
        run.error, run.code = str(error), error.code
    finally:
        if connector is not None:
            connector.close()
    return run


def _entries(extension_type: str):
    from extensions.models import ENTRY_POINTS

    return ENTRY_POINTS[ExtensionType(extension_type)]
