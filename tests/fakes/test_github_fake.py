"""The GitHub fake kept honest: PyGithub (a maintained client nobody here wrote) creates, reads,
updates, searches, comments on and pages through issues on it without an error; and the fake's
own rules that clients rarely exercise (ETag/304 per token, 410 for a deleted issue, the limits)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from github import Auth, Github, GithubException

from tests.fakes.github import CONTENT_PER_MINUTE, GitHubFake


@pytest.fixture
def fake():
    with GitHubFake() as server:
        server.add_user("grace", "Grace Hopper")
        server.add_repo("octo/demo").collaborators.append("grace")
        yield server


@pytest.fixture
def client(fake):
    # GitHub Enterprise style: the API at a base URL of its own.
    gh = Github(base_url=fake.url, auth=Auth.Token(fake.token), per_page=30, retry=None)
    yield gh
    gh.close()


def test_pygithub_creates_reads_updates_and_closes_an_issue(client):
    repo = client.get_repo("octo/demo")
    issue = repo.create_issue(title="Crash on save", body="Steps…", labels=["bug"], assignees=["grace"])
    assert issue.number == 1 and [label.name for label in issue.labels] == ["bug"]
    read = repo.get_issue(1)
    assert (read.title, read.assignees[0].login) == ("Crash on save", "grace")
    read.edit(title="Crash on save (Windows)", state="closed", state_reason="not_planned")
    again = repo.get_issue(1)
    assert (again.title, again.state, again.state_reason) == (
        "Crash on save (Windows)",
        "closed",
        "not_planned",
    )
    assert again.closed_at is not None and again.updated_at >= issue.updated_at


def test_pygithub_comments_and_edits_a_comment(client):
    issue = client.get_repo("octo/demo").create_issue(title="With comments")
    comment = issue.create_comment("first")
    comment.edit("first, edited")
    assert [c.body for c in issue.get_comments()] == ["first, edited"]
    assert [c.body for c in client.get_repo("octo/demo").get_issues_comments()] == ["first, edited"]


def test_pygithub_reads_the_repository_comment_feed_since_a_time_and_deletes_a_comment(client, fake):
    repo = client.get_repo("octo/demo")
    first, second = repo.create_issue(title="One"), repo.create_issue(title="Two")
    old = first.create_comment("old")
    later = second.create_comment("later")
    since = later.created_at
    fake.clock_offset += dt.timedelta(seconds=5)  # the edit a clear second later (1 s precision)
    old.edit("old, edited")
    feed = repo.get_issues_comments(sort="updated", direction="asc", since=since)
    assert [c.body for c in feed] == ["later", "old, edited"]  # updated at or after, ascending
    assert [c.body for c in repo.get_issues_comments()] == ["old, edited", "later"]  # ascending id
    later.delete()
    assert repo.get_issue(second.number).comments == 0
    assert [c.body for c in repo.get_issues_comments(since=since)] == ["old, edited"]


def test_pygithub_pages_through_issues_by_link_header(client, fake):
    repo = client.get_repo("octo/demo")
    for n in range(75):
        fake.new_issue(fake.repos["octo/demo"], f"Issue {n}")
    listed = list(repo.get_issues(state="all", sort="updated", direction="asc"))
    assert len(listed) == 75 and len({i.number for i in listed}) == 75
    assert len(fake.seen("GET", "/repos/octo/demo/issues")) == 3  # 30 + 30 + 15, following rel="next"


def test_pygithub_searches_issues(client):
    repo = client.get_repo("octo/demo")
    repo.create_issue(title="Login fails", body="token expired")
    repo.create_issue(title="Slow page")
    found = client.search_issues('"token expired" repo:octo/demo is:issue')
    assert [i.title for i in found] == ["Login fails"]


def test_pygithub_sees_refused_values_as_validation_failed(client):
    with pytest.raises(GithubException) as raised:
        client.get_repo("octo/demo").create_issue(title="")
    assert raised.value.status == 422
    assert raised.value.data["errors"][0]["field"] == "title"


def test_pull_requests_are_listed_as_issues_with_a_pull_request_key(fake, client):
    fake.new_issue(fake.repos["octo/demo"], "A change", pull_request=True)
    [listed] = client.get_repo("octo/demo").get_issues(state="all")
    assert listed.pull_request is not None


def test_a_conditional_request_answers_304_without_using_the_rate_limit(fake):
    fake.new_issue(fake.repos["octo/demo"], "Cached")
    headers = {"Authorization": f"Bearer {fake.token}"}
    with httpx.Client(base_url=fake.url, headers=headers) as http:
        first = http.get("/repos/octo/demo/issues/1")
        again = http.get("/repos/octo/demo/issues/1", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
        assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    other = fake.add_user("linus", token="ghp-other-token")
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer ghp-other-token"}) as http:
        # ETags differ per token: another token's ETag does not match
        assert other and http.get("/repos/octo/demo/issues/1").headers["ETag"] != first.headers["ETag"]


def test_a_deleted_issue_answers_410(fake, client):
    repo = fake.repos["octo/demo"]
    fake.new_issue(repo, "Doomed")
    fake.delete_issue(repo, 1)
    with pytest.raises(GithubException) as raised:
        client.get_repo("octo/demo").get_issue(1)
    assert raised.value.status == 410


def test_content_creation_beyond_80_a_minute_meets_the_secondary_limit(fake):
    headers = {"Authorization": f"Bearer {fake.token}"}
    with httpx.Client(base_url=fake.url, headers=headers) as http:
        statuses = [
            http.post("/repos/octo/demo/issues", json={"title": f"n{n}"}).status_code
            for n in range(CONTENT_PER_MINUTE + 1)
        ]
        refused = http.post("/repos/octo/demo/issues", json={"title": "late"})
    assert statuses[:CONTENT_PER_MINUTE] == [201] * CONTENT_PER_MINUTE and statuses[-1] == 403
    assert "secondary rate limit" in refused.json()["message"] and int(refused.headers["retry-after"]) > 0


def test_a_revoked_token_is_refused_as_bad_credentials(fake, client):
    fake.revoke(fake.token)
    with pytest.raises(GithubException) as raised:
        client.get_repo("octo/demo")
    assert raised.value.status == 401
