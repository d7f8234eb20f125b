"""Test Step Flow: the parts of a test step that flow between the sides.

A Test Steps field's flow may name its parts (``{"flow": "both", "parts": ["step",
"expected_result"]}``, validated with CCRRTT-50014E). Only those parts are compared and written; the
parts not named are each side's own, kept in the target by position (the twin's step 1 keeps its
actual result when the source's step 1 changes its text). The list's shape — steps added, removed,
reordered — goes with the step text: it flows when ``step`` is among the parts. Without ``step`` a
side only fills its parts into the steps the other side already has (a test run's actual results
written back to the test definition's steps), and never adds or removes one; a twin with no steps
yet gets the source's steps, so that a new twin is not empty. Without ``parts`` every part flows and
the whole list is written, as for any field value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.test_steps import TEST_STEP_PARTS

TEST_STEPS_TYPE = "test_steps"


class StepParts:
    """The Test Step Flow of one integration: which parts of which Test Steps fields flow."""

    def __init__(self, field_flows: Mapping[str, Any], model_types: Mapping[str, str]):
        self.parts: dict[str, tuple[str, ...]] = {}
        for key, setting in (field_flows or {}).items():
            if model_types.get(key) != TEST_STEPS_TYPE or not isinstance(setting, dict):
                continue
            parts = setting.get("parts")
            if isinstance(parts, list) and parts and set(parts) <= set(TEST_STEP_PARTS):
                self.parts[key] = tuple(part for part in TEST_STEP_PARTS if part in parts)

    def view(self, key: str, value: Any) -> Any:
        """What of ``value`` flows: each step's flowing parts (the whole value for other fields)."""
        parts = self.parts.get(key)
        if parts is None or not isinstance(value, list):
            return value
        return [{part: (step or {}).get(part, "") for part in parts} for step in value]

    def merged(self, values: Mapping[str, Any], twin: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` to write, with each Test Steps field's parts that do not flow taken from the
        twin's steps (``twin``: the model values of the side written to)."""
        result = dict(values)
        for key, parts in self.parts.items():
            if key in result:
                result[key] = merge_steps(result[key] or [], twin.get(key) or [], parts)
        return result


def merge_steps(source: Sequence[Mapping[str, str]], twin: Sequence[Mapping[str, str]], parts) -> list[dict]:
    """The twin's steps after the source's flowing ``parts`` were written into them."""
    shape_flows = "step" in parts or not twin
    count = len(source) if shape_flows else len(twin)
    steps = []
    for number in range(count):
        own = dict(twin[number]) if number < len(twin) else {part: "" for part in TEST_STEP_PARTS}
        if number < len(source):
            own.update({part: source[number].get(part, "") for part in parts})
        steps.append({part: own.get(part, "") for part in TEST_STEP_PARTS})
    return steps
