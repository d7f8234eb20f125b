"""The local tracker's pages for worklogs and test steps: an administrator logs time, changes a
duration, and edits, removes and reorders test steps; a viewer only looks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from connectors.local import service
from connectors.local.models import LocalItem, LocalTimeEntry

STEPS = [
    {"step": "Open", "expected_result": "Form shows", "actual_result": ""},
    {"step": "Submit", "expected_result": "Saved", "actual_result": "Saved"},
]


@pytest.fixture
def test_case(db):
    project = service.create_project(service.tracker("alpha"), "DEMO", "Demo")
    return service.create_item(project, "test_case", {"summary": "Login", "test_steps": STEPS})


def steps_post(rows: list[dict]) -> dict:
    data = {"steps-TOTAL_FORMS": str(len(rows)), "steps-INITIAL_FORMS": "2"}
    for number, row in enumerate(rows):
        data.update({f"steps-{number}-{key}": value for key, value in row.items()})
    return data


def test_an_administrator_logs_time_and_changes_its_duration(admin_client, test_case):
    url = reverse("local_tracker:item-time-entry", args=["alpha", test_case.pk])
    form = {"date": "2026-11-30", "duration": "01:30:00", "activity": "testing", "comment": "exploratory"}
    admin_client.post(url, form)
    entry = LocalTimeEntry.objects.get(item=test_case)
    assert (entry.date, entry.duration, entry.comment) == (
        dt.date(2026, 11, 30),
        dt.timedelta(hours=1.5),
        "exploratory",
    )
    page = admin_client.get(reverse("local_tracker:item", args=["alpha", test_case.pk])).content.decode()
    assert "exploratory" in page and "Testing" in page
    change = reverse("local_tracker:item-time-entry-duration", args=["alpha", test_case.pk, entry.pk])
    admin_client.post(change, {"duration": "02:00:00"})
    assert LocalTimeEntry.objects.get(pk=entry.pk).duration == dt.timedelta(hours=2)


def test_a_zero_duration_is_refused_with_its_reason(admin_client, test_case):
    url = reverse("local_tracker:item-time-entry", args=["alpha", test_case.pk])
    page = admin_client.post(url, {"date": "2026-11-30", "duration": "00:00:00", "activity": "testing"})
    assert "must be a positive duration" in page.content.decode()
    assert not LocalTimeEntry.objects.exists()


def test_the_step_editor_edits_one_step_and_reorders_them(admin_client, test_case):
    url = reverse("local_tracker:item-test-steps", args=["alpha", test_case.pk])
    assert "Form shows" in admin_client.get(url).content.decode()
    rows = [
        {**STEPS[0], "ORDER": "2"},
        {**STEPS[1], "actual_result": "Error 500", "ORDER": "1"},
    ]
    admin_client.post(url, steps_post(rows))
    assert LocalItem.objects.get(pk=test_case.pk).test_steps == [
        {"step": "Submit", "expected_result": "Saved", "actual_result": "Error 500"},
        STEPS[0],
    ]


def test_the_step_editor_removes_a_step(admin_client, test_case):
    url = reverse("local_tracker:item-test-steps", args=["alpha", test_case.pk])
    rows = [{**STEPS[0], "ORDER": "1", "DELETE": "on"}, {**STEPS[1], "ORDER": "2"}]
    admin_client.post(url, steps_post(rows))
    assert LocalItem.objects.get(pk=test_case.pk).test_steps == [STEPS[1]]


def test_a_viewer_cannot_log_time_or_edit_steps(viewer_client, test_case):
    time_url = reverse("local_tracker:item-time-entry", args=["alpha", test_case.pk])
    steps_url = reverse("local_tracker:item-test-steps", args=["alpha", test_case.pk])
    assert viewer_client.post(time_url, {"date": "2026-11-30", "duration": "01:00:00"}).status_code == 403
    assert viewer_client.post(steps_url, steps_post([])).status_code == 403
    assert not LocalTimeEntry.objects.exists()
    assert LocalItem.objects.get(pk=test_case.pk).test_steps == STEPS
