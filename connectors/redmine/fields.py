"""Redmine issue fields ↔ Hub field values.

Standard fields keep Redmine's attribute names (``subject``, ``status``, ``assigned_to``…);
custom fields are ``cf_<id>``; relations are ``relation_<type>`` (``relation_blocks`` lists the
issues this one blocks, ``relation_blocked`` those that block it). Select option ids are
Redmine's ids as strings, except for list custom fields, whose options are their values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.types import FieldSchema, FieldType, Option, WebLink


@dataclass(frozen=True)
class Standard:
    id: str
    label: str  # Redmine's own label: its validation messages start with it
    type: FieldType
    param: str  # the attribute in a create/update payload ("" = read only)
    required: bool = False


STANDARD = (
    Standard("subject", "Subject", FieldType.STRING, "subject", required=True),
    Standard("description", "Description", FieldType.RICH_TEXT, "description"),
    Standard("status", "Status", FieldType.SINGLE_SELECT, "status_id", required=True),
    Standard("priority", "Priority", FieldType.SINGLE_SELECT, "priority_id", required=True),
    Standard("assigned_to", "Assignee", FieldType.PERSON, "assigned_to_id"),
    Standard("category", "Category", FieldType.SINGLE_SELECT, "category_id"),
    Standard("fixed_version", "Target version", FieldType.SINGLE_SELECT, "fixed_version_id"),
    Standard("parent", "Parent task", FieldType.RELATIONSHIP, "parent_issue_id"),
    Standard("start_date", "Start date", FieldType.DATE, "start_date"),
    Standard("due_date", "Due date", FieldType.DATE, "due_date"),
    Standard("done_ratio", "% Done", FieldType.LONG, "done_ratio"),
    Standard("estimated_hours", "Estimated time", FieldType.DURATION, "estimated_hours"),
    Standard("is_private", "Private", FieldType.BOOLEAN, "is_private"),
    Standard("author", "Author", FieldType.PERSON, ""),
    Standard("created_on", "Created", FieldType.DATE_TIME, ""),
    Standard("updated_on", "Updated", FieldType.DATE_TIME, ""),
    Standard("closed_on", "Closed", FieldType.DATE_TIME, ""),
)
STANDARD_BY_ID = {f.id: f for f in STANDARD}

# relation type as seen from the issue that holds it → the same relation seen from the other end
RELATION_INVERSE = {
    "relates": "relates",
    "duplicates": "duplicated",
    "duplicated": "duplicates",
    "blocks": "blocked",
    "blocked": "blocks",
    "precedes": "follows",
    "follows": "precedes",
    "copied_to": "copied_from",
    "copied_from": "copied_to",
}
RELATION_LABELS = {
    "relates": "Related to",
    "duplicates": "Is duplicate of",
    "duplicated": "Has duplicate",
    "blocks": "Blocks",
    "blocked": "Blocked by",
    "precedes": "Precedes",
    "follows": "Follows",
    "copied_to": "Copied to",
    "copied_from": "Copied from",
}
RELATION_PREFIX = "relation_"

# custom field format → (single type, multiple type); None: Hub cannot write it (shown read only)
CUSTOM_FORMATS: dict[str, tuple[FieldType, FieldType]] = {
    "string": (FieldType.STRING, FieldType.STRING),
    "text": (FieldType.RICH_TEXT, FieldType.RICH_TEXT),
    "int": (FieldType.LONG, FieldType.LONG),
    "float": (FieldType.DOUBLE, FieldType.DOUBLE),
    "date": (FieldType.DATE, FieldType.DATE),
    "bool": (FieldType.BOOLEAN, FieldType.BOOLEAN),
    "list": (FieldType.SINGLE_SELECT, FieldType.MULTI_SELECT),
    "enumeration": (FieldType.SINGLE_SELECT, FieldType.MULTI_SELECT),
    "version": (FieldType.SINGLE_SELECT, FieldType.MULTI_SELECT),
    "user": (FieldType.PERSON, FieldType.PERSONS),
    "link": (FieldType.WEB_LINKS, FieldType.WEB_LINKS),
}


def custom_field_id(cf_id: int | str) -> str:
    return f"cf_{cf_id}"


def parse_time(value: str | None) -> dt.datetime | None:
    """Redmine's ``2026-11-28T21:18:02Z`` (UTC, one-second precision)."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _ref(value: Mapping | None) -> str | None:
    return str(value["id"]) if value else None


