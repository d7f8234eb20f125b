"""Repository ↔ model through a collection's mapping, applying the transforms that
``integrations.transforms`` declares.

Values on both ends are JSON values (``integrations.engine.values``): ``to_model`` takes the fields of
a connector's ``Artifact`` and returns model values; ``to_repository`` takes model values and returns
the connector's Python values for the fields to write. Person and relationship values stay the ids of
their own repository here; the processor translates them (persons, pairs) between the two.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors import test_steps
from integrations.engine import values as V

FORMATTED_IDS = "formatted_ids"  # the transform of commit messages to relationships (Gateway)
FORMATTED_ID = re.compile(r"\b[A-Z][A-Z0-9_]*-\d+\b")


class MappingFailed(Exception):
    """A value the mapping cannot convert (CCRRTT-17001E), naming the field."""

    code = "CCRRTT-17001E"


@dataclass(frozen=True)
class Line:
    """One mapping line as plain data (tests build these directly; ``lines_of`` reads them from the
    ORM)."""

    repository_fields: Sequence[str]
    repository_types: Sequence[str]
    model_fields: Sequence[str]
    model_types: Sequence[str]
    transform: str = "copy"
    params: Mapping[str, Any] = field(default_factory=dict)
    reads: bool = True
    writes: bool = True
    # A custom data transformation (``extensions.transformations.LineExtensions``) when the
    # transform is "extension": called with the values, the direction and both artifacts.
    extension: Any = None


def lines_of(collection) -> list[Line]:
    from extensions.transformations import line_extensions

    model_fields = {f.key: f for f in collection.model.fields.all()} if collection.model else {}
    model_types = {key: f.type for key, f in model_fields.items()}
    lines = []
    for mapping in collection.mappings.all():
        lines.append(
            Line(
                repository_fields=list(mapping.repository_fields),
                repository_types=[
                    mapping.repository_field_types.get(f, "string") for f in mapping.repository_fields
                ],
                model_fields=list(mapping.model_fields),
                model_types=[
                    model_types.get(k) or mapping.model_field_types.get(k, "string")
                    for k in mapping.model_fields
                ],
                transform=mapping.transform,
                params=mapping.params or {},
                reads=mapping.reads,
                writes=mapping.writes,
                extension=line_extensions(mapping, model_fields),
            )
        )
    return lines


def model_types(lines: Iterable[Line]) -> dict[str, str]:
    return {
        key: kind for line in lines for key, kind in zip(line.model_fields, line.model_types, strict=False)
    }


# --- single-value conversions between types ---------------------------------------------------

NUMBERS = ("long", "double")
TEXT = ("string", "rich_text")
YES = ("yes", "true", "1", "y", "on")


def _number(value: Any, kind: str, name: str) -> Any:
    if V.empty(value):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise MappingFailed(f"“{name}”: {value!r} is not a number.") from None
    return int(round(number)) if kind == "long" else number


def _convert(value: Any, source: str, target: str, name: str) -> Any:
    """One value of type ``source`` as type ``target`` (both JSON forms)."""
    if source == target or (source in TEXT and target in TEXT):
        return value
    if {source, target} == {"relationship", "container"}:  # a parent is a container's id
        return value
    if source in NUMBERS and target in TEXT:
        return "" if value is None else str(value)
    if source in TEXT and target in NUMBERS:
        return _number(value, target, name)
    if source in NUMBERS and target in NUMBERS:
        return _number(value, target, name)
    if source == "date" and target == "date_time":
        return None if value is None else f"{value}T00:00:00Z"
    if source == "date_time" and target == "date":
        return None if value is None else V.to_json("date", V.from_json("date_time", value))
    if source in ("date", "date_time") and target in TEXT:
        return value or ""
    if source in TEXT and target in ("date", "date_time"):
        if V.empty(value):
            return None
        try:
            parsed = V.from_json(target, value.strip())
        except ValueError:
            raise MappingFailed(f"“{name}”: {value!r} is not an ISO 8601 date.") from None
        if target == "date_time" and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return V.to_json(target, parsed)
    if source == "duration" and target in NUMBERS:
        return None if value is None else _number(value / 60, target, name)
    if source in NUMBERS and target == "duration":
        return None if value is None else int(round(float(value) * 60))
    if source == "boolean" and target in TEXT:
        return "yes" if value else "no"
    if source in TEXT and target == "boolean":
        return str(value or "").strip().lower() in YES
    if source == "person" and target == "persons" or source == "relationship" and target == "relationships":
        return [] if V.empty(value) else [value]
    if source in ("persons", "relationships") and target in ("person", "relationship"):
        return value[0] if value else None
    if source == "person" and target in TEXT:
        return value or ""
    if source in TEXT and target == "person":
        return value or None
    if source == "web_links" and target in TEXT:
        return "\n".join(link["url"] for link in value or [])
    if source in TEXT and target == "web_links":
        return [{"url": line.strip(), "label": ""} for line in (value or "").splitlines() if line.strip()]
    raise MappingFailed(f"“{name}”: no conversion from {source} to {target}.")


def _value_map(value: Any, table: Mapping[str, Any], default: Any) -> Any:
    def one(item):
        if V.empty(item):
            return None
        key = str(item).lower() if isinstance(item, bool) else str(item)
        return table.get(key, default if default not in ("", None) else None)

    if isinstance(value, list):
        return sorted({mapped for mapped in map(one, value) if mapped is not None})
    return one(value)


def _container_ref(value: Any, container_type: str, to_model: bool, name: str) -> Any:
    """``container_ref``: the tool's plain id ``7`` ↔ the model's container ``<type>:7``."""
    if V.empty(value):
        return None
    prefix = f"{container_type}:"
    if to_model:
        return f"{prefix}{value}"
    if not str(value).startswith(prefix):
        raise MappingFailed(f"“{name}”: {value} is not a container of type {container_type or '?'}.")
    return str(value).removeprefix(prefix)


def _is_extension(line: Line) -> bool:
    return line.transform == "extension" and line.extension is not None


def has_extension_lines(lines: Iterable[Line]) -> bool:
    """Whether mapping through ``lines`` runs a custom data transformation."""
    return any(_is_extension(line) for line in lines)


def _extension_lines(pending: list[tuple[int, Line, list[Any]]], to_model: bool, source, target) -> dict:
    """Line index → converted values of the extension lines of one artifact and direction, run in
    one sandbox round trip; the first failing line (in line order) raises its own code. The
    extensions see the target as the built-in lines mapped it."""
    from extensions.errors import ExtensionError
    from extensions.transformations import run_lines

    outcomes = run_lines([(line.extension, values, to_model, source, target) for _, line, values in pending])
    converted = {}
    for (index, _, _), outcome in zip(pending, outcomes, strict=True):
        if isinstance(outcome, ExtensionError):
            failure = MappingFailed(str(outcome))
            failure.code = outcome.code  # 17011E, 17024E, 65001E: the extension's own code
            raise failure from None
        converted[index] = outcome
    return converted


def _apply(
    line: Line,
    values: list[Any],
    to_model: bool,
    source: Mapping | None = None,
    target: Mapping | None = None,
) -> list[Any]:
    """The transform of one line: ``values`` in the order of the source side's fields; ``source``
    and ``target`` are the artifacts an extension sees (the target as far as it is mapped yet)."""
    if _is_extension(line):
        return _extension_lines([(0, line, values)], to_model, source or {}, target or {})[0]
    if to_model:
        sources, targets, names = line.repository_types, line.model_types, line.model_fields
    else:
        sources, targets, names = line.model_types, line.repository_types, line.repository_fields
    params = line.params or {}
    name = names[0] if names else "?"
    if line.transform == "constant":
        return [params.get("value")] * len(targets)
    if line.transform == "join":
        separator = params.get("separator", "\n")
        if len(sources) > 1:  # many → one
            return [separator.join(str(v) for v in values if not V.empty(v))]
        parts = str(values[0] or "").split(separator)
        return [parts[i] if i < len(parts) else "" for i in range(len(targets))]
    if line.transform == "split":
        separator = params.get("separator", "\n")
        if len(sources) == 1:  # one → many
            parts = str(values[0] or "").split(separator)
            return [parts[i] if i < len(parts) else "" for i in range(len(targets))]
        return [separator.join(str(v) for v in values if not V.empty(v))]
    if line.transform == FORMATTED_IDS:  # to the model (the other way is to_repository's, with lookups)
        linked = values[0] if isinstance(values[0], list) else [values[0]]
        return [", ".join(str(v) for v in linked if not V.empty(v))]
    if line.transform == "test_steps":
        parts = dict(params.get("parts") or {})  # model part → repository part
        steps = values[0] or []
        return [test_steps.renamed(steps, {v: k for k, v in parts.items()} if to_model else parts)]
    if line.transform == "container_ref":
        return [_container_ref(values[0], str(params.get("container_type") or ""), to_model, name)]
    if line.transform == "value_map":
        direction = "to_model" if to_model else "to_repository"
        mapped = _value_map(values[0], params.get(direction) or {}, params.get(f"{direction}_default"))
        if sources[0] in ("multi_select",) and targets[0] != "multi_select":
            mapped = mapped[0] if mapped else None
        elif targets[0] == "multi_select" and not isinstance(mapped, list):
            mapped = [] if mapped is None else [mapped]
        return [mapped]
    return [_convert(values[0], sources[0], targets[0], name)]


def to_model(lines: Iterable[Line], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Model values read from a repository artifact's fields (connector Python values). The
    built-in lines map first; then all extension lines run together in one sandbox round trip
    (they see the model as the built-in lines made it); values are set in line order."""
    model: dict[str, Any] = {}
    ordered: list[tuple[int, Line, list[Any] | None]] = []
    pending = []
    for index, line in enumerate(lines):
        if not line.reads or line.transform == "constant" and not line.repository_fields:
            if line.reads:
                ordered.append((index, line, [(line.params or {}).get("value")] * len(line.model_fields)))
            continue
        values = [
            V.to_json(t, fields.get(f))
            for f, t in zip(line.repository_fields, line.repository_types, strict=False)
        ]
        if _is_extension(line):
            pending.append((index, line, values))
            ordered.append((index, line, None))
            continue
        converted = _apply(line, values, True, fields, model)
        ordered.append((index, line, converted))
        model.update(zip(line.model_fields, converted, strict=False))
    by_extension = _extension_lines(pending, True, fields, dict(model)) if pending else {}
    model = {}
    for index, line, converted in ordered:
        model.update(zip(line.model_fields, by_extension.get(index, converted), strict=False))
    return model


