"""An administrator configures a gateway collection with a payload transformation extension and a
Gateway integration in the browser; ``curl`` posts a GitHub ``issues`` webhook to the running Hub;
the artifact appears in the local tracker and its row on the Activity screen (its title escaped).
Then the SQL collection's Test Connection and Create table buttons, through HTMX."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

from tests.support.server import REPO, prepared_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"
MASTER = "an even longer master password for the gateway"
FIXTURES = REPO / "tests" / "gateway" / "fixtures"
TITLE = "Login page <b>hangs</b> on Safari"  # github-issues.json: markup, shown as text
PREPARE = f"""
from pathlib import Path
from django.contrib.auth import get_user_model
from connectors.local import service
from extensions.models import Extension
from hub.roles import set_role
from integrations.models import Model, ModelField, Repository
from tests.integrations.factories import mapped_collection
user = get_user_model().objects.create_user(username="ada", password={PASSWORD!r})
set_role(user, "administrator")
service.create_project(service.tracker("beta"), "WEB", "Website")
model = Model.objects.create(name="Defect")
ModelField.objects.create(model=model, key="title", label="Title", type="string", position=0)
options = [{{"id": "high", "label": "High"}}, {{"id": "low", "label": "Low"}}]
ModelField.objects.create(model=model, key="priority", label="Priority", type="single_select",
                          options=options, position=1)
ModelField.objects.create(model=model, key="due", label="Due", type="date", position=2)
beta = Repository.objects.create(label="Beta", kind="local", url="local://beta")
mapped_collection("Beta defects", beta, "WEB", model)
Extension.objects.create(name="GitHub webhooks", type="payload_transformation",
                         script=Path({str(FIXTURES / "github.js")!r}).read_text())
"""


@pytest.fixture
def hub(tmp_path, server_database):
    server = prepared_hub(tmp_path / "home", server_database, PREPARE)
    yield server
    server.stop()


def sign_in(page, hub) -> None:
    page.goto(hub.url + "/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(hub.url + "/settings/general/")
    page.get_by_label(re.compile(r"^New master password:?$")).fill(MASTER)
    page.get_by_label("New master password (again)").fill(MASTER)
    page.get_by_role("button", name="Set master password").click()
    expect(page.get_by_test_id("global-problem")).to_have_count(0)


def curl(hub, collection_id: str, token: str) -> dict:
    answer = subprocess.run(
        [
            "curl", "-sk", "-X", "POST", f"{hub.url}/api/v1/gateway/{collection_id}/artifacts",
            "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/json",
            "-H", "X-GitHub-Event: issues", "--data-binary", f"@{FIXTURES / 'github-issues.json'}",
            "-w", "\\n%{http_code}",
        ],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    body, _, status = answer.stdout.rpartition("\n")
    assert status == "202", answer.stdout
    return json.loads(body)


def reload_until(page, locator, seconds: float = 60) -> None:
    """The worker takes the payload within seconds: reload the page until ``locator`` shows."""
    deadline = time.monotonic() + seconds
    while locator.count() == 0:
        assert time.monotonic() < deadline, f"not shown within {seconds} s: {locator}"
        page.wait_for_timeout(500)
        page.reload()


def test_a_github_webhook_through_a_transformation_creates_the_artifact(page, hub, tmp_path):
    sign_in(page, hub)
    page.goto(hub.url + "/collections/gateway/new/")
    page.get_by_label("Name").fill("GitHub")
    page.get_by_label("Model").select_option(label="Defect")
    page.get_by_label("Payload transformation").select_option(label="GitHub webhooks")
    page.get_by_role("button", name="Save", exact=True).click()
    token = page.get_by_test_id("gateway-token").inner_text().strip()
    endpoint = page.get_by_test_id("gateway-endpoint").inner_text()  # shown with the token, once saved
    collection_id = re.search(r"/api/v1/gateway/(\d+)/artifacts", endpoint).group(1)

    page.goto(hub.url + "/integrations/")
    page.get_by_role("link", name="New Gateway").click()
    page.get_by_label("Name").fill("GitHub → Beta")
    page.get_by_label("Gateway collection (source)").select_option(label="GitHub")
    page.get_by_label("Target collection").select_option(label="Beta defects")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("integration-state")).to_have_text("running")

    assert "id" in curl(hub, collection_id, token)
    page.goto(hub.url + "/local-tracker/beta/WEB/")
    reload_until(page, page.get_by_text(TITLE))
    page.goto(hub.url + "/activity/activities/completed/")
    reload_until(page, page.get_by_text(TITLE))
    expect(page.locator("main")).to_contain_text("GitHub → Beta")
    expect(page.locator("main b")).to_have_count(0)  # the markup of the title is text, not bold

    # The SQL collection's buttons, in the same Hub: Test Connection names what is missing, Create
    # table shows the statement and runs it only on confirmation.
    page.goto(hub.url + "/collections/sql/new/")
    page.get_by_label("Name").fill("Report")
    page.get_by_label("Database URL").fill(f"sqlite:///{tmp_path / 'report.sqlite3'}")
    page.get_by_label("Table").fill("defects")
    page.get_by_label("Model").select_option(label="Defect")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_test_id("test-connection").click()
    expect(page.get_by_test_id("connection-result")).to_contain_text("CCRRTT-10009E")
    page.get_by_test_id("create-table-button").click()
    expect(page.get_by_test_id("proposed-ddl")).to_contain_text("CREATE TABLE")
    page.get_by_test_id("confirm-create-table").click()
    expect(page.get_by_test_id("table-result")).to_contain_text("Table defects created.")
    page.get_by_test_id("test-connection").click()
    expect(page.get_by_test_id("connection-result")).to_contain_text("Connection succeeded")
