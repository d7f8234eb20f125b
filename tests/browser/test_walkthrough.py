"""The README's walk-through, step by step as it is written, in Chromium against a real Hub
(``runhub``: the console, a worker and the scheduler): first-run setup from the sign-in page, the
master password, the local trackers' projects, two repositories, a model, two collections with
their mappings, the integration, Preview, Run — and the item made in DEMO gets its twin in WEB.

Selectors are roles, labels and visible text (the console's look may change; its words hold)."""

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.server import start_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"
MASTER = "master password of the walk-through"
TEST_URL = re.compile(r"/repositories/(\d+/)?test/$")  # Test connection, new or saved repository
SLOW = 90_000  # ms: answers that read a tool, on a loaded two-core machine


@pytest.fixture
def hub(tmp_path, server_database):
    server = start_hub(tmp_path / "home", server_database)
    yield server
    server.stop()


def saved(page, text: str) -> None:
    expect(page.get_by_text(text).first).to_be_visible(timeout=SLOW)


def menu(page, *path: str) -> None:
    """Follow a README path such as **Models → New model**: the main navigation's entry, then each
    link on the pages it leads to."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=path[0], exact=True).click()
    for name in path[1:]:
        page.get_by_role("main").get_by_role("link", name=name, exact=True).first.click()


def again_showing_progress(page) -> None:
    """*Test connection* again (beyond the README, which tests once): while it runs, the result
    shown before is gone, the button is disabled and the progress shows. The answer is held back
    (page.route) until that has been checked."""
    expect(page.get_by_test_id("connection-result")).to_be_visible()
    held = []

    def hold(route):
        held.append(route)

    page.route(TEST_URL, hold)
    button = page.get_by_role("button", name="Test connection")
    button.click()
    expect(page.get_by_test_id("connection-progress")).to_be_visible()
    expect(button).to_be_disabled()
    expect(page.locator("#connection-result")).to_be_empty()
    deadline = time.monotonic() + SLOW / 1000
    while not held:  # the route handler runs while Playwright waits
        assert time.monotonic() < deadline, "the Test connection request never left the page"
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute(TEST_URL, hold)
    expect(page.get_by_test_id("connection-result")).to_contain_text("Connection succeeded", timeout=SLOW)
    expect(button).to_be_enabled()
    expect(page.get_by_test_id("connection-progress")).to_be_hidden()


def set_up_and_sign_in(page, hub) -> None:
    """Quick start: / leads to the sign-in page, which points to /setup/ and the token's file."""
    page.goto(hub.url + "/")
    hint = page.get_by_test_id("first-run-hint")
    token_file = hint.locator("code").inner_text()
    token = Path(token_file).read_text().strip()  # the file the page names, in the server's HUB_HOME
    page.get_by_role("link", name=re.compile("Set up Hub")).click()
    page.get_by_label("Setup token").fill(token)
    page.get_by_label("Username").fill("ada")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_test_id("signed-in-user")).to_have_text("ada")


def step_1_master_password(page, hub) -> None:
    menu(page, "Settings", "General")
    page.get_by_label(re.compile(r"^New master password:?$")).fill(MASTER)
    page.get_by_label("New master password (again)").fill(MASTER)
    page.get_by_role("button", name="Set master password").click()
    expect(page.get_by_test_id("global-problem")).to_have_count(0)


def step_2_projects(page, hub) -> None:
    for tracker, key, name in (("alpha", "DEMO", "Demo"), ("beta", "WEB", "Website")):
        page.goto(hub.url + "/local-tracker/")
        page.get_by_role("link", name=f"New project in {tracker}").click()
        page.get_by_label("Key").fill(key)
        page.get_by_label("Name").fill(name)
        page.get_by_role("button", name="Create project").click()
        saved(page, f"Project {key} created.")


def step_3_repository(page, hub, label: str, url: str) -> None:
    menu(page, "Repositories")
    page.get_by_label("New repository").select_option(label="Local tracker")
    page.get_by_role("button", name="Create").click()
    page.get_by_label("Label").fill(label)
    page.get_by_label("Tracker").fill(url)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_test_id("connection-result")).to_contain_text("Connection succeeded", timeout=SLOW)
    again_showing_progress(page)
    page.get_by_role("button", name="Save", exact=True).click()
    saved(page, f"Repository “{label}” created; the connection works.")


def step_4_model(page, hub) -> None:
    menu(page, "Models", "New model")
    page.get_by_label("Name").fill("Defect")
    page.locator("#id_fields-0-key").fill("title")  # the field rows: one row per field
    page.locator("#id_fields-0-label").fill("Title")
    page.locator("#id_fields-1-key").fill("priority")
    page.locator("#id_fields-1-label").fill("Priority")
    page.locator("#id_fields-1-type").select_option(label="Single Select")
    page.locator("#id_fields-1-options_text").fill("high: High\nlow: Low")
    page.get_by_role("button", name="Save", exact=True).click()
    saved(page, "Model “Defect” saved")


