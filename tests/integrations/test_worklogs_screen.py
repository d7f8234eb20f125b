"""The Worklogs (Time Tracking) section of a Time Tracking integration's page: the flow and the
Time Entry Filtering per direction are saved into the Time Entries field's flow, and what the
validator would block is refused with its catalog code on the field at fault."""

import dataclasses

import pytest
from django.urls import reverse

from connectors.local.connector import LocalConnector
from hub.models import ConfigurationChange
from integrations.models import FieldMapping, Integration, ModelField
from tests.engine.time_tracking import time_tracking
from tests.integrations.test_api import api  # noqa: F401 - fixture


@pytest.fixture
def tracking(integration):
    return time_tracking(integration, flow="a_to_b")


def save(client, integration, **fields):
    url = reverse("integration-worklogs", args=[integration.pk])
    return client.post(url, {"flow": "both", **fields}, follow=True)


def test_the_page_of_a_time_tracking_integration_shows_its_worklogs_section(admin_client, tracking):
    page = admin_client.get(reverse("integration-edit", args=[tracking.pk])).content.decode()
    assert "Worklogs (Time Tracking)" in page and 'id="worklogs-form"' in page
    assert "Only these activities A → B" in page


def test_the_flow_and_the_filtering_of_each_direction_are_saved(admin_client, tracking):
    response = save(admin_client, tracking, activities_a_to_b="testing, design", since_b_to_a="2026-11-01")
    assert "Worklogs saved." in response.content.decode()
    tracking.refresh_from_db()
    assert tracking.field_flows["worklogs"] == {
        "flow": "both",
        "filter": {
            "a_to_b": {"activities": ["testing", "design"]},
            "b_to_a": {"activities": [], "since": "2026-11-01"},
        },
    }
    assert tracking.field_flows["title"]  # the other fields' flows are left as they were
    assert ConfigurationChange.objects.filter(element_type="integration", element_name=tracking.name).exists()


def test_filtering_from_a_source_that_cannot_filter_is_refused_with_50012E_on_that_direction(
    admin_client, tracking, monkeypatch
):
    unfiltered = dataclasses.replace(LocalConnector.time_entry_capabilities, filtering=False)
    monkeypatch.setattr(LocalConnector, "time_entry_capabilities", unfiltered)
    response = save(admin_client, tracking, activities_b_to_a="testing")
    form = response.context["worklogs"]
    assert "CCRRTT-50012E" in " ".join(form.errors["activities_b_to_a"])
    tracking.refresh_from_db()
    assert tracking.field_flows["worklogs"] == {"flow": "a_to_b"}  # nothing saved


def test_a_collection_that_does_not_map_the_time_entries_field_is_refused_with_50010E(admin_client, tracking):
    FieldMapping.objects.filter(collection=tracking.collection_b, model_fields=["worklogs"]).delete()
    form = save(admin_client, tracking).context["worklogs"]
    assert "CCRRTT-50010E" in " ".join(form.errors["flow"]) and "Beta defects" in " ".join(
        form.errors["flow"]
    )


def test_a_target_that_cannot_file_under_another_worker_saves_with_the_50011W_warning(
    admin_client, tracking, monkeypatch
):
    limited = dataclasses.replace(LocalConnector.time_entry_capabilities, other_worker=False)
    monkeypatch.setattr(LocalConnector, "time_entry_capabilities", limited)
    page = save(admin_client, tracking).content.decode()
    assert "Worklogs saved." in page and "CCRRTT-50011W" in page
    tracking.refresh_from_db()
    assert tracking.field_flows["worklogs"]["flow"] == "both"


def test_a_model_without_a_time_entries_field_shows_50009E_instead_of_the_form(admin_client, integration):
    integration.style = Integration.Style.TIME_TRACKING
    integration.save()
    page = admin_client.get(reverse("integration-edit", args=[integration.pk])).content.decode()
    assert "CCRRTT-50009E" in page and 'id="worklogs-form"' not in page


def test_a_viewer_cannot_change_the_worklogs(viewer_client, tracking):
    response = viewer_client.post(reverse("integration-worklogs", args=[tracking.pk]), {"flow": "both"})
    assert response.status_code == 403
    tracking.refresh_from_db()
    assert tracking.field_flows["worklogs"] == {"flow": "a_to_b"}


# --- the same setting through the REST API (it is part of the integration's field_flows) ----------


def test_the_api_refuses_a_time_entry_filtering_it_cannot_read_with_50012E_on_field_flows(api, tracking):  # noqa: F811
    path = f"/integrations/{tracking.pk}/"
    flows = {**tracking.field_flows, "worklogs": {"flow": "both", "filter": {"a_to_b": {"since": "soon"}}}}
    response = api.patch(path, {"field_flows": flows})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "CCRRTT-50012E" and "a_to_b cannot be read" in body["errors"]["field_flows"][0]
    flows["worklogs"]["filter"] = {"a_to_b": {"activities": ["testing"], "since": "2026-11-01"}}
    assert api.patch(path, {"field_flows": flows}).status_code == 200
    tracking.refresh_from_db()
    assert tracking.field_flows["worklogs"]["filter"]["a_to_b"]["since"] == "2026-11-01"


# --- Test Step Flow: the parts of a step that flow ------------------------------------------------


@pytest.fixture
def with_steps(integration):
    ModelField.objects.create(
        model=integration.collection_a.model, key="steps", label="Steps", type="test_steps", position=8
    )
    integration.field_flows = {**integration.field_flows, "steps": "both"}
    integration.save()
    return integration


def test_the_test_step_flow_section_saves_the_parts_and_keeps_the_direction(admin_client, with_steps):
    page = admin_client.get(reverse("integration-edit", args=[with_steps.pk])).content.decode()
    assert "Parts of “Steps” that flow" in page
    url = reverse("integration-test-step-flow", args=[with_steps.pk])
    response = admin_client.post(url, {"steps": ["step", "expected_result"]}, follow=True)
    assert "Test step flow saved." in response.content.decode()
    with_steps.refresh_from_db()
    assert with_steps.field_flows["steps"] == {"flow": "both", "parts": ["step", "expected_result"]}
    admin_client.post(url, {"steps": ["step", "expected_result", "actual_result"]})
    with_steps.refresh_from_db()
    assert with_steps.field_flows["steps"] == {"flow": "both"}  # every part: the whole step flows


def test_a_test_step_flow_without_any_part_is_refused_with_50014E_on_its_field(admin_client, with_steps):
    url = reverse("integration-test-step-flow", args=[with_steps.pk])
    form = admin_client.post(url, {}).context["test_step_flow"]
    assert "CCRRTT-50014E" in " ".join(form.errors["steps"])
    with_steps.refresh_from_db()
    assert with_steps.field_flows["steps"] == "both"
