"""The Activity screen in Debian's Chromium against the real HTTPS server: filter failed activities,
open details, retry one, ignore one, stop ignoring, delete a pair — and the banner counts follow."""

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.support.screenshots import screenshot
from tests.support.server import REPO, start_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"

SEED = """
import django
django.setup()
from django.contrib.auth import get_user_model
from hub.roles import set_role
from tests.activity import factories
user = get_user_model().objects.create_user("ada", password=%r)
set_role(user, "administrator")
factories.activities(40, "failed", integration_id=1)
factories.activities(5, "failed", start=900, integration_id=2, summary="Checkout <b>broken</b>")
factories.activities(30, "completed", start=1000)
factories.pairs(12)
"""


@pytest.fixture
def hub(tmp_path, server_database):
    home = tmp_path / "home"
    server = start_hub(home, server_database)
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("HUB_", "PYTEST"))}
    environment.update(
        HUB_HOME=str(home),
        HUB_DATABASE_URL=server_database.url,
        DJANGO_SETTINGS_MODULE="hub.settings",
        PYTHONPATH=str(REPO),
    )
    subprocess.run([sys.executable, "-c", SEED % PASSWORD], cwd=REPO, env=environment, check=True)
    yield server
    server.stop()


def sign_in(page, hub):
    page.goto(hub.url + "/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("signed-in-user")).to_have_text("ada")


def test_failed_activities_retry_ignore_stop_ignoring_and_delete_a_pair(hub, page):
    sign_in(page, hub)
    page.goto(hub.url + "/activity/activities/failed/")
    failed = page.get_by_test_id("count-activities-failed")
    expect(failed).to_have_text("45 Failed")
    expect(page.get_by_test_id("result")).to_have_text("Result 1 - 25 of 45")

    # Filter: only integration 2's failures; the summary's markup shows as text.
    page.select_option("#id_integration", "2")
    page.click("#filters button[type=submit]")
    expect(page.get_by_test_id("result")).to_have_text("Result 1 - 5 of 5")
    expect(page).to_have_url(re.compile(r"integration=2"))
    rows = page.get_by_test_id("activity-row")
    expect(rows.first).to_contain_text("Checkout <b>broken</b>")

    # Details: related elements expand in place.
    first = rows.first
    first.locator("details.related summary").click()
    expect(first.locator("details.related")).to_contain_text("Source collection: Jira Bugs")

    # Retry one: its row says it is due now; it stays failed, so the count does not move.
    first.locator("[data-action=retry]").click()
    expect(first).to_contain_text("Scheduled for processing as soon as possible.")
    expect(page.get_by_test_id("action-result")).to_have_text("1 activity scheduled for retry now.")

    # Ignore another: the failed count drops and the ignored count rises without reloading.
    second = rows.nth(1)
    second.locator("[data-action=ignore]").click()
    expect(second.get_by_test_id("activity-status")).to_have_text("Ignored")
    expect(page.get_by_test_id("count-activities-failed")).to_have_text("44 Failed")
    expect(page.get_by_test_id("count-activities-ignored")).to_have_text("1 Ignored")
    expect(page.get_by_test_id("result")).to_have_text("Result 1 - 5 of 5")  # the list stays put

    screenshot(page, "activity")

    # Stop ignoring it from the Ignored tab.
    page.click(".subtabs >> text=Ignored")
    ignored = page.get_by_test_id("activity-row")
    expect(ignored).to_have_count(1)
    ignored.first.locator("[data-action=stop-ignoring]").click()
    expect(ignored.first.get_by_test_id("activity-status")).to_have_text("Failed")
    expect(page.get_by_test_id("count-activities-failed")).to_have_text("45 Failed")
    expect(page.get_by_test_id("count-activities-ignored")).to_have_text("0 Ignored")

    # Delete a pair after confirming.
    page.click("#banner >> text=Artifact pairs")
    expect(page.get_by_test_id("count-pairs")).to_have_text("12 Pairs")
    pair = page.locator("#" + page.get_by_test_id("pair-row").first.get_attribute("id"))
    page.once("dialog", lambda dialog: dialog.accept())
    pair.locator("[data-action=delete]").click()
    expect(pair).to_contain_text("Removed.")
    expect(page.get_by_test_id("count-pairs")).to_have_text("11 Pairs")
    assert page.console_errors == []
