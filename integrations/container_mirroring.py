"""The container mirroring settings of a Container + Work Item integration (docs/containers.md), as
the screen, the API and the configuration import read and write them: one set of rules, so each
path refuses the same settings with the same catalog code on the same field."""

from __future__ import annotations

from typing import Any

from integrations import container_checks
from integrations.models import ContainerMirroring, Integration
from integrations.validation import FILTER_OPERATORS, condition_problem

# The stored fields, in the order the screen shows them; also the keys of the API object and of the
# integration's snapshot ("container_mirroring").
FIELDS = (
    "container_types_a",
    "container_types_b",
    "parent_field",
    "matching",
    "match_field",
    "conditions",
    "unmatched",
    "default_type",
)
CONDITION_KEYS = ("field", "operator", "value", "type")
# Where each validation code of container_checks is shown: the setting the user changes to fix it.
CODE_FIELDS = {
    "CCRRTT-50015E": "container_types",  # + the side: container_types_a / container_types_b
    "CCRRTT-67000E": "container_types",  # on the side whose type is a version
    "CCRRTT-50017E": "conditions",
    "CCRRTT-50019E": "matching",
    "CCRRTT-50020E": "non_field",
}


def snapshot(integration: Integration) -> dict[str, Any] | None:
    """The settings by name, or None for an integration without container mirroring."""
    mirroring = ContainerMirroring.objects.filter(integration=integration).first()
    if mirroring is None:
        return None
    return {name: getattr(mirroring, name) for name in FIELDS}


def _type_list(value, name: str, errors: dict) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.setdefault(name, []).append("Give the container artifact types as a list of type ids.")
        return []
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


def offered(collection) -> list[tuple[str, str, bool]] | None:
    """The container types a side can name: (type id, name, whether it is a container that is not
    an artifact, such as a Redmine version): the artifact types the repository has in the
    collection's projects, then those containers. None when the repository cannot be asked (the
    screen then names none and nothing is refused for it). Asked once per collection object."""
    if collection is None or getattr(collection, "repository_id", None) is None:
        return None
    cached = collection.__dict__.get("_container_offer", _UNASKED)
    if cached is not _UNASKED:
        return cached
    from connectors import registry
    from connectors.containers import object_types

    found: dict[str, tuple[str, bool]] = {}
    try:
        with registry.connect(collection.repository.settings()) as connector:
            for project in collection.project_ids():
                for artifact_type in connector.artifact_types(project):
                    found.setdefault(artifact_type.id, (artifact_type.name, False))
            names = getattr(connector, "object_container_names", {}) or {}
            for kind in sorted(object_types(connector)):
                found[kind] = (names.get(kind, kind), True)
        offer = [(key, name, is_object) for key, (name, is_object) in found.items()]
    except Exception:  # noqa: BLE001 - unreachable, disabled, misconfigured: the screen names none
        offer = None
    collection.__dict__["_container_offer"] = offer
    return offer


_UNASKED = object()


def describe_offer(collection) -> str:
    """The container types of ``collection`` in words, for the screen ("" when unknown)."""
    offer = offered(collection)
    if not offer:
        return ""
    items = [f"{name} ({key})" if name != key else key for key, name, is_object in offer if not is_object]
    objects = [f"{name} ({key})" if name != key else key for key, name, is_object in offer if is_object]
    text = f"“{collection.name}” offers the artifact types {', '.join(items) or 'none'}"
    if objects:
        text += (
            f"; and {', '.join(objects)}, containers that are not artifacts (Redmine's versions): "
            "pair such a type with the same kind on the other side, at the same position"
        )
    return text + "."


def _offer_problems(integration: Integration, mirroring, values: dict, errors: dict) -> None:
    """A container type the side's repository does not have, named on that side's setting."""
    for side, name in (("A", "container_types_a"), ("B", "container_types_b")):
        collection = integration.collection_a if side == "A" else integration.collection_b
        offer = offered(collection) if name in values else None
        if not offer:
            continue
        known = {key for key, _, _ in offer}
        unknown = [t for t in mirroring.types_of(side) if t not in known]
        if unknown:
            shown = ", ".join(f"“{t}”" for t in unknown)
            errors.setdefault(name, []).append(
                f"{shown}: not a container type of side {side}. {describe_offer(collection)}"
            )


def model_fields_of(integration: Integration) -> dict:
    collection = integration.collection_a or integration.collection_b
    return collection.model.fields_by_key() if collection is not None and collection.model_id else {}


