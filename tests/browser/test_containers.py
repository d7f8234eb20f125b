"""An administrator sets up a Container + Work Item Synchronization through the screens: the style
chosen on the new-integration form, then the container mirroring section of its page, which shows
a wrong setting's catalog code on that setting and saves a right one."""

import pytest
from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.server import administrator_and_trackers, prepared_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"

PREPARE = (
    administrator_and_trackers(PASSWORD)
    + """
from tests.engine.test_containers import _map_parent
from tests.integrations.factories import mapped_collection
ModelField.objects.create(model=model, key="due", label="Due", type="date", position=2)
ModelField.objects.create(model=model, key="parent", label="Parent", type="container", position=3)
for label, project in (("Alpha", "DEMO"), ("Beta", "WEB")):
    repository = Repository.objects.create(label=label, kind="local", url=f"local://{label.lower()}")
    _map_parent(mapped_collection(f"{label} defects", repository, project, model))
"""
)


@pytest.fixture
def hub(tmp_path, server_database):
    server = prepared_hub(tmp_path / "home", server_database, PREPARE)
    yield server
    server.stop()


def test_an_administrator_configures_a_container_and_work_item_integration(hub, page):
    sign_in(page, hub.url, "ada", PASSWORD)

    page.goto(hub.url + "/integrations/new/?style=container_work_item")
    page.fill("#id_name", "Epics")
    page.select_option("#id_collection_a", label="Alpha defects")
    page.select_option("#id_collection_b", label="Beta defects")
    page.select_option("#id_conflict_strategy", index=1)
    page.click("#integration-create button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("container mirroring")

    section = page.locator("#containers-form")
    # Each side names the container types its repository has; one it has not is refused there.
    expect(section.locator("#id_container_types_b_helptext")).to_contain_text("Epic (epic)")
    section.locator("#id_container_types_a").fill("epic")
    section.locator("#id_container_types_b").fill("saga")
    section.locator("button[type=submit]").click()
    expect(page.locator("#containers-form")).to_contain_text("“saga”: not a container type of side B")

    section = page.locator("#containers-form")
    section.locator("#id_container_types_b").fill("epic")
    conditions = page.get_by_test_id("container-conditions")
    conditions.locator("select[name$='-field']").first.select_option("due")  # mapped by neither
    conditions.locator("select[name$='-operator']").first.select_option("is_empty")
    conditions.locator("input[name$='-type']").first.fill("epic")
    section.locator("button[type=submit]").click()
    expect(page.get_by_test_id("container-condition-errors")).to_contain_text("CCRRTT-50017E")

    conditions = page.get_by_test_id("container-conditions")
    conditions.locator("select[name$='-field']").first.select_option("priority")
    conditions.locator("select[name$='-operator']").first.select_option("equals")
    conditions.locator("input[name$='-value']").first.fill("high")
    page.locator("#containers-form button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Container mirroring saved")
    expect(page.locator("#id_container_types_a")).to_have_value("epic")
