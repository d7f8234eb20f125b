"""Field-by-field comparison of both sides with the pair's last synchronized values, and the
conflict decision by strategy. Pure functions: the processor gives model values, gets a plan.

A field is *changed* on a side when its current model value differs from that side's snapshot.
Changed on the source only and flowing source → target: write it. Changed on both sides to
different values: a conflict, decided by the strategy (a side wins) or surfaced as CCRRTT-50002E.
Changed on the target only: nothing here — the target's own activity carries it the other way, so
the target's snapshot keeps its old value for that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

A_TO_B, B_TO_A, BOTH, NONE = "a_to_b", "b_to_a", "both", "none"


class ConflictFailed(Exception):
    """CCRRTT-50002E with both values of each conflicting field shown."""

    code = "CCRRTT-50002E"

    def __init__(self, conflicts: Mapping[str, tuple[Any, Any]], source: str):
        self.conflicts = dict(conflicts)
        target = "B" if source == "A" else "A"
        detail = "; ".join(
            f"“{key}”: {source} has {mine!r}, {target} has {theirs!r}"
            for key, (mine, theirs) in conflicts.items()
        )
        super().__init__(
            "Changed on both sides since the last synchronization, and the strategy is Error upon "
            f"conflict: {detail}"
        )


def flows(flow: str, source: str) -> bool:
    """Whether a field with this flow moves from ``source`` ("A" or "B") to the other side."""
    return flow == BOTH or flow == (A_TO_B if source == "A" else B_TO_A)


@dataclass
class Plan:
    write: dict[str, Any] = field(default_factory=dict)  # model key → source value to write to target
    write_back: dict[str, Any] = field(default_factory=dict)  # conflict won by the target: to source
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key → (source, target)
    decided: dict[str, tuple[Any, Any, str]] = field(default_factory=dict)  # key → (source, target, winner)

    @property
    def empty(self) -> bool:
        return not self.write and not self.write_back


def plan_update(
    *,
    source: str,
    source_model: Mapping[str, Any],
    source_snapshot: Mapping[str, Any],
    target_model: Mapping[str, Any],
    target_snapshot: Mapping[str, Any],
    field_flows: Mapping[str, str],
    strategy: str,
    equivalent=lambda key, source_value, target_value: source_value == target_value,
    view=lambda key, value: value,
) -> Plan:
    """What to write for an activity whose source side is ``source``.

    ``equivalent`` says whether a source value and a target value mean the same (person and
    relationship ids differ per repository; the processor translates them). ``view`` is the part of
    a value that flows (a Test Step Flow's parts, test_step_flow.StepParts): only that part counts as
    a change, on either side. Raises ConflictFailed
    when the strategy is ``error`` (or not set) and some field conflicts.
    """
    plan = Plan()
    target = "B" if source == "A" else "A"
    only_target: dict[str, Any] = {}  # changed on the target alone, flowing to the source
    for key, flow in field_flows.items():
        if key not in source_model:
            continue
        source_value, target_value = source_model.get(key), target_model.get(key)
        source_changed = view(key, source_value) != view(key, source_snapshot.get(key, _MISSING))
        target_changed = view(key, target_value) != view(key, target_snapshot.get(key, _MISSING))
        if not source_changed:
            if target_changed and flows(flow, target) and not equivalent(key, source_value, target_value):
                only_target[key] = target_value
            continue
        if not flows(flow, source):
            continue
        if equivalent(key, view(key, source_value), view(key, target_value)):
            continue  # already the same: nothing to write (and no conflict)
        if not target_changed or not flows(flow, target):
            plan.write[key] = source_value
            continue
        winner = {"a_wins": "A", "b_wins": "B"}.get(strategy)
        if winner == source:
            plan.write[key] = source_value
            plan.decided[key] = (source_value, target_value, winner)
        elif winner == target:
            plan.write_back[key] = target_value
            plan.decided[key] = (source_value, target_value, winner)
        else:
            plan.conflicts[key] = (source_value, target_value)
    if plan.conflicts:
        raise ConflictFailed(plan.conflicts, source)
    if plan.write_back:
        # Hub writes to the source anyway: the target's other changes go in the same write, rather
        # than in a second write by the target's own activity (two journals for one change there).
        plan.write_back = {**only_target, **plan.write_back}
    return plan


def record(activity, source: str, strategy: str, decided: Mapping[str, tuple[Any, Any, str]]) -> None:
    """Put the conflict decisions of this activity on it (the caller saves it): for each field both
    values, by side, and the side that won — "" when none did and the activity fails with
    CCRRTT-50002E. Called wherever a conflict is decided, so that "A wins" overwriting a change
    made on B leaves a trace the Activity screen can filter on and pair details show."""
    activity.conflicts = [
        {
            "field": key,
            "a": source_value if source == "A" else target_value,
            "b": target_value if source == "A" else source_value,
            "winner": winner,
            "strategy": strategy,
        }
        for key, (source_value, target_value, winner) in decided.items()
    ]
    winners = {winner for _, _, winner in decided.values()}
    activity.conflict = (winners.pop() or "none") if winners else ""


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def normalized_flows(field_flows: Mapping[str, Any], model: Mapping[str, Any]) -> dict[str, str]:
    """Field flows as ``{key: flow}``, a conditional flow counting only when its condition holds for
    the source's model values (``{"flow": …, "condition": {field, operator, value}}``)."""
    from integrations.engine.routing import condition_holds

    result = {}
    for key, value in (field_flows or {}).items():
        if isinstance(value, dict):
            condition = value.get("condition")
            if condition and not condition_holds(condition, model):
                continue
            value = value.get("flow", NONE)
        result[key] = value or NONE
    return result
