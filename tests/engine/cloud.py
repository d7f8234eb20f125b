"""The cloud tools of the engine's sync tests, as a person using each tool sees it: one adapter per
fake (``tests/fakes/``) with the same hands — create, change, read, comment, delete out of band — so
``test_cloud_sync.py`` runs one suite local ↔ each tool. A tool joins with one adapter in ``TOOLS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.azure_devops.connector import AzureDevOpsConnector
from connectors.github.connector import GitHubConnector
from connectors.gitlab.connector import GitLabConnector
from connectors.hidden_marker import marker_of
from connectors.jira.connector import JiraCloudConnector, JiraDataCenterConnector
from connectors.local import service
from connectors.local.models import LocalUser
from connectors.servicenow.connector import ServiceNowConnector
from integrations.models import (
    FieldMapping,
    Integration,
    Model,
    ModelField,
    Repository,
    RepositoryCollection,
    Route,
)
from integrations.services import set_projects
from tests.fakes.azure_devops import AzureDevOpsFake
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import GitLabFake
from tests.fakes.jira import JiraFake, adf_text
from tests.fakes.servicenow import ServiceNowFake

GRACE = "grace"  # a person of both the local tracker and the tool
MODEL_TYPES = {"title": "string", "owner": "person", "due": "date"}


class TokenCredentials:
    """The token expires (or is rotated by its owner) and is later renewed."""

    def expire_credentials(self) -> None:
        self.fake.revoke(self.fake.token)

    def renew_credentials(self) -> None:
        self.fake.tokens.add(self.fake.token)

    def credential(self) -> str:
        return self.fake.token


@dataclass
class RemoteIssue:
    title: str
    owner: str  # username, "" when nobody
    marker: str
    comments: list[tuple[str, bool]]  # (body, private)
    due: str | None = None  # the calendar day as the tool stores it


class GitHubTool(TokenCredentials):
    name = "github"
    connector_class = GitHubConnector
    artifact_type = "issue"
    fields = {"title": "title", "owner": "assignee"}  # model field → the tool's field
    private_comments = False
    update_method = "PATCH"  # how the connector writes an issue (for faults aimed at writes)

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


class GitLabTool(TokenCredentials):
    name = "gitlab"
    connector_class = GitLabConnector
    artifact_type = "issue"
    fields = {"title": "title", "owner": "assignee", "due": "due_date"}
    private_comments = True
    update_method = "PUT"

    def __init__(self):
        self.fake = GitLabFake()
        self.grace = self.fake.add_user(GRACE, "Grace Hopper", "grace@example.org")
        self.gitlab_project = self.fake.add_project("group/sync")
        self.project = str(self.gitlab_project.id)

    def close(self) -> None:
        self.fake.close()

    def repository(self, **overrides) -> Repository:
        values = dict(label="GitLab", kind="gitlab", url=self.fake.url, token=self.fake.token, timeout=5)
        return Repository.objects.create(**{**values, **overrides})

    @staticmethod
    def _iid(artifact_id: str) -> int:
        return int(artifact_id.rsplit("#", 1)[1])

    def create(self, title: str, owner: str = "") -> str:
        assignees = [self.fake.users[owner]] if owner else []
        issue = self.fake.new_issue(self.gitlab_project, title, "", author=self.grace, assignees=assignees)
        return f"{self.project}#{issue.iid}"

    def change(self, artifact_id: str, *, title: str | None = None) -> None:
        self.fake.touch(self.gitlab_project, self._iid(artifact_id), **({"title": title} if title else {}))

    def comment(self, artifact_id: str, body: str, private: bool = False) -> None:
        self.fake.note_as(self.gitlab_project, self._iid(artifact_id), body, self.grace, internal=private)

    def delete(self, artifact_id: str) -> None:
        self.fake.delete_issue(self.gitlab_project, self._iid(artifact_id))

    def ids(self) -> list[str]:
        with self.fake.lock:
            issues = sorted(self.gitlab_project.issues.items())
            return [f"{self.project}#{iid}" for iid, issue in issues if not issue.deleted]

    def read(self, artifact_id: str) -> RemoteIssue:
        with self.fake.lock:
            issue = self.gitlab_project.issues[self._iid(artifact_id)]
            return RemoteIssue(
                title=issue.title,
                owner=issue.assignees[0].username if issue.assignees else "",
                marker=marker_of(issue.description),
                comments=[(n.body, n.internal) for n in issue.notes if "hub-attachment" not in n.body],
                due=issue.due_date,
            )

    def set_due(self, artifact_id: str, day: str) -> None:
        self.fake.touch(self.gitlab_project, self._iid(artifact_id), due_date=day)

    def writes(self) -> list[tuple[str, str]]:
        return [(s.method, s.path) for s in self.fake.requests if s.method not in ("GET", "HEAD")]


class JiraTool(TokenCredentials):
    """Jira Cloud (or Data Center) whose API user lives in America/Los_Angeles (UTC-8, DST)."""

    connector_class = JiraCloudConnector
    artifact_type = "10001"  # Bug
    fields = {"title": "summary", "owner": "assignee", "due": "duedate"}
    private_comments = True
    update_method = "PUT"
    flavor = "cloud"

    def __init__(self):
        self.name = "jira" if self.flavor == "cloud" else "jira_dc"
        self.fake = JiraFake(flavor=self.flavor, time_zone="America/Los_Angeles")
        self.grace = self.fake.add_user(GRACE, "Grace Hopper", "grace@example.org")
        self.fake.add_project("SYNC", "Sync")
        self.project = "SYNC"

    def close(self) -> None:
        self.fake.close()

    def repository(self, **overrides) -> Repository:
        me = self.fake.me
        if self.flavor == "cloud":
            credentials = dict(auth_method="api_token", username=me.email, token=self.fake.token)
        else:
            credentials = dict(auth_method="basic", username=me.name, password=me.password)
        values = dict(label="Jira", kind=self.name, url=self.fake.url, timeout=5, **credentials)
        return Repository.objects.create(**{**values, **overrides})

    def create(self, title: str, owner: str = "") -> str:
        assignee = next((u for u in self.fake.users.values() if u.name == owner), None) if owner else None
        return self.fake.new_issue(self.project, title, reporter=self.grace, assignee=assignee).key

    def change(self, artifact_id: str, *, title: str | None = None) -> None:
        self.fake.touch(artifact_id, **({"summary": title} if title else {}))

    def comment(self, artifact_id: str, body: str, private: bool = False) -> None:
        visibility = {"type": "role", "value": "Developers"} if private else None
        self.fake.comment_as(artifact_id, body, self.grace, visibility)

    def delete(self, artifact_id: str) -> None:
        self.fake.delete_issue(artifact_id)

    def ids(self) -> list[str]:
        with self.fake.lock:
            return [key for key, issue in self.fake.issues.items() if not issue.deleted]

    def read(self, artifact_id: str) -> RemoteIssue:
        with self.fake.lock:
            issue = self.fake.issues[artifact_id]
            return RemoteIssue(
                title=issue.summary,
                owner=issue.assignee.name if issue.assignee else "",
                marker=(issue.properties.get("hub") or {}).get("marker", ""),
                comments=[(adf_text(c.body), bool(c.visibility)) for c in issue.comments],
                due=issue.duedate,
            )

    def set_due(self, artifact_id: str, day: str) -> None:
        self.fake.touch(artifact_id, duedate=day)

    def writes(self) -> list[tuple[str, str]]:
        return [
            (s.method, s.path)
            for s in self.fake.requests
            if s.method not in ("GET", "HEAD") and "/search" not in s.path
        ]


class JiraDataCenterTool(JiraTool):
    connector_class = JiraDataCenterConnector
    flavor = "dc"

    def expire_credentials(self) -> None:  # the password was changed
        self.saved, self.fake.me.password = self.fake.me.password, "changed-elsewhere"

    def renew_credentials(self) -> None:
        self.fake.me.password = self.saved

    def credential(self) -> str:
        return self.fake.me.password


class ServiceNowTool:
    name = "servicenow"
    connector_class = ServiceNowConnector
    artifact_type = "incident"
    fields = {"title": "short_description", "owner": "assigned_to"}  # due_date there has a time
    private_comments = True
    update_method = "PATCH"
    project = "incident"

    def __init__(self):
        self.fake = ServiceNowFake()
        self.grace = self.fake.add_user(GRACE, "Grace Hopper", "grace@example.org")

    def close(self) -> None:
        self.fake.close()

    def repository(self, **overrides) -> Repository:
        values = dict(
            label="ServiceNow",
            kind="servicenow",
            url=self.fake.url,
            timeout=5,
            username=self.fake.me.user_name,
            password=self.fake.me.password,
        )
        return Repository.objects.create(**{**values, **overrides})

    def create(self, title: str, owner: str = "") -> str:
        assignee = (
            next((u.sys_id for u in self.fake.users.values() if u.user_name == owner), "") if owner else ""
        )
        return self.fake.new_record(
            "incident", self.grace, short_description=title, assigned_to=assignee
        ).sys_id

    def change(self, artifact_id: str, *, title: str | None = None) -> None:
        self.fake.touch("incident", artifact_id, **({"short_description": title} if title else {}))

    def comment(self, artifact_id: str, body: str, private: bool = False) -> None:
        self.fake.add_journal(
            "incident", artifact_id, "work_notes" if private else "comments", body, self.grace
        )

    def delete(self, artifact_id: str) -> None:
        self.fake.delete_record("incident", artifact_id)

    def ids(self) -> list[str]:
        with self.fake.lock:
            return [sys_id for sys_id, r in self.fake.tables.records["incident"].items() if not r.deleted]

    def read(self, artifact_id: str) -> RemoteIssue:
        with self.fake.lock:
            record = self.fake.tables.records["incident"][artifact_id]
            owner = self.fake.users.get(record.values.get("assigned_to") or "")
            return RemoteIssue(
                title=record.values.get("short_description", ""),
                owner=owner.user_name if owner else "",
                marker=record.values.get("correlation_id", ""),
                comments=[
                    (j.value, j.element == "work_notes")
                    for j in self.fake.journal
                    if j.element_id == artifact_id
                ],
            )

    def expire_credentials(self) -> None:
        self.saved, self.fake.me.password = self.fake.me.password, "changed-elsewhere"

    def renew_credentials(self) -> None:
        self.fake.me.password = self.saved

    def credential(self) -> str:
        return self.fake.me.password

    def writes(self) -> list[tuple[str, str]]:
        return [(s.method, s.path) for s in self.fake.requests if s.method not in ("GET", "HEAD")]


class AzureDevOpsTool(TokenCredentials):
    """Work items of one team project; people are identities whose sign-in name is an e-mail
    address, so Hub reconciles them with the local tracker's users by e-mail."""

    name = "azure_devops"
    connector_class = AzureDevOpsConnector
    artifact_type = "Bug"
    fields = {"title": "System.Title", "owner": "System.AssignedTo"}  # its due dates carry a time
    private_comments = False
    update_method = "PATCH"
    project = "Sync"

    def __init__(self):
        self.fake = AzureDevOpsFake()
        self.grace = self.fake.add_identity("Grace Hopper", "grace@example.org")
        self.fake.add_project(self.project)

    def close(self) -> None:
        self.fake.close()

    def repository(self, **overrides) -> Repository:
        values = dict(
            label="Azure DevOps", kind="azure_devops", url=self.fake.url, token=self.fake.token, timeout=5
        )
        return Repository.objects.create(**{**values, **overrides})

    def _identity(self, username: str):
        return next(i for i in self.fake.identities.values() if i.unique_name.partition("@")[0] == username)

    def create(self, title: str, owner: str = "") -> str:
        fields = {"System.AssignedTo": self._identity(owner).id} if owner else {}
        return str(self.fake.new_item(self.project, "Bug", title, by=self.grace, **fields).id)

    def change(self, artifact_id: str, *, title: str | None = None) -> None:
        changes = {"System.Title": title} if title else {"System.Description": "changed"}
        self.fake.touch(int(artifact_id), by=self.grace, **changes)

    def comment(self, artifact_id: str, body: str, private: bool = False) -> None:
        assert not private, "Azure DevOps has no private comments"
        self.fake.comment_as(int(artifact_id), body, self.grace)

    def delete(self, artifact_id: str) -> None:
        self.fake.delete_item(int(artifact_id))

    def ids(self) -> list[str]:
        with self.fake.lock:
            return [str(n) for n, item in sorted(self.fake.items.items()) if not item.deleted]

    def read(self, artifact_id: str) -> RemoteIssue:
        with self.fake.lock:
            item = self.fake.items[int(artifact_id)]
            owner = self.fake.identities.get(item.fields.get("System.AssignedTo") or "")
            tags = [t.strip() for t in (item.fields.get("System.Tags") or "").split(";")]
            return RemoteIssue(
                title=item.fields["System.Title"],
                owner=owner.unique_name.partition("@")[0] if owner else "",  # the test's user name
                marker=next((t for t in tags if t.startswith("hub-")), ""),
                comments=[(c["text"], False) for c in item.comments],
            )

    def writes(self) -> list[tuple[str, str]]:
        return [
            (s.method, s.path)
            for s in self.fake.requests
            if s.method not in ("GET", "HEAD") and not s.path.endswith(("/wiql", "/workitemsbatch"))
        ]