def checked(integration: Integration, values: dict) -> tuple[ContainerMirroring, dict[str, list[str]]]:
    """The settings as an unsaved ContainerMirroring, and the problems per setting (empty: none).
    The shape is checked first (so nothing malformed reaches the engine), then the catalog rules."""
    errors: dict[str, list[str]] = {}
    current = ContainerMirroring.objects.filter(integration=integration).first() if integration.pk else None
    mirroring = current or ContainerMirroring(integration=integration)
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        errors.setdefault("non_field", []).append(
            f"Unknown container mirroring setting(s): {', '.join(unknown)} (one of {', '.join(FIELDS)})."
        )
    for name in ("container_types_a", "container_types_b"):
        if name in values:
            setattr(mirroring, name, _type_list(values[name], name, errors))
    for name in ("parent_field", "match_field", "default_type"):
        if name in values:
            if not isinstance(values[name], str) or len(values[name]) > 200:
                errors.setdefault(name, []).append("Give a text of at most 200 characters.")
            else:
                setattr(mirroring, name, values[name].strip())
    for name, choices in (
        ("matching", ContainerMirroring.Matching),
        ("unmatched", ContainerMirroring.Unmatched),
    ):
        if name in values:
            if values[name] not in choices.values:
                errors.setdefault(name, []).append(f"Choose one of {', '.join(choices.values)}.")
            else:
                setattr(mirroring, name, values[name])
    if "conditions" in values:
        mirroring.conditions = _conditions(values["conditions"], model_fields_of(integration), errors)
    if errors:
        return mirroring, errors
    fields = model_fields_of(integration)
    # The match field matters only while matching is on; off, a stale one is harmless.
    matching_on = mirroring.matching != ContainerMirroring.Matching.OFF
    checked_names = ("parent_field", "match_field") if matching_on else ("parent_field",)
    for name in checked_names:
        key = getattr(mirroring, name)
        if fields and key not in fields:
            errors.setdefault(name, []).append(f"The model has no field “{key}”.")
    if (
        fields
        and fields.get(mirroring.parent_field) is not None
        and fields[mirroring.parent_field].type != "container"
    ):
        errors.setdefault("parent_field", []).append(
            f"“{mirroring.parent_field}” is a {fields[mirroring.parent_field].type} field; the parent "
            "field must be of type Container."
        )
    collections = {c.pk: c for c in (integration.collection_a, integration.collection_b) if c is not None}
    for detail, code, message in container_checks.problems(integration, collections, mirroring):
        name = CODE_FIELDS.get(code, "non_field")
        if name == "container_types":
            name = f"container_types_{detail.rsplit(':', 1)[-1].lower()}"
        errors.setdefault(name, []).append(f"{code}: this integration {message}.")
    _offer_problems(integration, mirroring, values, errors)
    return mirroring, errors


def _conditions(rows, model_fields: dict, errors: dict) -> list[dict]:
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        errors.setdefault("conditions", []).append(
            "Give the conditions as a list of objects with field, operator, value and type."
        )
        return []
    kept = []
    for number, row in enumerate(rows, start=1):
        condition = {key: row.get(key) for key in CONDITION_KEYS}
        condition["operator"] = condition["operator"] or "equals"
        extra = sorted(set(row) - set(CONDITION_KEYS))
        if extra or not isinstance(condition["type"], str) or not condition["type"].strip():
            errors.setdefault("conditions", []).append(
                f"Condition {number}: give field, operator, value and the target container type"
                + (f" (unknown: {', '.join(extra)})" if extra else "")
                + "."
            )
            continue
        if condition["operator"] not in FILTER_OPERATORS:
            errors.setdefault("conditions", []).append(
                f"Condition {number}: unknown operator “{condition['operator']}”."
            )
            continue
        # A field the model lacks is 50017E (not mapped in both collections), from container_checks;
        # the rest of the condition must make sense against the model's field.
        problem = condition_problem(condition, model_fields) if condition.get("field") in model_fields else ""
        if problem:
            errors.setdefault("conditions", []).append(f"CCRRTT-1412E: condition {number} {problem}.")
            continue
        condition["type"] = condition["type"].strip()
        kept.append(condition)
    return kept


def save(integration: Integration, values: dict) -> ContainerMirroring:
    """Store checked settings (``checked`` found no problem)."""
    mirroring, errors = checked(integration, values)
    if errors:
        raise ValueError(errors)
    mirroring.save()
    return mirroring


def remove(integration: Integration) -> None:
    ContainerMirroring.objects.filter(integration=integration).delete()
