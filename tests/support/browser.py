"""Playwright driving Debian's Chromium (never a downloaded browser) against the real HTTPS server.

``browser`` is one Chromium per test process (two Playwright drivers cannot run in one process at
once, so every browser test shares it, wherever it lives); ``page`` is a fresh context per test.
Registered for the whole suite by ``tests/conftest.py``.

Waits are deadlines, not durations: an action or an ``expect`` returns as soon as the page is
ready, and fails only after ``DEADLINE_MS`` — generous, because CI shares two cores with
servers, workers and other suites.
"""

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEADLINE_MS = 90_000

expect.set_options(timeout=DEADLINE_MS)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def new_page(browser, **context_options):
    """A page in a context of its own (its own cookies: another signed-in user), with the deadlines.
    ``context_options`` go to Playwright's ``new_context`` (viewport, color_scheme, storage_state…)."""
    # The server's certificate is self-signed.
    context = browser.new_context(ignore_https_errors=True, **context_options)
    context.set_default_timeout(DEADLINE_MS)
    context.set_default_navigation_timeout(DEADLINE_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    return page


def sign_in(page, url: str, username: str, password: str) -> None:
    """Sign in on the Hub at ``url`` and wait for the signed-in page: going on before the login's
    answer has arrived can abort it."""
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("signed-in-user")).to_have_text(username)


def failure_sections(item) -> list[tuple[str, str]]:
    """What a failed browser test saw, for its report: each page's address and visible text, and
    the tail of each Hub server's log. A CI failure is then readable without running it again."""
    from tests.support.server import HubServer  # the server module imports Django settings

    sections = []
    for name, value in getattr(item, "funcargs", {}).items():
        if hasattr(value, "inner_text") and hasattr(value, "url"):
            try:
                text = value.inner_text("body", timeout=5_000)
            except Exception as error:  # the page may be gone or hung: say so, keep the report
                text = f"(the page's text could not be read: {error})"
            sections.append((f"page {name!r} at failure: {value.url}", text[-4_000:]))
        elif isinstance(value, HubServer):
            sections.append((f"log of Hub server {name!r} ({value.log_path})", value.log()[-6_000:]))
    return sections


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and item.get_closest_marker("browser"):
        report.sections.extend(failure_sections(item))


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture
def pages(browser):
    """``pages()`` opens another page in a context of its own (another signed-in user); all are
    closed after the test: a context left open keeps its page's polling alive for the rest of the
    test process."""
    opened = []

    def open_page(**context_options):
        opened.append(new_page(browser, **context_options))
        return opened[-1]

    yield open_page
    for page in opened:
        page.context.close()
