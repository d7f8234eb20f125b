"""An administrator moves a running embedded Hub to PostgreSQL from the Storage Settings screen in
Chromium: the external database's settings, Save, the backup warning and its confirmation box,
Transfer; the worker runs the job, runhub restarts every process on PostgreSQL, and the same
screen, served from there, names PostgreSQL as the database in use."""

import time

import pytest
from playwright.sync_api import expect

from tests.support.live import ADMIN, ADMIN_PASSWORD, start_live_hub
from tests.support.server import ServerDatabase

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
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

    deadline = time.monotonic() + 300
    while embedded_hub.server.log().count("Hub is running: https") < 2:  # runhub restarted its processes
        assert embedded_hub.server.process.poll() is None, embedded_hub.server.log()[-4000:]
        assert time.monotonic() < deadline, embedded_hub.server.log()[-4000:]
        time.sleep(0.5)  # polling another process's console, with a deadline

    page.goto(url + "/settings/general/storage/")
    if "/accounts/login/" in page.url:  # sessions live in the database, which is a copy now
        page.fill("#id_username", ADMIN)
        page.fill("#id_password", ADMIN_PASSWORD)
        page.locator("form button[type=submit], form input[type=submit]").first.click()
        page.goto(url + "/settings/general/storage/")
    current = page.get_by_test_id("storage-current")
    expect(current).to_contain_text("PostgreSQL")
    expect(page.get_by_test_id("embedded-warning")).to_have_count(0)
