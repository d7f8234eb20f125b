"""Filters and routes: whether an artifact is in scope, and which project of the other side it goes
to. Pure functions over model values and plain route tuples."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations.engine.values import empty


class RoutingFailed(Exception):
    """The artifact has nowhere to go; ``code`` says why."""

    code = ""


class RouteMissing(RoutingFailed):
    """CCRRTT-17019E: no route for the source project in this direction."""

    code = "CCRRTT-17019E"


class NoRouteMatches(RoutingFailed):
    """CCRRTT-17008E: routes leave the project, but the artifact meets none of their conditions."""

    code = "CCRRTT-17008E"


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
    condition: Mapping[str, Any] | None = None  # empty: every artifact of the project

    @classmethod
    def of(cls, route) -> RouteRow:
        """The row of a stored ``integrations.models.Route``."""
        return cls(route.project_a, route.project_b, route.direction, route.condition or None)

    def leaves(self, source: str, project: str) -> bool:
        """Whether artifacts of ``project`` on side ``source`` may take this route."""
        mine = self.project_a if source == "A" else self.project_b
        return mine == project and self.direction in ("both", "a_to_b" if source == "A" else "b_to_a")

    def describe(self, source: str) -> str:
        mine, theirs = (self.project_a, self.project_b) if source == "A" else (self.project_b, self.project_a)
        return f"{mine} → {theirs} {describe_condition(self.condition)}"


def describe_condition(condition: Mapping[str, Any] | None) -> str:
    """How a person reads a route's condition: ``when priority equals high``."""
    if not condition:
        return "always"
    value = condition.get("value")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
    operator = str(condition.get("operator", "")).replace("_", " ")
    return f"when {condition.get('field', '')} {operator}" + ("" if shown in (None, "") else f" {shown}")


def target_project(
    routes: Iterable[RouteRow],
    source: str,
    project: str,
    model: Mapping[str, Any],
    artifact: str = "",
    *,
    ignore_unmatched: bool = False,
) -> str | None:
    """The other side's project for an artifact of ``project`` on side ``source``: the first route
    leaving that project (in the order the administrator gave) whose condition the artifact's model
    values meet. None when it meets none and the integration ignores such artifacts."""
    tried = [route for route in routes if route.leaves(source, project)]
    if not tried:
        raise RouteMissing(f"No route takes project “{project}” of side {source} to the other side.")
    for route in tried:
        if not route.condition or condition_holds(route.condition, model):
            return route.project_b if source == "A" else route.project_a
    if ignore_unmatched:
        return None
    raise NoRouteMatches(
        f"Artifact {artifact or '?'} of project “{project}” (side {source}) meets the condition of none of "
        f"the routes leaving that project; tried in order: {'; '.join(r.describe(source) for r in tried)}."
    )


def unreachable(routes: Iterable[RouteRow]) -> list[tuple[int, int]]:
    """(index of a route, index of an unconditional route before it) for each route that can never
    be chosen: in every direction it allows, that earlier route already takes all its artifacts."""
    routes = list(routes)
    found = []
    for index, route in enumerate(routes):
        shadows = []
        for source in ("A", "B"):
            project = route.project_a if source == "A" else route.project_b
            if route.leaves(source, project):
                shadows.append(
                    next(
                        (
                            i
                            for i, r in enumerate(routes[:index])
                            if not r.condition and r.leaves(source, project)
                        ),
                        None,
                    )
                )
        if shadows and None not in shadows:
            found.append((index, shadows[0]))
    return found
