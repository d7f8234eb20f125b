"""An administrator builds a Work Item Synchronization entirely through the screens — two local
repositories, a model, two collections with mappings, the integration — and starts it; a viewer
sees all of it but cannot change any of it. The screenshots illustrate the README walk-through."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.support import browser as browser_support
from tests.support.screenshots import screenshot
from tests.support.server import prepared_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"

PREPARE = f"""
from django.contrib.auth import get_user_model
from connectors.local import service
from hub.roles import set_role
User = get_user_model()
for name, role in (("ada", "administrator"), ("victor", "viewer")):
    user = User.objects.create_user(username=name, password={PASSWORD!r})
    set_role(user, role)
alpha, beta = service.tracker("alpha"), service.tracker("beta")
service.create_project(alpha, "DEMO", "Demo")
service.create_project(beta, "WEB", "Website")
"""


@pytest.fixture
def hub(tmp_path, server_database):
    server = prepared_hub(tmp_path / "home", server_database, PREPARE)
    yield server
    server.stop()


def sign_in(page, hub, username):
    browser_support.sign_in(page, hub.url, username, PASSWORD)


def shot(page, name):
    screenshot(page, name)


def create_repository(page, hub, label, url, screenshot=False):
    page.goto(hub.url + "/repositories/")
    page.select_option("#id_kind", "local")
    page.click("text=Create")
    page.fill("#id_label", label)
    page.fill("#id_url", url)
    page.click("[data-testid=test-connection]")
    expect(page.get_by_test_id("connection-result")).to_contain_text("Connection succeeded")
    if screenshot:
        shot(page, "configure-1-repository")
    page.click("button:text-is('Save')")
    expect(page.locator(".messages")).to_contain_text(f"Repository “{label}” created")


def create_collection(page, hub, name, repository, project, screenshot=False):
    page.goto(hub.url + "/collections/new/")
    page.fill("#id_name", name)
    page.select_option("#id_repository", label=repository)
    page.select_option("#id_model", label="Defect")
    page.click("button:text-is('Save')")
    page.click("text=Manage projects")
    # The search answers with a new list (HTMX, after 300 ms): tick the project only in that one,
    # or the answer arriving late replaces the ticked box.
    listed = page.get_by_test_id("project-choices").element_handle()
    page.fill("input[type=search]", project[:2])
    listed.wait_for_element_state("hidden")  # detached: the search's answer is in
    page.check(f"input[name=projects][value={project}]")
    page.click("text=Save selection")
    # The artifact types come from the tool once the projects are saved (HTMX); on a loaded machine
    # that answer has taken longer than Playwright's default 30 s.
    types = page.locator("input[name=artifact_types][value=bug]")
    expect(types).to_be_visible(timeout=90_000)
    types.check()
    page.click("button:text-is('Save')")
    expect(page.get_by_test_id("collection-projects")).to_contain_text(project)
    page.click("text=Field mapping")
    page.select_option("#id_repository_fields", ["summary"])
    page.select_option("#id_model_fields", ["title"])
    # The transform list follows the chosen fields' types (HTMX).
    expect(page.locator("#id_transform option[value=copy]")).to_have_count(1)
    page.select_option("#id_transform", "copy")
    if screenshot:
        shot(page, "configure-3-mapping")
    page.click("text=Add mapping")
    expect(page.get_by_test_id("mapping-lines")).to_contain_text("summary")


def test_an_administrator_builds_and_starts_an_integration_and_a_viewer_cannot_change_it(hub, pages):
    admin = pages()
    sign_in(admin, hub, "ada")
    # An integration runs only once the master password protects the credentials it uses.
    admin.goto(hub.url + "/settings/general/")
    admin.fill("#id_new_password", "master password for the browser test")
    admin.fill("#id_new_password_again", "master password for the browser test")
    admin.locator("form:has(#id_new_password) button[type=submit]").click()
    expect(admin.get_by_test_id("global-problem")).to_have_count(0)
    create_repository(admin, hub, "Alpha", "local://alpha", screenshot=True)
    create_repository(admin, hub, "Beta", "local://beta")

    admin.goto(hub.url + "/models/new/")
    admin.fill("#id_name", "Defect")
    admin.fill("#id_fields-0-key", "title")
    admin.fill("#id_fields-0-label", "Title")
    admin.fill("#id_fields-1-key", "priority")
    admin.fill("#id_fields-1-label", "Priority")
    admin.select_option("#id_fields-1-type", "single_select")
    admin.fill("#id_fields-1-options_text", "high: High\nlow: Low")
    shot(admin, "configure-2-model")
    admin.click("button:text-is('Save')")
    expect(admin.locator(".messages")).to_contain_text("Model “Defect” saved")

    create_collection(admin, hub, "Alpha defects", "Alpha", "DEMO", screenshot=True)
    create_collection(admin, hub, "Beta defects", "Beta", "WEB")

    admin.goto(hub.url + "/integrations/new/")
    admin.fill("#id_name", "Alpha and Beta")
    admin.select_option("#id_collection_a", label="Alpha defects")
    admin.select_option("#id_collection_b", label="Beta defects")
    admin.select_option("#id_creation_flow", "both")
    admin.select_option("#id_conflict_strategy", "a_wins")
    admin.click("button:text-is('Create')")
    expect(admin.get_by_test_id("blockers")).to_contain_text("CCRRTT-1401E")  # no route yet
    admin.select_option("#id_routes-0-project_a", "DEMO")
    admin.select_option("#id_routes-0-project_b", "WEB")
    admin.click("text=Save routes")
    admin.select_option("#id_title", "both")
    admin.click("text=Save field flow")
    expect(admin.get_by_test_id("blockers")).to_have_count(0)
    admin.click("button:text-is('Run')")
    expect(admin.get_by_test_id("integration-state")).to_have_text("running")
    shot(admin, "configure-4-integration")
    admin.goto(hub.url + "/integrations/")
    expect(admin.get_by_test_id("integrations")).to_contain_text("running")

    viewer = pages()
    sign_in(viewer, hub, "victor")
    for path in ("/repositories/", "/models/", "/collections/", "/integrations/", "/history/"):
        viewer.goto(hub.url + path)
        expect(viewer.locator("main")).to_contain_text(re.compile("Alpha|Defect"))
    viewer.click("text=Alpha and Beta")
    expect(viewer.get_by_test_id("integration-state")).to_have_text("running")
    expect(viewer.locator("button:text-is('Stop')")).to_have_count(0)
    expect(viewer.locator("button:text-is('Save routes')")).to_have_count(0)
    integration_url = viewer.url
    csrf = json.loads(viewer.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    refused = viewer.request.post(
        integration_url + "stop/", headers={"X-CSRFToken": csrf, "Referer": integration_url}
    )
    assert refused.status == 403 and "Only administrators" in refused.text()
    viewer.goto(integration_url)
    expect(viewer.get_by_test_id("integration-state")).to_have_text("running")

    # Delete asks first and names what goes; Cancel keeps the integration, the page's Delete removes it.
    admin.goto(integration_url)
    admin.click("button:text-is('Stop')")
    expect(admin.get_by_test_id("integration-state")).to_have_text("stopped")
    admin.get_by_test_id("delete").click()
    expect(admin.get_by_test_id("what-goes")).to_contain_text("artifact pairs")
    expect(admin.get_by_test_id("what-goes")).to_contain_text("synchronization history")
    admin.get_by_role("link", name="Cancel").click()
    expect(admin.get_by_test_id("integration-state")).to_have_text("stopped")
    admin.get_by_test_id("delete").click()
    admin.get_by_test_id("confirm-delete").click()
    expect(admin.locator(".messages")).to_contain_text("Integration “Alpha and Beta” deleted.")
