"""What a mapping line must satisfy to be saved at all: the one set of rules that the mapping
screen, the API (through the same form) and a configuration import apply, and that the validator
applies again to stored lines.

``integrations.transforms`` says which transforms fit which types; these rules catch lines that
pass that check and still cannot work — a value map that maps nothing, a constant without a value,
a model field that two lines fill. Each refusal names the form field at fault, so a screen can mark
it, and carries CCRRTT-17002E ("Collection model mapping is invalid"), the catalog's code for a
mapping that does not agree with the repository's and the model's schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrations.engine.mapping import Line
from integrations.models.modeling import SELECT_TYPES, FieldType

CODE = "CCRRTT-17002E"


@dataclass(frozen=True)
class Refusal:
    field: str  # the mapping form's field at fault
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def type_label(kind: str) -> str:
    """“Single Select” for ``single_select``: repository and model field types share their values."""
    try:
        return FieldType(kind).label
    except ValueError:
        return str(kind)


def _describe(line: Line) -> str:
    repository = ", ".join(line.repository_fields) or "a constant"
    return f"{repository} ↔ {', '.join(line.model_fields)}"


def _value_map_refusals(line: Line, model_fields: Mapping[str, Any]) -> list[Refusal]:
    params = line.params or {}
    repository = "/".join(type_label(t) for t in line.repository_types)
    model = "/".join(type_label(t) for t in line.model_types)
    found = []
    for direction, carried, towards in (
        ("to_model", line.reads, "the model"),
        ("to_repository", line.writes, "the repository"),
    ):
        if carried and not (params.get(direction) or params.get(f"{direction}_default")):
            found.append(
                Refusal(
                    direction,
                    CODE,
                    f"the value map from {repository} to {model} is empty towards {towards}, so every value "
                    "would arrive empty: map at least one value, or give a default for unmapped values",
                )
            )
    return found


def _constant_refusals(line: Line, model_fields: Mapping[str, Any]) -> list[Refusal]:
    value = (line.params or {}).get("value")
    if value in (None, ""):
        return [Refusal("value", CODE, "a constant needs the value it sets; enter one")]
    found = []
    for key in line.model_fields:
        field = model_fields.get(key)
        if field is not None and field.type in SELECT_TYPES and str(value) not in field.option_ids:
            found.append(
                Refusal(
                    "value",
                    CODE,
                    f"“{value}” is not an option of “{field.label}”; "
                    f"its options: {', '.join(field.option_ids)}",
                )
            )
    if line.writes and line.repository_fields:
        different = [
            (name, kind)
            for name, kind in zip(line.repository_fields, line.repository_types, strict=False)
            if kind not in line.model_types
        ]
        if different:
            name, kind = different[0]
            found.append(
                Refusal(
                    "direction",
                    CODE,
                    f"a constant written to the repository would put the {type_label(line.model_types[0])} "
                    f"value “{value}” into “{name}”, a {type_label(kind)} field; choose the direction "
                    "“To model”, or a repository field of the same type",
                )
            )
    return found


def line_refusals(line: Line, model_fields: Mapping[str, Any]) -> list[Refusal]:
    """What makes this one line unusable, given the model's fields (key → ModelField)."""
    if line.transform == "value_map":
        return _value_map_refusals(line, model_fields)
    if line.transform == "constant":
        return _constant_refusals(line, model_fields)
    return []


def duplicate_refusals(line: Line, others: Iterable[Line]) -> list[Refusal]:
    """A model field that two lines read (which one's value would it take?), or a repository field
    that two lines write. A model field written to several repository fields is fine."""
    found = []
    for other in others:
        for both, mine, theirs, field, rule in (
            (
                line.reads and other.reads,
                line.model_fields,
                other.model_fields,
                "model_fields",
                "is already mapped from the repository by the line {other}; a model field takes its value "
                "from one line only (edit that line, or map this one “To repository”)",
            ),
            (
                line.writes and other.writes,
                line.repository_fields,
                other.repository_fields,
                "repository_fields",
                "is already written by the line {other}; a repository field is written by one line only",
            ),
        ):
            twice = [name for name in mine if name in theirs] if both else []
            if twice:
                kind = "model" if field == "model_fields" else "repository"
                detail = rule.format(other=_describe(other))
                found.append(Refusal(field, CODE, f"the {kind} field “{twice[0]}” {detail}"))
    return found


def refusals(line: Line, model_fields: Mapping[str, Any], others: Iterable[Line] = ()) -> list[Refusal]:
    return line_refusals(line, model_fields) + duplicate_refusals(line, others)


def line_of(
    repository_fields: Sequence[str],
    repository_types: Mapping[str, str],
    model_fields: Sequence[str],
    model_field_objects: Mapping[str, Any],
    direction: str,
    transform: str,
    params: Mapping[str, Any] | None,
) -> Line:
    """A mapping line as the engine reads it, from what a form, an API call or a snapshot gives."""
    return Line(
        repository_fields=list(repository_fields),
        repository_types=[str(repository_types.get(f, "")) for f in repository_fields],
        model_fields=list(model_fields),
        model_types=[model_field_objects[k].type if k in model_field_objects else "" for k in model_fields],
        transform=transform,
        params=dict(params or {}),
        reads=direction in ("to_model", "both"),
        writes=direction in ("to_repository", "both"),
    )


def stored_line(mapping, model_field_objects: Mapping[str, Any]) -> Line:
    """The line of a stored ``FieldMapping``."""
    return line_of(
        mapping.repository_fields,
        mapping.repository_field_types or {},
        mapping.model_fields,
        model_field_objects,
        mapping.direction,
        mapping.transform,
        mapping.params,
    )


def check_lines(lines: Sequence[Line], model_fields: Mapping[str, Any]) -> list[tuple[int, Refusal]]:
    """(line number from 1, refusal) for a whole mapping (an import replaces it at once)."""
    found = []
    for index, line in enumerate(lines):
        for refusal in refusals(line, model_fields, lines[:index]):
            found.append((index + 1, refusal))
    return found
