"""Filters and routes: whether an artifact is in scope, and which project of the other side it goes
to. Pure functions over model values and plain route tuples."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations.engine.values import empty


class RouteMissing(Exception):
    """CCRRTT-17019E: no route for the source project in this direction."""

    code = "CCRRTT-17019E"


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        except ValueError:
            return value
    return value


def condition_holds(condition: Mapping[str, Any], model: Mapping[str, Any]) -> bool:
    value = model.get(condition.get("field", ""))
    expected = condition.get("value")
    operator = condition.get("operator")
    if operator == "is_empty":
        return empty(value)
    if operator == "equals":
        if isinstance(value, list):
            return sorted(map(str, value)) == sorted(
                map(str, expected if isinstance(expected, list) else [expected])
            )
        return str(value) == str(expected) if value is not None else empty(expected)
    if operator == "in":
        options = {str(v) for v in (expected if isinstance(expected, list) else [expected])}
        found = value if isinstance(value, list) else [value]
        return any(str(v) in options for v in found if v is not None)
    if operator == "contains":
        if isinstance(value, list):
            return str(expected) in map(str, value)
        return str(expected).lower() in str(value or "").lower()
    if operator in ("before", "after"):
        if empty(value) or empty(expected):
            return False
        left, right = _comparable(str(value)), _comparable(str(expected))
        return left < right if operator == "before" else left > right
    return False


def passes_filters(filters: Mapping[str, Any], model: Mapping[str, Any], *, creating: bool) -> bool:
    """Whether the integration's artifact filters let this artifact through (for a creation, or for
    an update of an existing pair)."""
    conditions = (filters or {}).get("conditions") or []
    if not conditions:
        return True
    applies_to = filters.get("applies_to", "both")
    if applies_to == "creation" and not creating or applies_to == "updates" and creating:
        return True
    results = [condition_holds(c, model) for c in conditions]
    return any(results) if filters.get("combine") == "or" else all(results)


@dataclass(frozen=True)
class RouteRow:
    project_a: str
    project_b: str
    direction: str


def target_project(routes: Iterable[RouteRow], source: str, project: str) -> str:
    """The other side's project for an artifact of ``project`` on side ``source``."""
    for route in routes:
        mine, theirs = (
            (route.project_a, route.project_b) if source == "A" else (route.project_b, route.project_a)
        )
        allowed = route.direction in ("both", "a_to_b" if source == "A" else "b_to_a")
        if mine == project and allowed:
            return theirs
    raise RouteMissing(f"No route takes project “{project}” of side {source} to the other side.")
