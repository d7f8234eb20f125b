"""An administrator moves a running embedded Hub to PostgreSQL from the Storage Settings screen in
Chromium: the external database's settings, Save, the backup warning and its confirmation box,
Transfer; the worker runs the job, runhub restarts every process on PostgreSQL, and the same
screen, served from there, names PostgreSQL as the database in use. The Hub holds a running
integration (local trackers, DEMO ↔ WEB): an item made before the move has its twin, and an item
made in the browser after it gets its twin too, the first one no second.

Two waits make it deterministic: signing in waits for the signed-in page (a ``goto`` right after
the click could abort the login POST and land on the login form), and after the restart the test
polls the new web server itself, not only the console line (runhub also prints "Hub is running"
when its own 60 s wait for the web server ran out on a loaded machine)."""

import re
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


RUNNING_INTEGRATION = """
from connectors.local import service
from integrations import services
from integrations.models import Model, ModelField, Repository
from tests.integrations.factories import mapped_collection, running_integration
service.create_project(service.tracker("alpha"), "DEMO", "Demo")
service.create_project(service.tracker("beta"), "WEB", "Website")
model = Model.objects.create(name="Defect")
ModelField.objects.create(model=model, key="title", label="Title", type="string", required=True, position=0)
ModelField.objects.create(model=model, key="priority", label="Priority", type="single_select", position=1,
                          options=[{"id": "high", "label": "High"}, {"id": "low", "label": "Low"}])
alpha = Repository.objects.create(label="Alpha", kind="local", url="local://alpha")
beta = Repository.objects.create(label="Beta", kind="local", url="local://beta")
integration = running_integration("Alpha and Beta", mapped_collection("Alpha defects", alpha, "DEMO", model),
                                  mapped_collection("Beta defects", beta, "WEB", model), "DEMO", "WEB")
integration.running = False
integration.detection_interval = 5
integration.save()
services.start(integration)
"""
TWIN_DEADLINE = 240  # seconds: detection every 5 s, on a loaded machine


@pytest.fixture
def embedded_hub(tmp_path):
    live = start_live_hub(tmp_path / "home", ServerDatabase("sqlite"))
    try:
        live.manage("shell", "-c", RUNNING_INTEGRATION)
    except BaseException:
        live.stop()
        raise
    yield live
    live.stop()


def new_item_in_demo(page, url: str, summary: str) -> None:
    page.goto(url + "/local-tracker/alpha/DEMO/new/")
    page.get_by_label(re.compile(r"^Type:?$")).select_option(label="Bug")
    page.get_by_label("Summary").fill(summary)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("created.").first).to_be_visible()


def wait_for_twin(page, url: str, key: str, summary: str) -> None:
    """Beta's WEB, as its screen lists it, until the twin is there (polled, with a deadline)."""
    deadline = time.monotonic() + TWIN_DEADLINE
    while True:
        page.goto(url + "/local-tracker/beta/WEB/")
        if page.get_by_role("link", name=key, exact=True).count():
            break
        assert time.monotonic() < deadline, f"{summary!r} got no twin {key} in beta's WEB"
        page.wait_for_timeout(1000)
    expect(page.get_by_role("main")).to_contain_text(summary)


@pytest.fixture
def postgres():
    database = ServerDatabase("postgres")
    database.create()
    yield database
    database.drop()


def test_the_storage_screen_moves_a_running_embedded_hub_to_postgresql(embedded_hub, postgres, page):
    url = embedded_hub.server.url
    sign_in(page, url)
    new_item_in_demo(page, url, "Before the move")
    wait_for_twin(page, url, "WEB-1", "Before the move")
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

    # The integration goes on from PostgreSQL: a new item gets its twin, the first one no second.
    new_item_in_demo(page, url, "After the move")
    wait_for_twin(page, url, "WEB-2", "After the move")
    page.goto(url + "/local-tracker/beta/WEB/")
    expect(page.get_by_role("link", name="WEB-3", exact=True)).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("Before the move")
