"""An administrator writes an extension in the browser: a syntax error shows with its line (and
is marked in the editor), the fix saves with Ctrl+S, the extension is used in a field mapping,
and the test bench runs it. Ctrl+S also saves a key-value store's pair."""


import pytest
from playwright.sync_api import expect

from tests.support.server import prepared_hub

pytestmark = pytest.mark.browser
PASSWORD = "a long and unusual password"
PREPARE = f"""
from django.contrib.auth import get_user_model
from connectors.local import service
from hub.roles import set_role
from integrations.models import Model, ModelField, Repository, RepositoryCollection
from integrations.services import set_projects
user = get_user_model().objects.create_user(username="ada", password={PASSWORD!r})
set_role(user, "administrator")
alpha = service.tracker("alpha")
service.create_project(alpha, "DEMO", "Demo")
model = Model.objects.create(name="Defect")
ModelField.objects.create(model=model, key="title", label="Title", type="string")
repository = Repository.objects.create(label="Alpha", kind="local", url="local://alpha")
collection = RepositoryCollection.objects.create(name="Alpha defects", repository=repository, model=model,
                                                 artifact_types=["bug"])
set_projects(collection, [{{"id": "DEMO", "key": "DEMO", "name": "Demo"}}])
from extensions.models import KeyValueStore
KeyValueStore.objects.create(name="Products")
"""
BROKEN = "var inputTypes = 'String';\nvar outputTypes = 'String';\nfunction transform(context, input) {\n  return input +;\n}\n"  # noqa: E501
FIXED = BROKEN.replace("return input +;", "console.log('got ' + input);\n  return input.toUpperCase();")


@pytest.fixture
def hub(tmp_path, server_database):
    server = prepared_hub(tmp_path / "home", server_database, PREPARE)
    yield server
    server.stop()


def set_script(page, text):
    page.wait_for_function("window.hubEditorView !== undefined")
    page.evaluate(
        "text => window.hubEditorView.dispatch({changes: {from: 0, to: window.hubEditorView.state.doc.length,"
        " insert: text}})",
        text,
    )


def test_write_fix_map_and_bench_an_extension(page, hub):
    page.goto(hub.url + "/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(hub.url + "/settings/")
    page.get_by_test_id("settings-tabs").get_by_role("link", name="Extensions").click()
    page.click("[data-testid=new-custom_data_transformation]")
    page.fill("#id_name", "Shout")
    expect(page.locator(".cm-editor")).to_be_visible()
    set_script(page, BROKEN)
    page.locator(".cm-content").click()
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("script-error")).to_contain_text("line 4")
    expect(page.get_by_test_id("script-error")).to_contain_text("CCRRTT-17011E")
    expect(page.locator(".cm-hub-error-line")).to_have_count(1)
    expect(page.locator(".cm-hub-error-line")).to_contain_text("return input +;")

    set_script(page, FIXED)
    page.locator(".cm-content").click()
    page.keyboard.press("Control+s")
    expect(page.locator(".messages")).to_contain_text("Extension “Shout” saved and compiled")

    # The mapping screen offers it for String → String.
    page.goto(hub.url + "/collections/")
    page.click("text=Alpha defects")
    page.click("text=Field mapping")
    page.select_option("#id_repository_fields", ["summary"])
    page.select_option("#id_model_fields", ["title"])
    expect(page.locator("#id_transform option[value=extension]")).to_have_count(1, timeout=60_000)
    page.wait_for_load_state("networkidle")  # both field changes have had their HTMX answer
    page.select_option("#id_direction", "to_model")
    page.select_option("#id_transform", "extension")
    page.select_option("#id_to_model_extension", "Shout")
    page.click("button:text-is('Add mapping')")
    expect(page.locator(".messages")).to_contain_text("Mapping added")
    expect(page.get_by_test_id("mapping-lines")).to_contain_text("extension")

    # The test bench, on pasted arguments.
    page.goto(hub.url + "/settings/extensions/")
    page.click("text=Shout")
    expect(page.get_by_test_id("associated-elements")).to_contain_text("Associated Elements (1)")
    page.check("input[name=source][value=json]")
    page.fill("[data-testid=bench-arguments]", '[{}, "quiet please"]')
    page.click("[data-testid=bench-run]")
    expect(page.get_by_test_id("bench-output")).to_contain_text('"QUIET PLEASE"')
    expect(page.get_by_test_id("bench-logs")).to_contain_text("got quiet please")

    # Ctrl+S saves a key-value store's pair form too (the value field has the focus).
    page.goto(hub.url + "/settings/extensions/stores/")
    page.click("text=Products")
    page.fill("#id_key", "WEB-1")
    page.fill("#id_value", "Web shop")
    page.locator("#id_value").press("Control+s")
    expect(page.get_by_test_id("pairs")).to_contain_text("WEB-1")
    expect(page.get_by_test_id("pairs")).to_contain_text("Web shop")
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