def custom_schema(cf: Mapping, options: Sequence[Option]) -> FieldSchema:
    """A custom field as ``/custom_fields.json`` describes it."""
    multiple = bool(cf.get("multiple"))
    single, many = CUSTOM_FORMATS.get(cf["field_format"], (FieldType.STRING, FieldType.STRING))
    known = cf["field_format"] in CUSTOM_FORMATS
    field_type = many if multiple else single
    if cf["field_format"] == "list":
        options = [Option(v["value"], v.get("label") or v["value"]) for v in cf.get("possible_values", [])]
    return FieldSchema(
        id=custom_field_id(cf["id"]),
        label=cf["name"],
        type=field_type,
        required=bool(cf.get("is_required")),
        read_only=not known,
        multi=field_type in (FieldType.MULTI_SELECT, FieldType.PERSONS),
        options=tuple(options),
        person_target=field_type in (FieldType.PERSON, FieldType.PERSONS),
        text_format="plain" if field_type == FieldType.RICH_TEXT else "",
    )


def custom_value_from_redmine(field_type: FieldType, value: Any) -> Any:
    if field_type in (FieldType.MULTI_SELECT, FieldType.PERSONS):
        return [str(v) for v in (value or []) if v != ""]
    if isinstance(value, list):  # a field that became multiple: keep the first
        value = value[0] if value else None
    if value in (None, ""):
        if field_type == FieldType.BOOLEAN:
            return None
        if field_type in (FieldType.STRING, FieldType.RICH_TEXT):
            return ""
        if field_type == FieldType.WEB_LINKS:
            return []
        return None
    match field_type:
        case FieldType.LONG:
            return int(value)
        case FieldType.DOUBLE:
            return float(value)
        case FieldType.DATE:
            return dt.date.fromisoformat(value)
        case FieldType.BOOLEAN:
            return value == "1"
        case FieldType.WEB_LINKS:
            return [WebLink(url=value)]
        case _:
            return str(value)


def custom_value_to_redmine(field_type: FieldType, value: Any) -> Any:
    if field_type in (FieldType.MULTI_SELECT, FieldType.PERSONS):
        return [str(v) for v in (value or [])]
    if value is None:
        return ""
    match field_type:
        case FieldType.BOOLEAN:
            return "1" if value else "0"
        case FieldType.DATE:
            return value.isoformat()
        case FieldType.WEB_LINKS:
            return value[0].url if value else ""
        case _:
            return str(value)


def standard_values(issue: Mapping) -> dict[str, Any]:
    hours = issue.get("estimated_hours")
    return {
        "subject": issue.get("subject") or "",
        "description": issue.get("description") or "",
        "status": _ref(issue.get("status")),
        "priority": _ref(issue.get("priority")),
        "assigned_to": _ref(issue.get("assigned_to")),
        "category": _ref(issue.get("category")),
        "fixed_version": _ref(issue.get("fixed_version")),
        "parent": _ref(issue.get("parent")),
        "start_date": _date(issue.get("start_date")),
        "due_date": _date(issue.get("due_date")),
        "done_ratio": issue.get("done_ratio"),
        "estimated_hours": dt.timedelta(hours=hours) if hours is not None else None,
        "is_private": bool(issue.get("is_private")),
        "author": _ref(issue.get("author")),
        "created_on": parse_time(issue.get("created_on")),
        "updated_on": parse_time(issue.get("updated_on")),
        "closed_on": parse_time(issue.get("closed_on")),
    }


def standard_param(field: Standard, value: Any) -> Any:
    """A Hub value as the create/update payload wants it."""
    if value is None:
        return ""  # Redmine clears an attribute given as empty
    match field.type:
        case FieldType.DATE:
            return value.isoformat()
        case FieldType.DURATION:
            return round(value.total_seconds() / 3600, 4)
        case FieldType.BOOLEAN | FieldType.LONG:
            return value
        case _:
            return str(value)


def relation_values(issue_id: int, relations: Sequence[Mapping]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {RELATION_PREFIX + kind: [] for kind in RELATION_INVERSE}
    for rel in relations:
        if rel["issue_id"] == issue_id:
            kind, other = rel["relation_type"], rel["issue_to_id"]
        else:
            kind, other = RELATION_INVERSE[rel["relation_type"]], rel["issue_id"]
        values.setdefault(RELATION_PREFIX + kind, []).append(str(other))
    return {k: sorted(v, key=int) for k, v in values.items()}


def relation_schema() -> list[FieldSchema]:
    return [
        FieldSchema(id=RELATION_PREFIX + kind, label=label, type=FieldType.RELATIONSHIPS, multi=True)
        for kind, label in RELATION_LABELS.items()
    ]
