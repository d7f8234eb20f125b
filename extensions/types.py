"""Field types as extensions declare them (``var inputTypes = ['String', 'Single Select']``), and
values between Hub's model JSON and the forms the guide promises extensions:

=================  ==========================================  ===============================
type               Hub's JSON value                            what the extension sees/returns
=================  ==========================================  ===============================
Single Select      option id                                   the option's label; undefined = empty
Multi Select       list of option ids                          array of labels; [] = none
Rich Text          text in the field's format                  HTML
Web Links          [{url, label}]                              [{label?, location}]
Relationship(s)    artifact id (list)                          {id} (array of them)
Container          the container's artifact id                 {id, summary}; the engine reads the
                                                               summary (transformations.container_summary)
others             as stored (ISO dates, numbers, person ids)  the same
=================  ==========================================  ===============================

Outputs are checked against the declared type; a wrong one is CCRRTT-17024E naming the field.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from extensions.errors import OutputInvalid
from integrations.models.modeling import FieldType

_BY_NAME = {label.lower().replace(" ", ""): value for value, label in FieldType.choices}
_BY_NAME.update({value.replace("_", ""): value for value in FieldType.values})
_BY_NAME["text"] = FieldType.STRING
LABELS = dict(FieldType.choices)


class UnknownType(ValueError):
    pass


def parse_declared(declared: Any, what: str) -> list[str]:
    """``'String'`` or ``['String', 'Long']`` as Hub field types; UnknownType naming the culprit."""
    if declared is None:
        raise UnknownType(f"The script does not declare {what}.")
    names = declared if isinstance(declared, list) else [declared]
    if not names:
        raise UnknownType(f"{what} is empty.")
    types = []
    for name in names:
        key = str(name).lower().replace(" ", "").replace("_", "")
        found = _BY_NAME.get(key) if isinstance(name, str) else None
        if found is None:
            known = ", ".join(f"'{label}'" for label in LABELS.values())
            raise UnknownType(f"{what} names '{name}', which is not a field type; use one of {known}.")
        types.append(str(found))
    return types


def label_of(field_type: str) -> str:
    return str(LABELS.get(field_type, field_type))


@dataclass(frozen=True)
class FieldInfo:
    """What an extension learns about one field: id, label, type, options (id, label) and, for
    rich text in a repository, the format the tool keeps it in."""

    id: str
    label: str
    type: str
    options: Sequence[dict] = field(default_factory=tuple)
    text_format: str = "html"

    def as_context(self) -> dict:
        shown: dict[str, Any] = {"id": self.id, "label": self.label}
        if self.options:
            shown["options"] = [str(o.get("label", o.get("id"))) for o in self.options]
        return shown

    def label_for(self, option_id: Any) -> Any:
        for option in self.options:
            if str(option.get("id")) == str(option_id):
                return str(option.get("label", option_id))
        return str(option_id)

    def id_for(self, label: Any) -> str:
        for option in self.options:
            if str(option.get("label")) == str(label):
                return str(option.get("id"))
        for option in self.options:  # the id itself is accepted as well
            if str(option.get("id")) == str(label):
                return str(option.get("id"))
        offered = ", ".join(f"'{o.get('label')}'" for o in self.options)
        raise OutputInvalid(
            f"The extension returned '{label}' for “{self.label}”, which is not one of its options "
            f"({offered})."
        )


TAG = re.compile(r"<[^>]+>")
BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)


def plain_to_html(text: str) -> str:
    if not text:
        return ""
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"


def html_to_plain(markup: str) -> str:
    return html.unescape(TAG.sub("", BREAK.sub("\n", markup or ""))).strip("\n")


def to_extension(value: Any, info: FieldInfo) -> Any:
    """A Hub JSON value of the field as the extension gets it."""
    kind = info.type
    if kind == FieldType.SINGLE_SELECT:
        return None if value in (None, "") else info.label_for(value)
    if kind == FieldType.MULTI_SELECT:
        return [info.label_for(v) for v in value or []]
    if kind == FieldType.RICH_TEXT:
        if value in (None, ""):
            return value
        return plain_to_html(value) if info.text_format == "plain" else value
    if kind == FieldType.WEB_LINKS:
        return [
            {"label": link.get("label", ""), "location": link.get("url", link.get("location", ""))}
            for link in value or []
        ]
    if kind == FieldType.RELATIONSHIP:
        return None if value in (None, "") else {"id": str(value)}
    if kind == FieldType.RELATIONSHIPS:
        return [{"id": str(v)} for v in value or []]
    if kind == FieldType.CONTAINER:
        return None if value in (None, "") else {"id": str(value), "summary": None}
    return value


def _expect(condition: bool, info: FieldInfo, value: Any, expected: str) -> None:
    if not condition:
        shown = repr(value)
        shown = shown if len(shown) < 80 else shown[:77] + "…"
        raise OutputInvalid(
            f"The extension returned {shown} for “{info.label}” ({info.id}); expected {expected}."
        )


def _relationship_id(value: Any, info: FieldInfo, expected: str = "a relationship {id}") -> str:
    if isinstance(value, dict) and value.get("id") not in (None, ""):
        return str(value["id"])
    _expect(isinstance(value, (str, int)) and not isinstance(value, bool), info, value, expected)
    return str(value)


def from_extension(value: Any, info: FieldInfo, undefined: bool = False) -> Any:
    """What the extension returned for the field as Hub's JSON value, or OutputInvalid (17024E)."""
    kind = info.type
    empty = undefined or value is None
    if kind in (FieldType.STRING, FieldType.RICH_TEXT):
        if empty:
            return ""
        _expect(isinstance(value, str), info, value, f"text ({label_of(kind)})")
        return html_to_plain(value) if kind == FieldType.RICH_TEXT and info.text_format == "plain" else value
    if kind == FieldType.SINGLE_SELECT:
        if empty or value == "":
            return None
        _expect(isinstance(value, str), info, value, "an option label (Single Select)")
        return info.id_for(value) if info.options else value
    if kind == FieldType.MULTI_SELECT:
        if empty:
            return []
        _expect(
            isinstance(value, list) and all(isinstance(v, str) for v in value),
            info,
            value,
            "an array of option labels (Multi Select)",
        )
        return sorted({info.id_for(v) if info.options else v for v in value})
    if kind == FieldType.BOOLEAN:
        _expect(empty or isinstance(value, bool), info, value, "true or false (Boolean)")
        return bool(value)
    if kind == FieldType.LONG:
        if empty:
            return None
        _expect(
            isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer(),
            info,
            value,
            "a whole number (Long)",
        )
        return int(value)
    if kind in (FieldType.DOUBLE, FieldType.DURATION):
        if empty:
            return None
        _expect(
            isinstance(value, (int, float)) and not isinstance(value, bool),
            info,
            value,
            f"a number ({label_of(kind)})",
        )
        return int(value) if kind == FieldType.DURATION else float(value)
    if kind in (FieldType.DATE, FieldType.DATE_TIME):
        if empty or value == "":
            return None
        pattern = r"^\d{4}-\d{2}-\d{2}$" if kind == FieldType.DATE else r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"
        _expect(
            isinstance(value, str) and re.match(pattern, value) is not None,
            info,
            value,
            f"an ISO 8601 {'date (2024-05-31)' if kind == FieldType.DATE else 'date time'}",
        )
        return value
    if kind == FieldType.PERSON:
        if empty or value == "":
            return None
        _expect(isinstance(value, (str, int)) and not isinstance(value, bool), info, value, "a person id")
        return str(value)
    if kind == FieldType.PERSONS:
        if empty:
            return []
        _expect(isinstance(value, list), info, value, "an array of person ids (Persons)")
        return sorted(str(v) for v in value if v not in (None, ""))
    if kind == FieldType.WEB_LINKS:
        if empty:
            return []
        _expect(isinstance(value, list), info, value, "an array of web links {label?, location}")
        links = []
        for link in value:
            _expect(
                isinstance(link, dict) and isinstance(link.get("location"), str) and link["location"],
                info,
                link,
                "a web link {label?, location}",
            )
            links.append({"url": link["location"], "label": str(link.get("label") or "")})
        return links
    if kind == FieldType.RELATIONSHIP:
        return None if empty else _relationship_id(value, info)
    if kind == FieldType.CONTAINER:
        # A container ({id, summary}, from artifacts.toContainer / getAssociatedContainer) or a
        # relationship ({id}) stands for the container's artifact; null: the top level.
        return None if empty or value == "" else _relationship_id(value, info, "a container {id, summary}")
    if kind == FieldType.RELATIONSHIPS:
        if empty:
            return []
        _expect(isinstance(value, list), info, value, "an array of relationships")
        return sorted(_relationship_id(v, info) for v in value)
    if kind == FieldType.COMMENTS:
        if empty:
            return []
        _expect(
            isinstance(value, list) and all(isinstance(c, dict) for c in value),
            info,
            value,
            "an array of comment objects",
        )
        return value
    return value


def outputs(result_value: Any, undefined: bool, infos: Sequence[FieldInfo]) -> list[Any]:
    """The extension's result as one Hub value per target field (an array for several)."""
    if len(infos) == 1:
        return [from_extension(result_value, infos[0], undefined)]
    if undefined or result_value is None:
        return [from_extension(None, info, True) for info in infos]
    if not isinstance(result_value, list) or len(result_value) != len(infos):
        names = ", ".join(f"“{i.label}”" for i in infos)
        raise OutputInvalid(
            f"The extension must return an array of {len(infos)} values (for {names}); it returned "
            f"{str(result_value)[:80]!s}."
        )
    return [from_extension(value, info) for value, info in zip(result_value, infos, strict=True)]
