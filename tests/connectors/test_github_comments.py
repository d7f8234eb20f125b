"""GitHub comments kept current from the repository-wide feed (``/issues/comments?since=``): a
changed issue is read without listing its comments again, edits and new comments arrive through
the feed, a deletion (which the feed never reports) is caught by the issue's comment count."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors import registry
from connectors.github.comments import FEED
from connectors.types import RepositorySettings
from tests.fakes.github import GitHubFake

FEED_PATH = "/repos/octo/talk/issues/comments"


@pytest.fixture(scope="module")
def fake():
    with GitHubFake() as server:
        server.add_repo("octo/talk")
        yield server


@pytest.fixture
def github(fake, db):
    FEED.clear()
    with registry.connect(RepositorySettings(kind="github", url=fake.url, token=fake.token)) as connector:
        yield connector
    FEED.clear()


def listed(fake, number: int) -> int:
    return len(fake.seen("GET", f"/repos/octo/talk/issues/{number}/comments"))


def later(fake) -> None:
    fake.clock_offset += dt.timedelta(seconds=2)  # GitHub's clock has one-second precision


def test_a_second_read_takes_new_and_edited_comments_from_the_feed(fake, github):
    repo = fake.repos["octo/talk"]
    issue = fake.new_issue(repo, "Talk")
    first = fake.comment_as(repo, issue.number, "first", fake.me)
    seen = github.read_artifact(f"octo/talk#{issue.number}")
    assert [c.body for c in seen.comments] == ["first"]
    assert listed(fake, issue.number) == 1
    later(fake)
    fake.comment_as(repo, issue.number, "second", fake.me)
    first.body, first.updated = "first, edited", fake.tick()
    read = github.read_artifact(f"octo/talk#{issue.number}")
    assert [c.body for c in read.comments] == ["first, edited", "second"]
    assert listed(fake, issue.number) == 1  # not listed again
    # the feed's first ``since``: the issue's updated_at when its comments were listed
    assert fake.seen("GET", FEED_PATH)[-1].query["since"] == [seen.updated.strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_a_deleted_comment_is_caught_by_the_count_and_the_issue_listed_again(fake, github):
    repo = fake.repos["octo/talk"]
    issue = fake.new_issue(repo, "Pruned")
    gone = fake.comment_as(repo, issue.number, "to delete", fake.me)
    fake.comment_as(repo, issue.number, "to keep", fake.me)
    github.read_artifact(f"octo/talk#{issue.number}")
    later(fake)
    repo.issues[issue.number].comments.remove(gone)
    fake.comment_as(repo, issue.number, "new", fake.me)  # the count alone would match again
    read = github.read_artifact(f"octo/talk#{issue.number}")
    assert [c.body for c in read.comments] == ["to keep", "new"]
    assert listed(fake, issue.number) == 2


def test_a_batch_reads_the_feed_once_and_no_comment_list_of_a_known_issue(fake, github):
    repo = fake.repos["octo/talk"]
    issues = [fake.new_issue(repo, f"Batch {n}") for n in range(4)]
    for issue in issues:
        fake.comment_as(repo, issue.number, f"on {issue.number}", fake.me)
    ids = [f"octo/talk#{issue.number}" for issue in issues]
    github.read_artifacts(ids)
    before = len(fake.seen("GET", FEED_PATH))
    later(fake)
    fake.comment_as(repo, issues[0].number, "more", fake.me)
    read = github.read_artifacts(ids)
    assert [c.body for c in read[ids[0]].comments] == [f"on {issues[0].number}", "more"]
    assert len(fake.seen("GET", FEED_PATH)) == before + 1
    assert all(listed(fake, issue.number) == 1 for issue in issues)


def test_comments_hub_writes_are_kept_without_asking_again(fake, github):
    repo = fake.repos["octo/talk"]
    issue = fake.new_issue(repo, "Written")
    artifact_id = f"octo/talk#{issue.number}"
    github.read_artifact(artifact_id)
    github.add_comment(artifact_id, "from Hub")
    assert [c.body for c in github.comments(artifact_id)] == ["from Hub"]
    assert listed(fake, issue.number) == 0  # no comments at first: nothing was ever listed


def test_the_same_token_and_repository_on_another_server_are_other_comments(fake, github):
    repo = fake.repos["octo/talk"]
    issue = fake.new_issue(repo, "Here")
    fake.comment_as(repo, issue.number, "on the first server", fake.me)
    github.read_artifact(f"octo/talk#{issue.number}")
    with GitHubFake(token=fake.token) as other:
        elsewhere = other.add_repo("octo/talk")
        for n in range(1, issue.number):
            other.new_issue(elsewhere, f"Filler {n}")
        twin = other.new_issue(elsewhere, "There")
        other.comment_as(elsewhere, twin.number, "on the second server", other.me)
        settings = RepositorySettings(kind="github", url=other.url, token=other.token)
        with registry.connect(settings) as connector:
            read = connector.read_artifact(f"octo/talk#{twin.number}")
    assert twin.number == issue.number
    assert [c.body for c in read.comments] == ["on the second server"]
