"""An administrator moves a running embedded Hub to PostgreSQL from the Storage Settings screen in
Chromium: the external database's settings, Save, the backup warning and its confirmation box,
Transfer; the worker runs the job, runhub restarts every process on PostgreSQL, and the same
screen, served from there, names PostgreSQL as the database in use.

Two waits make it deterministic: signing in waits for the signed-in page (a ``goto`` right after
the click could abort the login POST and land on the login form), and after the restart the test
polls the new web server itself, not only the console line (runhub also prints "Hub is running"
when its own 60 s wait for the web server ran out on a loaded machine)."""

import time
import urllib.error

import pytest
from playwright.sync_api import expect

from tests.support.live import ADMIN, ADMIN_PASSWORD, start_live_hub
from tests.support.server import ServerDatabase

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page, url: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    expect(page.get_by_test_id("signed-in-user")).to_have_text(ADMIN)


def wait_until_restarted_on_the_new_database(server, deadline_seconds: float = 300) -> None:
    """Poll runhub's console for its second start, then the web server until it answers."""
    deadline = time.monotonic() + deadline_seconds
    while server.log().count("Hub is running: https") < 2:
        assert server.process.poll() is None, server.log()[-4000:]
        assert time.monotonic() < deadline, server.log()[-4000:]
        time.sleep(0.5)  # polling another process's console, with a deadline
    while True:
        try:
            status, _ = server.get("/accounts/login/", timeout=10)
            if status == 200:
                return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet
        assert time.monotonic() < deadline, server.log()[-4000:]
        time.sleep(0.5)


@pytest.fixture
def embedded_hub(tmp_path):
    live = start_live_hub(tmp_path / "home", ServerDatabase("sqlite"))
    yield live
    live.stop()


@pytest.fixture
def postgres():
    database = ServerDatabase("postgres")
    database.create()
    yield database
    database.drop()


def test_the_storage_screen_moves_a_running_embedded_hub_to_postgresql(embedded_hub, postgres, page):
    url = embedded_hub.server.url
    sign_in(page, url)
    page.goto(url + "/settings/general/storage/")
    expect(page.get_by_test_id("embedded-warning")).to_be_visible()

    page.select_option("select[name=kind]", "postgresql")
    page.fill("input[name=location]", f"postgres://127.0.0.1:5432/{postgres.name}")
    page.fill("input[name=username]", "postgres")
    page.get_by_test_id("storage-save").click()
    confirm = page.get_by_test_id("storage-confirm")
    expect(confirm).to_contain_text("Make a backup first")
    confirm.locator("input[name=backed_up]").check()
    confirm.get_by_test_id("storage-transfer-start").click()

    wait_until_restarted_on_the_new_database(embedded_hub.server)

    page.goto(url + "/settings/general/storage/")
    if "/accounts/login/" in page.url:  # sessions live in the database, which is a copy now
        sign_in(page, url)
        page.goto(url + "/settings/general/storage/")
    current = page.get_by_test_id("storage-current")
    expect(current).to_contain_text("PostgreSQL")
    expect(page.get_by_test_id("embedded-warning")).to_have_count(0)
