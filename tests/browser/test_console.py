"""A first visit as a person makes it: first-run setup with the token, sign in, every navigation entry."""

import re

import pytest
from playwright.sync_api import expect

from hub.context_processors import NAVIGATION
from tests.support.screenshots import screenshot
from tests.support.server import start_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"


@pytest.fixture
def hub(tmp_path, server_database):
    server = start_hub(
        tmp_path / "home",
        server_database,
        env={"HUB_ENVIRONMENT_TYPE": "testing", "HUB_ENVIRONMENT_NAME": "Browser <test>"},
    )
    yield server
    server.stop()


def test_first_run_setup_then_sign_in_and_visit_every_screen(hub, page):
    page.goto(hub.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.goto(hub.url + "/setup/")
    page.fill("#id_token", "not the token")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("not the setup token")

    page.fill("#id_token", hub.setup_token())
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("signed-in-user")).to_have_text("ada")
    # The environment label escapes what the operator typed and is coloured by type.
    expect(page.get_by_test_id("environment-label")).to_contain_text("Testing: Browser <test>")
    screenshot(page, "home", full_page=False)

    page.get_by_role("button", name="ada").click()  # the user menu
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("signed-in-user")).to_have_text("ada")

    for _group, entries in NAVIGATION:
        for label, _url_name in entries:
            page.click(f"nav.mainnav >> text='{label}'")
            expect(page.locator("main h1")).to_be_visible()
            assert page.locator("nav.mainnav a[aria-current=page]").inner_text() == label
    assert page.console_errors == [], page.console_errors  # e.g. a CSP violation would show here


def test_setup_page_is_gone_once_an_administrator_exists(hub, page):
    page.goto(hub.url + "/setup/")
    page.fill("#id_token", hub.setup_token())
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("signed-in-user")).to_have_text("ada")
    assert page.goto(hub.url + "/setup/").status == 404
