"""Validation of the Time Tracking style and of Test Step Flow: the codes the error catalog gives
them (CCRRTT-50009E–50012E, 50014E), as ``(detail, code, message, links)`` for
``integrations.validation``. The engine side is ``integrations.engine.time_entries``."""

from __future__ import annotations

from connectors.test_steps import TEST_STEP_PARTS
from connectors.time_entries import TimeEntryFilter
from integrations.models import Integration

DIRECTIONS = (("a_to_b", "A", "B"), ("b_to_a", "B", "A"))


def _links(integration, collection=None) -> list[dict]:
    from integrations.validation import _integration_link, _mapping_link

    return [_integration_link(integration)] + ([_mapping_link(collection)] if collection is not None else [])


def _time_capabilities(collection):
    from integrations.validation import _connector_class

    connector = _connector_class(collection.repository.kind)
    return connector.time_entry_capabilities if connector is not None else None


def _setting(integration: Integration, key: str) -> dict:
    value = (integration.field_flows or {}).get(key)
    return value if isinstance(value, dict) else {"flow": value or Integration.Flow.NONE}


def problems(integration: Integration, ctx) -> list[tuple[str, str, str, list[dict]]]:
    found = []
    a = ctx.collections.get(integration.collection_a_id)
    b = ctx.collections.get(integration.collection_b_id)
    collections = {"A": a, "B": b}
    model_fields = ctx.model_fields(a.model_id if a else None)
    if a is None or not model_fields:
        return found
    keys = [key for key, f in model_fields.items() if f.type == "time_entries"]
    if not keys:
        found.append(
            (
                "model",
                "CCRRTT-50009E",
                f"uses the model “{a.model}”, which has no field of type Time Entries to carry worklogs",
                _links(integration),
            )
        )
        return found
    key = keys[0]
    for side, collection in collections.items():
        if collection is not None and not any(key in m.model_fields for m in collection.mappings.all()):
            found.append(
                (
                    f"mapping:{side}",
                    "CCRRTT-50010E",
                    f"needs collection {side} “{collection.name}” to map a field to the model's Time "
                    f"Entries field “{key}”",
                    _links(integration, collection),
                )
            )
    setting = _setting(integration, key)
    flow = setting.get("flow")
    for direction, source_side, target_side in DIRECTIONS:
        source, target = collections[source_side], collections[target_side]
        if flow not in (direction, Integration.Flow.BOTH) or source is None or target is None:
            continue
        target_can = _time_capabilities(target)
        if target_can is not None and target_can.supported and not target_can.other_worker:
            found.append(
                (
                    f"worker:{direction}",
                    "CCRRTT-50011W",
                    f"files worklogs in “{target.name}”, whose repository cannot file time under another "
                    "worker: they are filed under the user of its repository connection",
                    _links(integration, target),
                )
            )
        try:
            wanted = TimeEntryFilter.of((setting.get("filter") or {}).get(direction))
        except (ValueError, TypeError, AttributeError) as error:
            found.append(
                (
                    f"filter:{direction}",
                    "CCRRTT-50012E",
                    f"has a Time Entry Filtering from “{source.name}” that cannot be read ({error})",
                    _links(integration),
                )
            )
            continue
        source_can = _time_capabilities(source)
        if wanted is not None and source_can is not None and not source_can.filtering:
            found.append(
                (
                    f"filter:{direction}",
                    "CCRRTT-50012E",
                    f"filters the time entries of “{source.name}”, whose repository cannot filter them: "
                    "turn the Time Entry Filtering of that collection pair off",
                    _links(integration),
                )
            )
    return found


def test_step_flow_problems(
    integration: Integration, model_fields: dict
) -> list[tuple[str, str, str, list[dict]]]:
    """Test Step Flow: the flow of a Test Steps field may name the parts of a step that flow
    (``{"flow": "both", "parts": ["step", "expected_result"]}``); CCRRTT-50014E when it is wrong."""
    found = []
    for key, value in (integration.field_flows or {}).items():
        model_field = model_fields.get(key)
        if not isinstance(value, dict) or "parts" not in value:
            continue
        parts = value.get("parts")
        if model_field is None or model_field.type != "test_steps":
            message = f"gives “{key}” a test step flow, but it is not a Test Steps field of the model"
        elif not isinstance(parts, list) or not parts:
            message = (
                f"lets no part of the test steps of “{key}” flow: name at least one of "
                f"{', '.join(TEST_STEP_PARTS)}"
            )
        elif unknown := [p for p in parts if p not in TEST_STEP_PARTS]:
            message = (
                f"lets the test step part(s) {', '.join(map(str, unknown))} of “{key}” flow, which the test "
                f"step model has not ({', '.join(TEST_STEP_PARTS)})"
            )
        else:
            continue
        found.append((f"test_steps:{key}", "CCRRTT-50014E", message, _links(integration)))
    return found


def test_step_license_problems(
    integration: Integration, model_fields: dict, flows: dict
) -> list[tuple[str, str, str, list[dict]]]:
    """The license gate for test steps: an integration whose field flow moves a Test Steps field
    needs a license that grants test step synchronization (the Advanced edition, or
    ``"test_steps": true``); CCRRTT-64001E otherwise. No usable license at all has its own code."""
    from hub import licensing
    from integrations.validation import flow_of

    keys = [
        key
        for key, value in flows.items()
        if (field := model_fields.get(key)) is not None
        and field.type == "test_steps"
        and flow_of(value)[0] not in ("", None, Integration.Flow.NONE)
    ]
    if not keys:
        return []
    refused = licensing.refusal(licensing.Feature.TEST_STEPS)
    if refused is None or refused.code != licensing.REFUSAL_CODES[licensing.Feature.TEST_STEPS]:
        return []
    shown = ", ".join(f"“{model_fields[key].label or key}”" for key in keys)
    return [
        (
            "license:test_steps",
            refused.code,
            f"synchronizes test steps ({shown}), which the license does not include (test step "
            "synchronization comes with the Advanced edition): set the flow of those fields to none, "
            "disable the integration, or apply a license that includes test steps",
            _links(integration),
        )
    ]
