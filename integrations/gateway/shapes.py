"""What a model-shaped artifact is, for the Gateway: the payload itself when the collection has no
payload transformation, or each object the extension returned. Values follow the extension
conventions (docs/extensions.md): select options by label, dates as ISO 8601 text, and so on."""

from __future__ import annotations

from typing import Any

from extensions.errors import OutputInvalid
from extensions.types import FieldInfo, from_extension


def infos(model) -> dict[str, FieldInfo]:
    return {
        f.key: FieldInfo(id=f.key, label=f.label, type=f.type, options=tuple(f.options or ()))
        for f in model.fields.all()
    }


def artifacts_of(payload: Any) -> list[Any]:
    """A payload without an extension is one artifact (an object) or several (an array of them)."""
    return payload if isinstance(payload, list) else [payload]


def model_values(fields: dict[str, FieldInfo], artifact: Any) -> tuple[dict[str, Any], list[str]]:
    """(the artifact's model values, a problem per field that is unknown or of the wrong type)."""
    if not isinstance(artifact, dict):
        return {}, [f"An artifact is a JSON object of model fields, not {type(artifact).__name__}."]
    values, problems = {}, []
    for key in sorted(set(artifact) - set(fields)):
        problems.append(f"“{key}” is not a field of the model.")
    for key, info in fields.items():
        if key not in artifact:
            continue
        try:
            values[key] = from_extension(artifact[key], info)
        except OutputInvalid as error:
            problems.append(str(error.message).replace("The extension returned", "The payload has"))
    return values, problems


def problems_of(model, payload: Any, fields: dict[str, FieldInfo] | None = None) -> list[str]:
    """Every problem of a payload that must be model-shaped, named by artifact and field (``fields``:
    the model's ``infos``, when the caller knows them already)."""
    fields = infos(model) if fields is None else fields
    artifacts = artifacts_of(payload)
    if not artifacts:
        return ["An empty array holds no artifact."]
    problems = []
    for number, artifact in enumerate(artifacts, start=1):
        prefix = f"Artifact {number}: " if len(artifacts) > 1 else ""
        problems += [prefix + problem for problem in model_values(fields, artifact)[1]]
    return problems


def summary_of(values: dict[str, Any]) -> str:
    for key in ("summary", "title", "name"):
        if isinstance(values.get(key), str) and values[key]:
            return values[key][:1000]
    return next((v[:1000] for v in values.values() if isinstance(v, str) and v), "")


def related(integration, collection) -> dict[str, Any]:
    """The related-element columns of an activity of a Gateway integration (source side A: the
    gateway collection; target: collection B, or the SQL collection of an Enterprise Data Stream,
    named only: the id column refers to repository collections)."""
    target = integration.collection_b
    if integration.sql_collection_id is not None:
        target_id, target_name = None, integration.sql_collection.name
    else:
        target_id, target_name = (target.pk, target.name) if target else (None, "")
    return {
        "integration_id": integration.pk,
        "integration_name": integration.name,
        "source_side": "A",
        "source_collection_id": collection.pk,
        "source_collection_name": collection.name,
        "target_collection_id": target_id,
        "target_collection_name": target_name,
    }
