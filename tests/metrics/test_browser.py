"""The Metrics screen in Debian's Chromium against the real HTTPS server: the figures, a change of
date range and of filter (the figures reload in place), the User Count with its report and a
configuration change, and the Support and Usage Report download."""

import io
import os
import re
import subprocess
import sys
import zipfile

import pytest
from playwright.sync_api import expect

from tests.support.server import REPO, start_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"

SEED = """
import django
django.setup()
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from hub import licensing
from hub.roles import set_role
from integrations.models import Integration
from metrics import dashboard
from metrics.models import DailyCount
user = get_user_model().objects.create_user("ada", password=%r)
set_role(user, "administrator")
licensing.ensure_evaluation_license()
today = timezone.localdate()
rows = (("Bugs <both ways>", 1, 4, 6), ("Stories", 2, 1, 1), ("Bugs <both ways>", 60, 10, 30))
for name, days_ago, created, updated in rows:
    integration, _ = Integration.objects.get_or_create(name=name)
    DailyCount.objects.create(day=today - timedelta(days=days_ago), integration_id=integration.pk,
                              repository_id=1, created=created, updated=updated)
dashboard.rebuild_totals()
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


def test_figures_follow_the_range_and_filters_and_the_report_downloads(hub, page):
    page.goto(hub.url + "/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.goto(hub.url + "/metrics/")
    expect(page.get_by_test_id("total-created")).to_have_text("5")
    expect(page.get_by_test_id("roi")).to_contain_text("0.6 hours saved: 12 transactions")
    expect(page.get_by_test_id("distribution")).to_contain_text("Bugs <both ways>")
    expect(page.locator("[data-testid=pie] path title").first).to_have_text(
        re.compile(r"Bugs <both ways>: 10 ")
    )

    page.select_option("[data-testid=range]", "90")
    expect(page.get_by_test_id("total-created")).to_have_text("15")
    expect(page).to_have_url(re.compile(r"range=90"))

    page.select_option("[data-testid=filter-integration]", label="Stories")
    expect(page.get_by_test_id("total-created")).to_have_text("1")
    expect(page.get_by_test_id("cumulative-integrations")).to_contain_text("Bugs <both ways>")

    # User Count: the figures, the User Count Report, a configuration change (same server and sign-in)
    page.click("[data-testid=user-count-link]")
    expect(page.get_by_test_id("current-user-count")).to_contain_text("0 since")
    expect(page.get_by_test_id("monthly-usage")).to_contain_text("Users")
    with page.expect_download() as download:
        page.click("[data-testid=user-count-report] button[type=submit]")
    assert re.fullmatch(r"hub-user-count-report-\d{8}-\d{6}\.zip", download.value.suggested_filename)
    assert "final-counts.csv" in zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())).namelist()
    page.click("[data-testid=user-count-configuration]")
    page.get_by_label("Stories: non-production").check()
    page.click("[data-testid=integration-exclusions] button[type=submit]")
    expect(page.get_by_test_id("saved")).to_have_text("Saved.")
    expect(page.get_by_label("Stories: non-production")).to_be_checked()

    page.goto(hub.url + "/help/")
    expect(page.get_by_test_id("system-information")).to_contain_text("Operational database")
    with page.expect_download() as download:
        page.click("[data-testid=support-report-form] button[type=submit]")
    assert re.fullmatch(r"hub-state-\d{8}-\d{6}\.zip", download.value.suggested_filename)
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert "metrics/metrics.json" in archive.namelist()
    assert page.console_errors == [], page.console_errors
