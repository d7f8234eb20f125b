"""A completed activity keeps only what changed (integrations.engine.processing.kept_values), and
the Activity screen shows it as it showed the full form: an absent original is an empty cell."""

import re

import pytest

from integrations.engine.processing import kept_values
from tests.activity import factories

pytestmark = pytest.mark.django_db


def test_a_creation_keeps_the_new_values_without_an_original():
    kept = kept_values({"title": {"original": None, "new": "Crash"}, "details": {"original": "", "new": "x"}})
    assert kept == {"title": {"new": "Crash"}, "details": {"original": "", "new": "x"}}


def test_an_update_keeps_original_and_new():
    assert kept_values({"title": {"original": "Old", "new": "New"}}) == {
        "title": {"original": "Old", "new": "New"}
    }


def value_rows(html: str, field: str) -> list[list[str]]:
    """The Original and New cells of every row of ``field`` in the values tables."""
    return [
        re.findall(r"<td>(.*?)</td>", row) for row in re.findall(rf"<tr><td>{field}</td>(.*?)</tr>", html)
    ]


def test_the_completed_tab_shows_a_created_activity_with_an_empty_original(admin_client):
    created = kept_values({"Summary": {"original": None, "new": "Crash"}})
    factories.activities(1, "completed", result="created", changed_fields=created)
    factories.activities(1, "completed", start=1)  # an update: Summary Old → New
    html = admin_client.get("/activity/activities/completed/").content.decode()
    assert sorted(value_rows(html, "Summary")) == [["", "Crash"], ["Old", "New"]]
