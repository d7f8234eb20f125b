"""The connector contract kit: what every connector must do, checked against a running peer.

A *peer* is a real repository the suite talks to — the local tracker in this process, a Redmine or
a Roundup server on loopback — plus the out-of-band hands the suite needs to act as "someone else
changing the tool" (touch an artifact, delete one). ``test_contract.py`` runs every test once per
peer factory listed in ``PEER_FACTORIES``; a new connector joins by adding its factory there:

    def redmine_peer(request) -> Iterator[Peer]:
        server = request.getfixturevalue("redmine_server")   # from tests/peers
        ...
        yield Peer(...)

    PEER_FACTORIES["redmine"] = redmine_peer

A factory yields one ``Peer`` and cleans up after the ``yield``. The test database is set up for
every peer (the local tracker lives in it, and any connector may use the shared event rate limit).
Tests that a capability gates still assert something when the connector lacks it: that the
operation is refused with the SDK's error, never silently ignored.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.types import RepositorySettings


@dataclass
class Peer:
    name: str
    settings: RepositorySettings
    project: str  # a project id the credentials may create artifacts in
    artifact_type: str  # an artifact type id of that project to create
    title_field: str  # a required String field, e.g. "summary" or "subject"
    text_field: str  # another String or Rich Text field the suite may change
    person_username: str  # a person that exists, found by the "username" search field
    # Fields a transition from a new artifact's status needs ({} when none); see test_transitions.
    transition_values: Mapping[str, Any] = field(default_factory=dict)
    # An update the tool refuses, and the field id the refusal must name.
    invalid_update: Mapping[str, Any] = field(default_factory=dict)
    invalid_field: str = ""
    status_field: str = "status"
    extra_create_fields: Mapping[str, Any] = field(default_factory=dict)
    # Replacements for ``settings`` that the tool must refuse as wrong credentials.
    wrong_credentials: Mapping[str, Any] = field(
        default_factory=lambda: {"password": "wrong-secret-4711", "token": "wrong-secret-4711"}
    )
    # Out-of-band hands: change an artifact as another user would (any visible field), delete it.
    touch: Callable[[str], None] = lambda artifact_id: None
    delete: Callable[[str], None] = lambda artifact_id: None
    # The tool's timestamp precision: 1 second for Redmine, finer for the local tracker.
    clock_resolution_seconds: float = 1.0
    # Out-of-band: move the second artifact's last update into the clock second of the first's last
    # update, not before it (a loaded machine rarely fits two real updates into one second). None:
    # the test retries real updates until two fall into one second.
    same_second: Callable[[str, str], None] | None = None

    def create_fields(self, title: str, **more: Any) -> dict[str, Any]:
        return {self.title_field: title, **self.extra_create_fields, **more}


_counter = itertools.count(1)


def unique(text: str) -> str:
    return f"{text} {next(_counter)}"


def local_peer(request) -> Iterator[Peer]:
    """The built-in local tracker: one fresh tracker per test, with a project and two users."""
    from connectors.local import service
    from connectors.local.models import LocalUser

    name = f"contract{next(_counter)}"
    tracker = service.tracker(name)
    service.create_project(tracker, "KIT", "Contract kit")
    LocalUser.objects.create(
        tracker=tracker, username="grace", email="Grace@Example.org", display_name="Grace H"
    )
    LocalUser.objects.create(
        tracker=tracker, username="linus", email="linus@example.org", display_name="Linus"
    )
    touches = itertools.count(1)
    yield Peer(
        name="local",
        settings=RepositorySettings(kind="local", url=f"local://{name}"),
        project="KIT",
        artifact_type="bug",
        title_field="summary",
        text_field="description",
        person_username="grace",
        transition_values={"resolution": "fixed"},
        invalid_update={"summary": ""},
        invalid_field="summary",
        wrong_credentials={"username": "mallory"},
        touch=lambda artifact_id: service.update_item(
            int(artifact_id), {"description": f"touch {next(touches)}"}
        ),
        delete=lambda artifact_id: service.delete_item(int(artifact_id)),
        clock_resolution_seconds=1e-6,
    )


from tests.connectors.cloud_peers import (  # noqa: E402 - they need Peer above
    azure_devops_peer,
    azure_devops_wiql_peer,
    github_peer,
    gitlab_offset_peer,
    gitlab_peer,
    jira_dc_peer,
    jira_peer,
    servicenow_peer,
)
from tests.connectors.peers import redmine_peer, roundup_peer  # noqa: E402

PEER_FACTORIES: dict[str, Callable[[Any], Iterator[Peer]]] = {
    "local": local_peer,
    "redmine": redmine_peer,
    "roundup": roundup_peer,
    "github": github_peer,
    "gitlab": gitlab_peer,
    "gitlab-offset": gitlab_offset_peer,
    "jira-cloud": jira_peer,
    "jira-dc": jira_dc_peer,
    "servicenow": servicenow_peer,
    "azure-devops": azure_devops_peer,
    "azure-devops-wiql": azure_devops_wiql_peer,
}
