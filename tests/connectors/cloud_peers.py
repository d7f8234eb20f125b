"""Peers of the contract kit for tools that cannot run here: each is the tool's fake from
``tests/fakes/`` (a real HTTP server on loopback following the published contract), one per test,
with the out-of-band hands acting on the fake's state as another user of the tool would."""

from __future__ import annotations

import itertools

from connectors.types import RepositorySettings
from tests.fakes.azure_devops import AzureDevOpsFake
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import GitLabFake
from tests.fakes.jira import JiraFake
from tests.fakes.servicenow import ServiceNowFake

_touches = itertools.count(1)


def github_peer(request):
    from tests.connectors.contract import Peer

    fake = GitHubFake()
    grace = fake.add_user("grace", "Grace Hopper", "grace@example.org")
    repo = fake.add_repo("octo/kit")
    repo.collaborators.append(grace.login)

    def number(artifact_id: str) -> int:
        return int(artifact_id.rsplit("#", 1)[1])

    yield Peer(
        name="github",
        settings=RepositorySettings(kind="github", url=fake.url, token=fake.token),
        project="octo/kit",
        artifact_type="issue",
        title_field="title",
        text_field="body",
        person_username="grace",
        invalid_update={"title": ""},
        invalid_field="title",
        touch=lambda artifact_id: fake.touch(repo, number(artifact_id), title=f"touched {next(_touches)}"),
        delete=lambda artifact_id: fake.delete_issue(repo, number(artifact_id)),
        clock_resolution_seconds=1.0,
    )
    fake.close()


def gitlab_peer(request, keyset: bool = True):
    from tests.connectors.contract import Peer

    fake = GitLabFake(keyset=keyset)
    fake.add_user("grace", "Grace Hopper", "grace@example.org")
    project = fake.add_project("group/kit")

    def iid(artifact_id: str) -> int:
        return int(artifact_id.rsplit("#", 1)[1])

    yield Peer(
        name="gitlab" if keyset else "gitlab-offset",
        settings=RepositorySettings(kind="gitlab", url=fake.url, token=fake.token),
        project=str(project.id),
        artifact_type="issue",
        title_field="title",
        text_field="description",
        person_username="grace",
        invalid_update={"title": ""},
        invalid_field="title",
        touch=lambda artifact_id: fake.touch(project, iid(artifact_id), title=f"touched {next(_touches)}"),
        delete=lambda artifact_id: fake.delete_issue(project, iid(artifact_id)),
        clock_resolution_seconds=0.001,
    )
    fake.close()


def gitlab_offset_peer(request):
    """A GitLab that ignores ``pagination=keyset`` on issues (older instances): offset paging."""
    yield from gitlab_peer(request, keyset=False)


def jira_settings(fake: JiraFake) -> RepositorySettings:
    """Hub's settings for the fake's API user: e-mail and API token on Cloud, Basic on Data Center."""
    if fake.flavor == "cloud":
        return RepositorySettings(
            kind="jira", url=fake.url, auth_method="api_token", username=fake.me.email, token=fake.token
        )
    return RepositorySettings(
        kind="jira_dc", url=fake.url, auth_method="basic", username=fake.me.name, password=fake.me.password
    )


def jira_peer(request, flavor: str = "cloud"):
    """Jira Cloud (or Data Center) with the API user in America/Los_Angeles (UTC-8/-7, with DST)."""
    from tests.connectors.contract import Peer

    fake = JiraFake(flavor=flavor, time_zone="America/Los_Angeles")
    grace = fake.add_user("grace", "Grace Hopper", "grace@example.org")
    fake.add_project("KIT", "Contract kit")
    settings = jira_settings(fake)
    # Cloud has no user names: people sign in with their e-mail
    username = grace.email if flavor == "cloud" else grace.name
    yield Peer(
        name=f"jira-{flavor}",
        settings=settings,
        project="KIT",
        artifact_type="10001",
        title_field="summary",
        text_field="description",
        person_username=username,
        transition_values={"resolution": "10000"},
        invalid_update={"summary": ""},
        invalid_field="summary",
        touch=lambda key: fake.touch(key, summary=f"touched {next(_touches)}"),
        delete=fake.delete_issue,
        clock_resolution_seconds=0.001,
    )
    fake.close()


def jira_dc_peer(request):
    yield from jira_peer(request, flavor="dc")


def servicenow_peer(request):
    from tests.connectors.contract import Peer

    fake = ServiceNowFake()
    fake.add_user("grace", "Grace Hopper", "Grace@Example.org")
    yield Peer(
        name="servicenow",
        settings=RepositorySettings(
            kind="servicenow", url=fake.url, username=fake.me.user_name, password=fake.me.password
        ),
        project="incident",
        artifact_type="incident",
        title_field="short_description",
        text_field="description",
        person_username="grace",
        invalid_update={"short_description": ""},
        invalid_field="short_description",
        touch=lambda sys_id: fake.touch("incident", sys_id, description=f"touched {next(_touches)}"),
        delete=lambda sys_id: fake.delete_record("incident", sys_id),
        clock_resolution_seconds=1.0,
    )
    fake.close()


def azure_devops_peer(request, reporting: bool = True):
    """An organization with the reporting revisions feed, or (``reporting=False``) a server without
    it, where detection falls back to WIQL."""
    from tests.connectors.contract import Peer

    fake = AzureDevOpsFake(reporting=reporting)
    fake.add_identity("Grace Hopper", "grace@example.org")
    fake.add_project("Kit")
    yield Peer(
        name="azure-devops" if reporting else "azure-devops-wiql",
        settings=RepositorySettings(kind="azure_devops", url=fake.url, token=fake.token),
        project="Kit",
        artifact_type="Bug",
        title_field="System.Title",
        text_field="System.Description",
        person_username="grace@example.org",
        invalid_update={"System.Title": ""},
        invalid_field="System.Title",
        touch=lambda artifact_id: fake.touch(
            int(artifact_id), **{"System.Description": f"touched {next(_touches)}"}
        ),
        delete=lambda artifact_id: fake.delete_item(int(artifact_id)),
        clock_resolution_seconds=0.001,
    )
    fake.close()


def azure_devops_wiql_peer(request):
    yield from azure_devops_peer(request, reporting=False)
