"""Test steps in the connector SDK: the ordered steps of a test case, each with the step itself,
its expected result and its actual result. A connector with test steps offers a field of type
``FieldType.TEST_STEPS`` whose value in ``Artifact.fields`` is a list of ``dict``s keyed by the parts
of its test step schema (``Connector.test_step_schema``), in step order. They flow like any field
value: an edit of one step or a new order changes the list, and the whole list is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# The parts of a step in the test step model every collection maps to.
TEST_STEP_PARTS = ("step", "expected_result", "actual_result")


def normalized(steps: Any, parts: Sequence[str] = TEST_STEP_PARTS) -> list[dict[str, str]]:
    """``steps`` as a list of ``{part: text}`` with every part present (missing parts empty).
    Raises ValueError naming the step that is not an object of texts, or an unknown part."""
    if steps in (None, ""):
        return []
    if not isinstance(steps, list | tuple):
        raise ValueError("test steps are a list of steps")
    found = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, Mapping):
            raise ValueError(f"step {number} is not an object of {', '.join(parts)}")
        unknown = sorted(set(step) - set(parts))
        if unknown:
            raise ValueError(f"step {number} has no part {', '.join(unknown)} (parts: {', '.join(parts)})")
        if not all(isinstance(step.get(part) or "", str) for part in parts):
            raise ValueError(f"step {number}: every part is text")
        found.append({part: step.get(part) or "" for part in parts})
    return found


def renamed(steps: Iterable[Mapping[str, str]], parts: Mapping[str, str]) -> list[dict[str, str]]:
    """Each step with its parts renamed by ``parts`` (old name → new name); parts not named are left out."""
    return [{new: step.get(old, "") for old, new in parts.items()} for step in steps]


def mapping_problem(parts: Mapping[str, str], repository_schema: Sequence[str]) -> str:
    """Why a test step mapping (model part → repository part) disagrees with the repository's test
    step schema and the test step model: "" when it agrees (CCRRTT-17028E otherwise)."""
    if not isinstance(parts, Mapping) or not parts:
        return "maps no part of a step"
    for model_part, repository_part in parts.items():
        if model_part not in TEST_STEP_PARTS:
            return f"maps “{model_part}”, which the test step model has not ({', '.join(TEST_STEP_PARTS)})"
        if repository_part not in repository_schema:
            return (
                f"maps “{model_part}” to “{repository_part}”, which the repository's test step schema has "
                f"not ({', '.join(repository_schema) or 'no parts'})"
            )
    if len(set(parts.values())) != len(parts):
        return "maps two parts of the model to the same part of the repository"
    return ""
