"""The cloud tools of the engine's sync tests, as a person using each tool sees it: one adapter per
fake (``tests/fakes/``) with the same hands — create, change, read, comment, delete out of band — so
``test_cloud_sync.py`` runs one suite local ↔ each tool. A tool joins with one adapter in ``TOOLS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.github.connector import GitHubConnector
from integrations.models import Repository
from tests.fakes.github import GitHubFake

GRACE = "grace"  # a person of both the local tracker and the tool


@dataclass
class RemoteIssue:
    title: str
    owner: str  # username, "" when nobody
    marker: str
    comments: list[tuple[str, bool]]  # (body, private)


class GitHubTool:
    name = "github"
    connector_class = GitHubConnector
    artifact_type = "issue"
    fields = {"title": "title", "owner": "assignee"}  # model field → the tool's field
    private_comments = False

    def __init__(self):
        self.fake = GitHubFake()
        self.grace = self.fake.add_user(GRACE, "Grace Hopper", "grace@example.org")
        self.repo = self.fake.add_repo("octo/sync")
        self.project = self.repo.full_name

    def close(self) -> None:
        self.fake.close()

    def repository(self, **overrides) -> Repository:
        values = dict(label="GitHub", kind="github", url=self.fake.url, token=self.fake.token, timeout=5)
        return Repository.objects.create(**{**values, **overrides})

    def _number(self, artifact_id: str) -> int:
        return int(artifact_id.rsplit("#", 1)[1])

    def create(self, title: str, owner: str = "") -> str:
        assignees = [self.fake.users[owner]] if owner else []
        issue = self.fake.new_issue(self.repo, title, "", user=self.grace, assignees=assignees)
        return f"{self.project}#{issue.number}"

    def change(self, artifact_id: str, *, title: str | None = None) -> None:
        self.fake.touch(self.repo, self._number(artifact_id), **({"title": title} if title else {}))

    def comment(self, artifact_id: str, body: str, private: bool = False) -> None:
        assert not private, "GitHub has no private comments"
        self.fake.comment_as(self.repo, self._number(artifact_id), body, self.grace)

    def delete(self, artifact_id: str) -> None:
        self.fake.delete_issue(self.repo, self._number(artifact_id))

    def ids(self) -> list[str]:
        with self.fake.lock:
            return [f"{self.project}#{n}" for n, i in sorted(self.repo.issues.items()) if not i.deleted]

    def read(self, artifact_id: str) -> RemoteIssue:
        from connectors.github.connector import marker_of

        with self.fake.lock:
            issue = self.repo.issues[self._number(artifact_id)]
            return RemoteIssue(
                title=issue.title,
                owner=issue.assignees[0].login if issue.assignees else "",
                marker=marker_of(issue.body),
                comments=[(c.body, False) for c in issue.comments],
            )

    def writes(self) -> list[tuple[str, str]]:
        return [(s.method, s.path) for s in self.fake.requests if s.method not in ("GET", "HEAD")]


TOOLS = {"github": GitHubTool}
