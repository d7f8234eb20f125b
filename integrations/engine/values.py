"""Model values as JSON: what the pair snapshots store and what the comparison compares.

Connectors hand out Python values (``datetime.date``, ``timedelta``, ``WebLink``…); the model keeps
their JSON form, so a value read today compares equal to the same value stored in a snapshot last
week, and a Date stays a calendar day (never a midnight instant shifted by a time zone).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.types import WebLink

LIST_TYPES = ("multi_select", "persons", "relationships", "web_links", "test_steps")


def to_json(field_type: str, value: Any) -> Any:
    if value is None:
        return [] if field_type in LIST_TYPES else None
    if field_type == "date":
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).date().isoformat()
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if field_type == "date_time":
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return str(value)
    if field_type == "duration":
        return int(value.total_seconds()) if isinstance(value, dt.timedelta) else int(value)
    if field_type == "web_links":
        return [
            {"url": link.url, "label": link.label} if isinstance(link, WebLink) else dict(link)
            for link in value
        ]
    if field_type in ("multi_select", "persons", "relationships"):
        return sorted(str(v) for v in value)
    if field_type in ("person", "relationship", "single_select"):
        return str(value)
    return value


def from_json(field_type: str, value: Any) -> Any:
    """The connector's Python value for a model/JSON value."""
    if value is None:
        return [] if field_type in LIST_TYPES else None
    if field_type == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if field_type == "date_time" and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if field_type == "duration" and not isinstance(value, dt.timedelta):
        return dt.timedelta(seconds=int(value))
    if field_type == "web_links":
        return [WebLink(link["url"], link.get("label", "")) for link in value]
    return value


def empty(value: Any) -> bool:
    return value is None or value == "" or value == []
