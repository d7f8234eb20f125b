"""An administrator replaces a project the repository no longer has, through the screens: Refresh
shows it invalid, the Manage Invalid Projects picker (invalid left, searchable replacements right)
records the replacement, Done, Save (with its warning) starts the background job, and the running
Hub's worker applies it."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.server import administrator_and_trackers, prepared_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"

PREPARE = administrator_and_trackers(PASSWORD) + """
from connectors.local.models import LocalProject
from integrations.models import Integration, Route
from tests.integrations.factories import mapped_collection
service.create_project(alpha, "OPS", "Operations")
a = mapped_collection("Alpha defects", Repository.objects.create(label="Alpha", kind="local", url="local://alpha"),
                      "DEMO", model)
b = mapped_collection("Beta defects", Repository.objects.create(label="Beta", kind="local", url="local://beta"),
                      "WEB", model)
integration = Integration.objects.create(name="Alpha and Beta", collection_a=a, collection_b=b,
                                         field_flows={"title": "both"}, conflict_strategy="a_wins")
Route.objects.create(integration=integration, project_a="DEMO", project_b="WEB", direction="both")
# The project moved in the tool: same items, a new id.
LocalProject.objects.filter(tracker=alpha, key="DEMO").update(key="DEMO2", name="Demo copy")
print(a.pk)
"""


@pytest.fixture
def hub(tmp_path, server_database):
    server = prepared_hub(tmp_path / "home", server_database, PREPARE)
    server.collection_id = int(server.prepared.split()[-1])
    yield server
    server.stop()


def test_the_picker_replaces_an_invalid_project_and_the_job_applies_it(hub, page):
    sign_in(page, hub.url, "ada", PASSWORD)

    collection = f"{hub.url}/collections/{hub.collection_id}/"
    page.goto(collection + "projects/")
    page.click("button:text-is('Refresh')")
    expect(page.locator(".messages")).to_contain_text("CCRRTT-1110E")
    page.goto(collection)
    expect(page.get_by_test_id("invalid-project")).to_contain_text("cannot be found")
    page.click("text=Manage invalid projects")

    picker = page.get_by_test_id("replacement-picker")
    expect(picker.get_by_test_id("invalid-choices")).to_contain_text("Demo")
    listed = page.get_by_test_id("replacement-choices").element_handle()
    expect(page.get_by_test_id("replacement-choices")).to_contain_text("Operations")
    page.fill("input[type=search]", "copy")
    listed.wait_for_element_state("hidden")  # the search's answer replaced the list
    choices = page.get_by_test_id("replacement-choices")
    expect(choices).to_contain_text("Demo copy")
    expect(choices).not_to_contain_text("Operations")
    picker.locator("input[name=project]").first.check()
    choices.locator("input[value=DEMO2]").check()
    page.click("button:text-is('Replace')")
    expect(page.locator(".messages")).to_contain_text("will be replaced by “Demo copy”")
    expect(page.get_by_test_id("chosen-replacement")).to_contain_text("Demo copy")
    page.get_by_test_id("done").click()

    expect(page.get_by_test_id("pending-replacements")).to_contain_text("Demo → Demo copy")
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("#collection-form button:text-is('Save')")
    expect(page.locator(".messages")).to_contain_text("Project replacement started")
    assert "cannot be used until the project update is complete" in questions[0]

    # The running Hub's worker applies it; the collection then lists the new project, valid.
    projects = page.get_by_test_id("collection-projects")
    for _ in range(60):
        page.goto(collection)
        if "DEMO2" in projects.inner_text():
            break
        page.wait_for_timeout(500)  # polling the screen for the worker's result, with a deadline
    expect(projects).to_contain_text("DEMO2")
    expect(page.get_by_test_id("invalid-project")).to_have_count(0)
    page.goto(hub.url + "/activity/jobs/completed/")
    expect(page.locator("[data-testid=job-row]").first).to_contain_text("Project replacement")
    page.locator("[data-testid=job-row] summary").first.click()
    expect(page.locator("[data-testid=job-row]").first).to_contain_text(
        re.compile(r"Demo \(DEMO\) → Demo copy \(DEMO2\)")
    )
