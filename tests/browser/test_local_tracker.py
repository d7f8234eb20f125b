"""A person uses the local tracker's pages in a real browser: a project, an item, a transition and
a comment added through HTMX (which must work under the strict Content-Security-Policy)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_console import PASSWORD, hub  # noqa: F401 - the hub fixture
from tests.support.screenshots import screenshot

pytestmark = pytest.mark.browser


def test_create_an_item_resolve_it_and_comment(hub, page):  # noqa: F811
    page.goto(hub.url + "/setup/")
    page.fill("#id_token", hub.setup_token())
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("signed-in-user")).to_have_text("ada")

    page.goto(hub.url + "/local-tracker/default/projects/new/")
    page.fill("#id_key", "DEMO")
    page.fill("#id_name", "Demo project")
    page.click("main button[type=submit]")
    expect(page.locator("main h1")).to_have_text("DEMO — Demo project")

    page.click("text=New item")
    page.select_option("#id_type", "bug")
    page.fill("#id_summary", "Export fails on <empty> report")
    page.fill("#id_description", "Steps: open an empty report, export.")
    page.click("main button[type=submit]")
    expect(page.locator("main h1")).to_have_text("DEMO-1: Export fails on <empty> report")

    page.select_option("#id_transition", "resolve")
    page.click("text=Apply")
    expect(page.locator(".messages")).to_contain_text("CCRRTT-17003E")
    page.select_option("#id_transition", "resolve")
    page.select_option("#id_resolution", "fixed")
    page.click("text=Apply")
    expect(page.locator("main .muted").first).to_contain_text("Resolved (Fixed)")

    page.fill("#id_body", "Fixed in the nightly build.")
    page.check("#id_private")
    page.click("text=Add comment")
    expect(page.get_by_test_id("comment")).to_contain_text("Fixed in the nightly build.")
    expect(page.get_by_test_id("comment")).to_contain_text("private")
    expect(page).to_have_url(re.compile(r"/local-tracker/default/items/\d+/$"))  # HTMX: no navigation
    screenshot(page, "local-tracker-item")
    assert page.console_errors == [], page.console_errors
