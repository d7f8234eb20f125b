"""Per cloud connector, through the real HTTPS server and Debian's Chromium: an administrator
configures a repository of that kind against the tool's fake on loopback, tests the connection,
saves it, turns on event hints and registers the URL and secret shown; the fake then delivers its
documented webhook payloads to the running server, which takes the signed one and refuses a forged
one."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_configuration import hub, sign_in  # noqa: F401 - the running server fixture
from tests.fakes.azure_devops import AzureDevOpsFake
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import GitLabFake
from tests.fakes.harness import send_webhook
from tests.fakes.jira import JiraFake
from tests.fakes.servicenow import ServiceNowFake

pytestmark = pytest.mark.browser


class GitHub:
    fake_class = GitHubFake

    def values(self, fake) -> dict:
        fake.add_repo("octo/screens")
        return {"#id_url": fake.url, "#id_token": fake.token, "#id_repositories": "octo/screens"}

    def change_issue(self, fake) -> None:
        with httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {fake.token}"}) as tool:
            tool.post("/repos/octo/screens/issues", json={"title": "Hinted"}).raise_for_status()

    def forged(self, fake) -> tuple[bytes, dict]:
        repo = fake.repos["octo/screens"]
        body = fake.payload("issues", "edited", repo, repo.issues[1])
        return body, {"X-GitHub-Event": "issues", "X-Hub-Signature-256": "sha256=0"}


class GitLab:
    fake_class = GitLabFake

    def values(self, fake) -> dict:
        fake.add_project("group/screens")
        return {"#id_url": fake.url, "#id_token": fake.token, "#id_projects": "group/screens"}

    def change_issue(self, fake) -> None:
        project = next(iter(fake.projects.values()))
        with httpx.Client(base_url=fake.url, headers={"PRIVATE-TOKEN": fake.token}) as tool:
            tool.post(f"/api/v4/projects/{project.id}/issues", json={"title": "Hinted"}).raise_for_status()

    def forged(self, fake) -> tuple[bytes, dict]:
        project = next(iter(fake.projects.values()))
        body = fake.payload("Issue Hook", project, project.issues[1])
        return body, {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": "guessed"}


class Jira:
    fake_class = JiraFake
    flavor = "cloud"

    def values(self, fake) -> dict:
        fake.add_project("SCR", "Screens")
        if self.flavor == "cloud":
            return {
                "#id_url": fake.url,
                "#id_auth_method": "api_token",
                "#id_username": fake.me.email,
                "#id_token": fake.token,
            }
        return {
            "#id_url": fake.url,
            "#id_auth_method": "basic",
            "#id_username": fake.me.name,
            "#id_password": fake.me.password,
        }

    def change_issue(self, fake) -> None:
        version = "3" if self.flavor == "cloud" else "2"
        auth = (fake.me.email, fake.token) if self.flavor == "cloud" else (fake.me.name, fake.me.password)
        with httpx.Client(base_url=fake.url, auth=auth) as tool:
            body = {"fields": {"project": {"key": "SCR"}, "issuetype": {"id": "10001"}, "summary": "Hinted"}}
            tool.post(f"/rest/api/{version}/issue", json=body).raise_for_status()

    def forged(self, fake) -> tuple[bytes, dict]:
        return fake.payload("jira:issue_updated", fake.issues["SCR-1"]), {"X-Hub-Signature": "sha256=00"}


class JiraDataCenter(Jira):
    flavor = "dc"

    def fake_class(self):
        return JiraFake(flavor="dc")


class ServiceNow:
    fake_class = ServiceNowFake

    def values(self, fake) -> dict:
        return {
            "#id_url": fake.url,
            "#id_username": fake.me.user_name,
            "#id_password": fake.me.password,
            "#id_table": "incident",
        }

    def change_issue(self, fake) -> None:
        with httpx.Client(base_url=fake.url, auth=(fake.me.user_name, fake.me.password)) as tool:
            tool.post("/api/now/table/incident", json={"short_description": "Hinted"}).raise_for_status()

    def forged(self, fake) -> tuple[bytes, dict]:
        record = next(iter(fake.tables.records["incident"].values()))
        return fake.payload("incident", record), {"Authorization": "Basic aHViOmd1ZXNzZWQ="}


class AzureDevOps:
    fake_class = AzureDevOpsFake

    def values(self, fake) -> dict:
        fake.add_project("Screens")
        return {"#id_url": fake.url, "#id_token": fake.token, "#id_projects": "Screens"}

    def change_issue(self, fake) -> None:
        with httpx.Client(base_url=fake.url, auth=("", fake.token)) as tool:
            tool.post(
                "/Screens/_apis/wit/workItems/$Bug",
                params={"api-version": "7.1"},
                content=b'[{"op": "add", "path": "/fields/System.Title", "value": "Hinted"}]',
                headers={"Content-Type": "application/json-patch+json"},
            ).raise_for_status()

    def forged(self, fake) -> tuple[bytes, dict]:
        item = next(iter(fake.items.values()))
        return fake.payload("workitem.updated", item), {"Authorization": "Basic aHViOmd1ZXNzZWQ="}


CONNECTORS = {
    "azure_devops": AzureDevOps(),
    "github": GitHub(),
    "gitlab": GitLab(),
    "jira": Jira(),
    "jira_dc": JiraDataCenter(),
    "servicenow": ServiceNow(),
}


def wait_until(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the condition did not hold in time")


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
def test_an_administrator_configures_a_repository_tests_it_and_receives_its_webhooks(
    hub,  # noqa: F811
    page,
    kind,
):
    connector = CONNECTORS[kind]
    with connector.fake_class() as fake:
        values = connector.values(fake)
        sign_in(page, hub, "ada")
        page.goto(hub.url + "/settings/general/")  # secrets are stored only under a master password
        page.fill("#id_new_password", "master password for the browser test")
        page.fill("#id_new_password_again", "master password for the browser test")
        page.locator("form:has(#id_new_password) button[type=submit]").click()

        page.goto(hub.url + "/repositories/")
        page.select_option("#id_kind", kind)
        page.click("text=Create")
        expect(page.get_by_test_id("connector-help")).to_be_visible()
        page.fill("#id_label", f"The {kind} repository")
        for selector, value in values.items():
            if selector == "#id_auth_method":
                page.select_option(selector, value)
            else:
                page.fill(selector, value)
        page.click("[data-testid=test-connection]")
        expect(page.get_by_test_id("connection-result")).to_contain_text("Connection succeeded")
        page.click("button:text-is('Save')")
        expect(page.locator(".messages")).to_contain_text("created")

        page.click("[data-testid=hints-on]")
        url = page.get_by_test_id("hook-url").inner_text()
        secret = page.get_by_test_id("hook-secret").inner_text()
        assert url.startswith(hub.url + "/hooks/") and len(secret) >= 32
        page.reload()
        assert secret not in page.content()  # shown once, not on the page

        fake.hooks.append((url, secret))
        connector.change_issue(fake)
        wait_until(lambda: fake.deliveries)
        [(status, body)] = fake.deliveries
        assert status == 202, body
        status, _ = send_webhook(url, *connector.forged(fake))
        assert status == 401
