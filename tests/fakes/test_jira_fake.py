"""The Jira fake kept honest: the ``jira`` client (pycontribs, a maintained client nobody here wrote)
creates, reads, updates, transitions, searches, comments on, attaches to and pages through issues
on it without an error — as Jira Cloud and as Data Center; and the fake's rules that clients rarely
meet (``/search`` gone on Cloud, minute-precision JQL read in the user's zone, the XSRF header on
uploads)."""

from __future__ import annotations

import io
import zoneinfo

import httpx
import pytest
from jira import JIRA, JIRAError

from tests.fakes.jira import DONE, JiraFake


@pytest.fixture(params=["cloud", "dc"])
def fake(request):
    with JiraFake(flavor=request.param, time_zone="America/Los_Angeles") as server:
        server.add_user("grace", "Grace Hopper", "grace@example.org")
        server.add_project("DEMO", "Demo")
        yield server


@pytest.fixture
def client(fake):
    if fake.flavor == "cloud":
        jira = JIRA(fake.url, basic_auth=(fake.me.email, fake.token), get_server_info=True, max_retries=0)
    else:
        jira = JIRA(
            fake.url, basic_auth=(fake.me.name, fake.me.password), get_server_info=True, max_retries=0
        )
    yield jira
    jira.close()


def test_the_client_creates_reads_and_updates_an_issue(client):
    issue = client.create_issue(
        project="DEMO", summary="Crash on save", issuetype={"id": "10001"}, description="Steps"
    )
    assert issue.key == "DEMO-1"
    read = client.issue("DEMO-1")
    assert (read.fields.summary, read.fields.description, read.fields.status.name) == (
        "Crash on save",
        "Steps",
        "To Do",
    )
    read.update(summary="Crash on save (Windows)", priority={"id": "2"})
    again = client.issue("DEMO-1")
    assert (again.fields.summary, again.fields.priority.name) == ("Crash on save (Windows)", "High")


def test_the_client_moves_an_issue_through_its_workflow(client):
    issue = client.create_issue(project="DEMO", summary="Flow", issuetype={"id": "10001"})
    client.transition_issue(issue, "11")
    with pytest.raises(JIRAError) as refused:
        client.transition_issue(issue, "21")  # Resolve needs a resolution
    assert refused.value.status_code == 400
    client.transition_issue(issue, "21", fields={"resolution": {"id": "10000"}})
    assert client.issue(issue.key).fields.status.id == DONE


def test_the_client_comments_and_attaches(client):
    issue = client.create_issue(project="DEMO", summary="Talk", issuetype={"id": "10001"})
    client.add_comment(issue, "public")
    client.add_comment(issue, "team only", visibility={"type": "role", "value": "Administrators"})
    assert [c.body for c in client.comments(issue)] == ["public", "team only"]
    attachment = client.add_attachment(issue, io.BytesIO(b"log bytes"), filename="trace.log")
    assert attachment.filename == "trace.log" and attachment.size == 9


def test_the_client_searches_and_pages(client, fake):
    for n in range(120):
        fake.new_issue("DEMO", f"Issue {n}")
    if fake.flavor == "cloud":
        found = client.enhanced_search_issues("project = DEMO ORDER BY key ASC", maxResults=0)
    else:
        found = client.search_issues("project = DEMO ORDER BY key ASC", maxResults=False)
    assert len(found) == 120 and found[0].key == "DEMO-1"


def test_cloud_has_removed_the_classic_search_and_refuses_unbounded_jql():
    with (
        JiraFake(flavor="cloud") as cloud,
        httpx.Client(base_url=cloud.url, auth=(cloud.me.email, cloud.token)) as http,
    ):
        cloud.add_project("DEMO")
        assert http.get("/rest/api/3/search", params={"jql": "project = DEMO"}).status_code == 410
        assert http.get("/rest/api/3/search/jql", params={"jql": "ORDER BY key DESC"}).status_code == 400


def test_jql_dates_are_minutes_in_the_users_zone(fake):
    issue = fake.new_issue("DEMO", "Zoned")
    local = issue.updated.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))  # UTC-8, or -7 in summer
    utc_text = issue.updated.strftime("%Y/%m/%d %H:%M")
    auth = (fake.me.email, fake.token) if fake.flavor == "cloud" else (fake.me.name, fake.me.password)
    path = "/rest/api/3/search/jql" if fake.flavor == "cloud" else "/rest/api/2/search"
    with httpx.Client(base_url=fake.url, auth=auth) as http:

        def found(text: str) -> int:
            body = {"jql": f'project = DEMO AND updated >= "{text}"', "fields": ["updated"]}
            return len(http.post(path, json=body).json()["issues"])

        assert found(local.strftime("%Y/%m/%d %H:%M")) == 1
        assert found(utc_text) == 0  # a UTC literal is read as Los Angeles time: hours later


def test_an_upload_without_the_xsrf_header_is_refused(fake):
    fake.new_issue("DEMO", "Files")
    auth = (fake.me.email, fake.token) if fake.flavor == "cloud" else (fake.me.name, fake.me.password)
    with httpx.Client(base_url=fake.url, auth=auth) as http:
        answer = http.post("/rest/api/2/issue/DEMO-1/attachments", files={"file": ("a.txt", b"x")})
    assert answer.status_code == 403


def test_wrong_credentials_are_refused(fake):
    with pytest.raises(JIRAError) as raised:
        JIRA(fake.url, basic_auth=("nobody@example.org", "wrong"), max_retries=0).myself()
    assert raised.value.status_code == 401