TOOLS = {
    "azure_devops": AzureDevOpsTool,
    "github": GitHubTool,
    "gitlab": GitLabTool,
    "jira": JiraTool,
    "jira_dc": JiraDataCenterTool,
    "servicenow": ServiceNowTool,
}


def line(collection, repository_field, model_field, kind):
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=[repository_field],
        repository_field_types={repository_field: kind},
        model_fields=[model_field],
        model_field_types={model_field: kind},
    )


def integration_with(tool, **settings) -> Integration:
    """Local alpha DEMO ↔ the tool's project: title and owner both ways, A wins, comments both
    ways (private ones kept where the tool has them, left out where it has none)."""
    model = Model.objects.create(name="Defect")
    for position, (key, kind) in enumerate(MODEL_TYPES.items()):
        ModelField.objects.create(model=model, key=key, label=key.title(), type=kind, position=position)
    local = RepositoryCollection.objects.create(
        name="Alpha defects",
        repository=Repository.objects.create(label="Alpha", kind="local", url="local://alpha"),
        model=model,
        artifact_types=["bug"],
    )
    set_projects(local, [{"id": "DEMO", "key": "DEMO", "name": "Demo"}])
    line(local, "summary", "title", "string")
    line(local, "assignee", "owner", "person")
    line(local, "due_date", "due", "date")
    remote = RepositoryCollection.objects.create(
        name=f"{tool.name} issues",
        repository=tool.repository(),
        model=model,
        artifact_types=[tool.artifact_type],
    )
    set_projects(remote, [{"id": tool.project, "key": tool.project, "name": tool.project}])
    for key, kind in MODEL_TYPES.items():
        if tool.fields.get(key):  # GitHub issues have no date field
            line(remote, tool.fields[key], key, kind)
    integration = Integration.objects.create(
        name=f"Alpha ↔ {tool.name}",
        collection_a=local,
        collection_b=remote,
        creation_flow="both",
        field_flows=dict.fromkeys(
            [k for k in MODEL_TYPES if k in tool.fields], "both"
        ),  # mapped ones only (17005E)
        conflict_strategy="a_wins",
        comment_flow={  # keeping private comments private where the tool has none is refused (17026E)
            "a_to_b": {"enabled": True, "internal": "keep" if tool.private_comments else "skip"},
            "b_to_a": {"enabled": True, "internal": "keep"},
        },
        running=True,
        **settings,
    )
    Route.objects.create(integration=integration, project_a="DEMO", project_b=tool.project)
    LocalUser.objects.create(tracker=service.tracker("alpha"), username=GRACE, email="grace@example.org")
    return integration
