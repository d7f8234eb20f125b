"""What an administrator sees when a Time Tracking integration, a time entry or test step mapping,
or a Test Step Flow is set up wrongly: each problem with its catalog code, naming what to fix."""

import dataclasses

import pytest

from activity.blockers import blocks_integration
from connectors.local.connector import LocalConnector
from integrations import validation
from integrations.models import FieldMapping, Integration, ModelField
from tests.engine.time_tracking import map_time_entries, time_tracking


def codes(integration=None) -> dict[str, str]:
    found = validation.validate()
    return {p.code: p.message for p in found if integration is None or integration.pk in p.integration_ids}


@pytest.fixture
def tracking(integration):
    return time_tracking(integration)


def test_a_well_set_up_time_tracking_integration_has_no_problem(tracking):
    assert not {code for code in codes(tracking) if code.startswith("CCRRTT-500")}
    assert "CCRRTT-17029E" not in codes()


def test_a_model_without_a_time_entries_field_raises_50009E(integration):
    integration.style = Integration.Style.TIME_TRACKING
    integration.save()
    assert "has no field of type Time Entries" in codes(integration)["CCRRTT-50009E"]


def test_a_collection_that_does_not_map_the_time_entries_field_raises_50010E(tracking):
    FieldMapping.objects.filter(collection=tracking.collection_b, model_fields=["worklogs"]).delete()
    message = codes(tracking)["CCRRTT-50010E"]
    assert "collection B “Beta defects”" in message and "“worklogs”" in message


def test_a_target_that_cannot_file_under_another_worker_warns_50011W_and_still_runs(tracking, monkeypatch):
    limited = dataclasses.replace(LocalConnector.time_entry_capabilities, other_worker=False)
    monkeypatch.setattr(LocalConnector, "time_entry_capabilities", limited)
    assert "filed under the user of its repository connection" in codes(tracking)["CCRRTT-50011W"]
    assert not blocks_integration(tracking.pk)


def test_time_entry_filtering_from_a_source_that_cannot_filter_raises_50012E(integration, monkeypatch):
    tracking = time_tracking(integration, filter={"a_to_b": {"activities": ["testing"]}})
    assert "CCRRTT-50012E" not in codes(tracking)
    unfiltered = dataclasses.replace(LocalConnector.time_entry_capabilities, filtering=False)
    monkeypatch.setattr(LocalConnector, "time_entry_capabilities", unfiltered)
    assert "turn the Time Entry Filtering of that collection pair off" in codes(tracking)["CCRRTT-50012E"]
    assert blocks_integration(tracking.pk)


def test_time_entries_mapped_to_another_kind_of_field_raise_17029E(tracking):
    line = FieldMapping.objects.get(collection=tracking.collection_a, model_fields=["worklogs"])
    line.repository_fields, line.repository_field_types = ["summary"], {"summary": "string"}
    line.save()
    assert "time entries map only to a model field of their own type" in codes()["CCRRTT-17029E"]


def test_a_test_step_mapping_naming_a_part_the_repository_has_not_raises_17028E(collections):
    a, _ = collections
    ModelField.objects.create(model=a.model, key="steps", label="Steps", type="test_steps", position=8)
    FieldMapping.objects.create(
        collection=a,
        repository_fields=["test_steps"],
        repository_field_types={"test_steps": "test_steps"},
        model_fields=["steps"],
        model_field_types={"steps": "test_steps"},
        transform="test_steps",
        params={"parts": {"step": "step", "expected_result": "outcome"}},
    )
    assert "“outcome”, which the repository's test step schema has not" in codes()["CCRRTT-17028E"]


def test_a_test_step_flow_naming_an_unknown_part_raises_50014E(integration):
    ModelField.objects.create(
        model=integration.collection_a.model, key="steps", label="Steps", type="test_steps", position=8
    )
    integration.field_flows = {
        **integration.field_flows,
        "steps": {"flow": "both", "parts": ["step", "notes"]},
    }
    integration.save()
    assert "part(s) notes of “steps”" in codes(integration)["CCRRTT-50014E"]


def test_mapping_time_entries_again_clears_the_problem(tracking):
    FieldMapping.objects.filter(collection=tracking.collection_b, model_fields=["worklogs"]).delete()
    assert "CCRRTT-50010E" in codes(tracking)
    map_time_entries(tracking.collection_b)
    assert "CCRRTT-50010E" not in codes(tracking)


@pytest.mark.parametrize(
    ("edition", "granted", "refused"),
    [("basic", None, True), ("basic", True, False), ("advanced", None, False), ("advanced", False, True)],
)
def test_test_steps_flowing_under_a_license_without_them_raise_64001E(
    integration, issue, edition, granted, refused
):
    """The edition gate (12.24): test step synchronization comes with the Advanced edition, or with
    a license that says ``"test_steps": true``; otherwise the integration that lets a Test Steps
    field flow is blocked with 64001E, naming the field."""
    from hub import licensing
    from tests.hub.security_fixtures import license_body

    features = license_body()["features"] | ({} if granted is None else {"test_steps": granted})
    licensing.apply(issue(edition=edition, features=features))
    ModelField.objects.create(
        model=integration.collection_a.model, key="steps", label="Steps", type="test_steps", position=8
    )
    integration.field_flows = {**integration.field_flows, "steps": {"flow": "none"}}
    integration.save()
    assert "test steps" not in codes(integration).get("CCRRTT-64001E", "")  # not flowing: no gate

    integration.field_flows = {**integration.field_flows, "steps": {"flow": "both", "parts": ["step"]}}
    integration.save()
    message = codes(integration).get("CCRRTT-64001E", "")
    assert ("synchronizes test steps (“Steps”)" in message) is refused
    if refused:
        assert "Advanced edition" in message and blocks_integration(integration.pk)