def step_5_collection(page, hub, name: str, repository: str, project: str, priorities: dict) -> None:
    menu(page, "Collections", "New repository collection")
    page.get_by_label("Name").fill(name)
    page.get_by_label(re.compile(r"^Repository:?$")).select_option(label=repository)
    page.get_by_label(re.compile(r"^Model:?$")).select_option(label="Defect")
    # The repository's projects appear, then the ticked project's artifact types (HTMX).
    page.get_by_role("checkbox", name=re.compile(project)).check(timeout=SLOW)
    page.get_by_role("checkbox", name="Bug").check(timeout=SLOW)
    page.get_by_role("button", name="Save", exact=True).click()
    saved(page, f"Collection “{name}” saved.")
    expect(page.get_by_test_id("collection-projects")).to_contain_text(project)
    page.get_by_role("link", name="Field mapping").click()
    page.locator("#id_repository_fields").select_option(["summary"])
    page.locator("#id_model_fields").select_option(["title"])
    expect(page.locator("#id_transform option[value=copy]")).to_have_count(1, timeout=SLOW)
    page.get_by_label("Transform").select_option(label="Copy the value")  # README: copy
    page.get_by_role("button", name="Add mapping").click()
    saved(page, "Mapping added.")
    page.locator("#id_repository_fields").select_option(["priority"])
    page.locator("#id_model_fields").select_option(["priority"])
    expect(page.get_by_test_id("value-map-to-model")).to_be_visible(timeout=SLOW)
    page.get_by_label("Transform").select_option(
        label="Map option values (with a default for unmapped values)"
    )
    # For each value, what it becomes, picked from the options.
    for value, becomes in priorities.items():  # repository option → model option (their ids)
        page.get_by_label(f"{value.title()} becomes", exact=True).select_option(f"{value} = {becomes}")
    page.get_by_label("Default model value for unmapped values").select_option("low")
    page.get_by_label("High becomes in the repository").select_option("high = high")
    page.get_by_label("Low becomes in the repository").select_option("low = low")
    page.get_by_role("button", name="Add mapping").click()
    saved(page, "Mapping added.")
    expect(page.get_by_test_id("mapping-lines")).to_contain_text("priority")


def step_6_integration(page, hub) -> None:
    menu(page, "Integrations", "New Work Item Synchronization")
    page.get_by_label("Name").fill("Alpha and Beta")
    page.get_by_label("Collection A").select_option(label="Alpha defects")
    page.get_by_label("Collection B").select_option(label="Beta defects")
    page.get_by_label("Artifact creation flow").select_option(label="A → B")
    page.get_by_label("Conflict resolution strategy").select_option(label="Collection A wins")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("blockers")).to_contain_text("CCRRTT-1401E")  # no route yet
    page.get_by_role("button", name="Run").click()
    saved(page, "cannot run while these problems block it")  # refused, with the list
    page.locator("#id_routes-0-project_a").select_option(label="Demo")
    page.locator("#id_routes-0-project_b").select_option(label="Website")
    page.get_by_role("button", name="Save routes").click()
    saved(page, "Routes saved.")
    expect(page.get_by_test_id("blockers")).to_have_count(0)
    expect(page.get_by_label("Title")).to_have_value("both")  # the flow the mappings allow


def new_item_in_demo(page, hub, summary: str) -> None:
    menu(page, "Local tracker", "DEMO")
    page.get_by_role("link", name="New item").click()
    page.get_by_label(re.compile(r"^Type:?$")).select_option(label="Bug")  # README: (a Bug)
    page.get_by_label("Summary").fill(summary)
    page.get_by_role("button", name="Create").click()
    saved(page, "created.")


def test_the_readme_walk_through_works_as_written(hub, page):
    page.set_default_timeout(SLOW)
    set_up_and_sign_in(page, hub)
    step_1_master_password(page, hub)
    step_2_projects(page, hub)
    step_3_repository(page, hub, "Alpha", "local://alpha")
    step_3_repository(page, hub, "Beta", "local://beta")
    page.goto(hub.url + "/repositories/")
    expect(page.get_by_test_id("repositories")).not_to_contain_text("not tested")
    step_4_model(page, hub)
    step_5_collection(page, hub, "Alpha defects", "Alpha", "DEMO", {"high": "high", "urgent": "high"})
    step_5_collection(page, hub, "Beta defects", "Beta", "WEB", {"high": "high", "urgent": "high"})
    step_6_integration(page, hub)

    new_item_in_demo(page, hub, "Crash on save")
    page.goto(hub.url + "/integrations/")
    page.get_by_role("link", name="Alpha and Beta").click()
    page.get_by_role("link", name="Preview").click()
    summary = page.get_by_test_id("preview-summary")
    expect(summary).to_contain_text(
        "Would create 1 twin in collection B “Beta defects”, project WEB.", timeout=SLOW
    )
    expect(page.get_by_test_id("preview-values")).to_contain_text("Crash on save")

    page.get_by_role("link", name="Alpha and Beta").click()
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("integration-state")).to_have_text("running")
    deadline = time.monotonic() + 240  # a change detection interval, on a loaded machine
    while True:
        page.goto(hub.url + "/local-tracker/beta/WEB/")
        if page.get_by_role("link", name="WEB-1").count():
            break
        assert time.monotonic() < deadline, "the twin never appeared in beta's WEB"
        page.wait_for_timeout(3000)
    expect(page.get_by_role("main")).to_contain_text("Crash on save")
