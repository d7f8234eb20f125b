"""The GitLab fake kept honest: python-gitlab (a maintained client nobody here wrote) creates, reads,
updates, searches, comments on, uploads to and pages through issues on it without an error; and
the fake's rules clients rarely meet (keyset paging and its absence, a bare 429, totals above
10,000 rows)."""

from __future__ import annotations

import gitlab
import httpx
import pytest

from tests.fakes.gitlab import GitLabFake
from tests.fakes.harness import Fault


@pytest.fixture
def fake():
    with GitLabFake() as server:
        server.add_user("grace", "Grace Hopper")
        server.add_project("group/demo")
        yield server


@pytest.fixture
def client(fake):
    gl = gitlab.Gitlab(fake.url, private_token=fake.token, retry_transient_errors=False)
    yield gl
    gl.session.close()


def test_python_gitlab_creates_reads_updates_and_closes_an_issue(client, fake):
    project = client.projects.get("group/demo")
    grace = fake.users["grace"]
    issue = project.issues.create(
        {"title": "Crash", "description": "Steps", "labels": ["bug"], "assignee_ids": [grace.id]}
    )
    assert issue.iid == 1 and issue.labels == ["bug"] and issue.assignees[0]["username"] == "grace"
    issue.title, issue.state_event, issue.due_date = "Crash (Linux)", "close", "2026-03-29"
    issue.save()
    again = project.issues.get(1)
    assert (again.title, again.state, again.due_date) == ("Crash (Linux)", "closed", "2026-03-29")


def test_python_gitlab_adds_internal_and_public_notes(client):
    issue = client.projects.get("group/demo").issues.create({"title": "Notes"})
    issue.notes.create({"body": "public"})
    issue.notes.create({"body": "team only", "internal": True})
    notes = issue.notes.list(sort="asc", get_all=True)
    assert [(n.body, n.internal) for n in notes] == [("public", False), ("team only", True)]


def test_python_gitlab_uploads_a_file(client, fake):
    project = client.projects.get("group/demo")
    uploaded = project.upload("trace.log", filedata=b"log bytes")
    assert uploaded["url"].startswith("/uploads/") and uploaded["markdown"].endswith(")")
    secret, name = uploaded["url"].split("/")[2:4]
    with httpx.Client(base_url=fake.url, headers={"PRIVATE-TOKEN": fake.token}) as http:
        assert http.get(f"/api/v4/projects/{project.id}/uploads/{secret}/{name}").content == b"log bytes"


def test_python_gitlab_searches_and_pages_through_issues(client, fake):
    project = client.projects.get("group/demo")
    for n in range(45):
        fake.new_issue(fake.projects[project.id], f"Issue {n}", "token expired" if n == 7 else "")
    listed = project.issues.list(order_by="updated_at", sort="asc", get_all=True, per_page=20)
    assert len(listed) == 45 and len({i.iid for i in listed}) == 45
    assert [i.title for i in project.issues.list(search="token expired", get_all=True)] == ["Issue 7"]
    keyset = project.issues.list(
        pagination="keyset", order_by="updated_at", sort="asc", per_page=20, iterator=True
    )
    assert len(list(keyset)) == 45


def test_keyset_is_ignored_by_an_older_instance_which_pages_by_offset(fake):
    old = GitLabFake(keyset=False)
    try:
        project = old.add_project("group/old")
        for n in range(3):
            old.new_issue(project, f"Issue {n}")
        with httpx.Client(base_url=old.url, headers={"PRIVATE-TOKEN": old.token}) as http:
            answer = http.get(
                f"/api/v4/projects/{project.id}/issues", params={"pagination": "keyset", "per_page": 1}
            )
        assert "page=2" in answer.headers["Link"] and "cursor" not in answer.headers["Link"]
        assert answer.headers["X-Total"] == "3"
    finally:
        old.close()


def test_a_bare_429_has_no_rate_limit_headers(fake):
    fake.inject(Fault(status=429, body={"message": "Retry later"}))
    with httpx.Client(base_url=fake.url, headers={"PRIVATE-TOKEN": fake.token}) as http:
        answer = http.get("/api/v4/user")
    assert (
        answer.status_code == 429
        and "RateLimit-Reset" not in answer.headers
        and "Retry-After" not in answer.headers
    )


def test_python_gitlab_sees_refused_values(client):
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as raised:
        client.projects.get("group/demo").issues.create({"title": ""})
    assert raised.value.response_code == 400


def test_a_revoked_token_is_refused(client, fake):
    fake.revoke(fake.token)
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError):
        client.projects.get("group/demo")