# The transforms ``_apply`` gives their own branch; every other one converts the first value.
_OWN_BRANCH = (
    "constant",
    "join",
    "split",
    FORMATTED_IDS,
    "test_steps",
    "value_map",
    "extension",
    "container_ref",
)


def model_reader(lines: Iterable[Line]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``to_model`` of these lines as a function of the fields, for a reader of many artifacts
    through one mapping (the Enterprise Data Stream): what each line does is worked out once,
    not once per artifact, and a conversion between equal types is skipped. The same values as
    ``to_model``; with an extension line among them it is ``to_model`` itself (one sandbox round
    trip per artifact, the built-in lines' model in hand)."""
    lines = list(lines)
    if any(line.reads and _is_extension(line) for line in lines):
        return lambda fields: to_model(lines, fields)
    to_json = V.to_json
    steps: list[tuple] = []  # (repository field, its type, model field, convert or None) or (line,)
    for line in lines:
        if not line.reads:
            continue
        simple = line.transform not in _OWN_BRANCH and line.repository_fields and line.model_fields
        if not simple:
            steps.append((line,))
            continue
        source, target = line.repository_types[0], line.model_types[0]
        same = source == target or (source in TEXT and target in TEXT)
        steps.append((line.repository_fields[0], source, line.model_fields[0], None if same else target))

    def read(fields: Mapping[str, Any]) -> dict[str, Any]:
        model: dict[str, Any] = {}
        for step in steps:
            if len(step) == 4:
                name, source, key, target = step
                value = to_json(source, fields.get(name))
                model[key] = value if target is None else _convert(value, source, target, key)
                continue
            line = step[0]
            if line.transform == "constant" and not line.repository_fields:
                converted = [(line.params or {}).get("value")] * len(line.model_fields)
            else:
                values = [
                    to_json(t, fields.get(f))
                    for f, t in zip(line.repository_fields, line.repository_types, strict=False)
                ]
                converted = _apply(line, values, True, fields, model)
            model.update(zip(line.model_fields, converted, strict=False))
        return model

    return read


def formatted_ids_in(text: Any) -> list[str]:
    """The formatted ids a text names, in order, each once (“Fix WEB-1, see WEB-2”)."""
    return list(dict.fromkeys(FORMATTED_ID.findall(str(text or ""))))


def to_repository(
    lines: Iterable[Line],
    model: Mapping[str, Any],
    only: Iterable[str] | None = None,
    resolve: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Repository fields (connector Python values) to write for the model values; with ``only``,
    just the lines that carry one of those model fields. ``resolve`` turns a formatted id into the
    artifact id a relationship holds (the ``formatted_ids`` transform needs it: without one, such a
    line fails rather than writing ids the tool would misread)."""
    wanted = None if only is None else set(only)
    fields: dict[str, Any] = {}
    # Each written line in order: (index, line, JSON values to convert, or the connector values of a
    # formatted-id line, or None for an extension line still to run).
    ordered: list[tuple[int, Line, list[Any] | dict[str, Any] | None]] = []
    pending = []
    for index, line in enumerate(lines):
        if not line.writes or not line.repository_fields:
            continue
        if wanted is not None and not wanted.intersection(line.model_fields):
            continue
        values = [model.get(k) for k in line.model_fields]
        if line.transform == FORMATTED_IDS:
            if resolve is None:
                raise MappingFailed(
                    f"“{line.repository_fields[0]}”: formatted ids can only be looked up by the Gateway."
                )
            ids = [resolve(formatted) for formatted in formatted_ids_in(values[0])]
            single = line.repository_types[0] == "relationship"
            direct = {line.repository_fields[0]: (ids[0] if ids else None) if single else ids}
            ordered.append((index, line, direct))
            fields.update(direct)
            continue
        if _is_extension(line):
            pending.append((index, line, values))
            ordered.append((index, line, None))
            continue
        converted = _apply(line, values, False, model, fields)
        ordered.append((index, line, converted))
        fields.update(_repository_values(line, converted))
    if not pending:
        return fields
    by_extension = _extension_lines(pending, False, model, dict(fields))
    fields = {}
    for index, line, converted in ordered:
        if isinstance(converted, dict):
            fields.update(converted)
        else:
            fields.update(_repository_values(line, by_extension.get(index, converted)))
    return fields


def _repository_values(line: Line, converted: list[Any]) -> dict[str, Any]:
    return {
        name: V.from_json(kind, value)
        for name, kind, value in zip(line.repository_fields, line.repository_types, converted, strict=False)
    }
