"""Session-scoped real Redmine and Roundup servers for the connector tests, prepared once per run.

A server that cannot start fails the tests that need it (``PeerStartError``), it never skips them.
``tests/connectors/conftest.py`` registers the fixtures.

Redmine's REST API cannot create custom fields, so ``prepared_redmine`` writes them into the
server's private SQLite database (Redmine reads definitions per request, no restart needed), then
adds a second user and a project membership through the REST API like an administrator would.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from connectors.types import RepositorySettings
from tests.peers.servers import PeerServer, start_redmine, start_roundup

MARKER_FIELD = "Hub marker"
# name, format, possible values, multiple
REDMINE_CUSTOM_FIELDS = (
    ("Severity", "list", ("minor", "major", "critical"), False),
    ("Components", "list", ("ui", "api", "db"), True),
    ("Customer ref", "string", (), False),
    ("Affected users", "int", (), False),
    ("Risk", "float", (), False),
    ("Promised on", "date", (), False),
    ("Verified", "bool", (), False),
    ("Reviewer", "user", (), False),
    ("Reviewers", "user", (), True),
    ("Runbook", "link", (), False),
    (MARKER_FIELD, "string", (), False),
)
MEMBER_LOGIN = "grace"
MEMBER_PASSWORD = "Grace-Hopper-1906"
MEMBER_EMAIL = "Grace.Hopper@example.org"


@dataclass
class PreparedRedmine:
    server: PeerServer
    project_id: str
    custom_fields: dict[str, str] = field(default_factory=dict)  # name → Hub field id (cf_N)
    member_id: str = ""

    def settings(self, **overrides) -> RepositorySettings:
        values = dict(kind="redmine", url=self.server.url, auth_method="api_key", token=self.server.api_key)
        values.update(overrides)
        return RepositorySettings(**values)

    def rest(self) -> httpx.Client:
        """Out-of-band hands: the administrator acting directly on Redmine, not through Hub."""
        return httpx.Client(base_url=self.server.url, headers=self.server.api_headers(), timeout=30)


def _add_redmine_custom_fields(db_file: Path) -> dict[str, int]:
    made = {}
    with sqlite3.connect(db_file) as db:
        trackers = [row[0] for row in db.execute("SELECT id FROM trackers")]
        for position, (name, fmt, values, multiple) in enumerate(REDMINE_CUSTOM_FIELDS, start=1):
            possible = "---\n" + "".join(f"- {v}\n" for v in values) if values else None
            cursor = db.execute(
                "INSERT INTO custom_fields (type, name, field_format, possible_values, is_for_all, is_filter,"
                " position, multiple, format_store, visible, editable, searchable, is_required)"
                " VALUES ('IssueCustomField', ?, ?, ?, 1, 1, ?, ?, ?, 1, 1, 0, 0)",
                (name, fmt, possible, position, int(multiple), "--- {}\n"),
            )
            for tracker in trackers:
                db.execute("INSERT INTO custom_fields_trackers VALUES (?, ?)", (cursor.lastrowid, tracker))
            made[name] = cursor.lastrowid
    return made


def prepare_redmine(workdir: Path) -> PreparedRedmine:
    server = start_redmine(workdir)
    try:
        db_file = Path(server.info["instance_dir"]) / "db" / "redmine.sqlite3"
        made = _add_redmine_custom_fields(db_file)
        prepared = PreparedRedmine(
            server=server,
            project_id=str(server.info["project_id"]),
            custom_fields={name: f"cf_{cf_id}" for name, cf_id in made.items()},
        )
        with prepared.rest() as rest:
            user = rest.post(
                "/users.json",
                json={
                    "user": {
                        "login": MEMBER_LOGIN,
                        "firstname": "Grace",
                        "lastname": "Hopper",
                        "mail": MEMBER_EMAIL,
                        "password": MEMBER_PASSWORD,
                        "must_change_passwd": False,
                    }
                },
            )
            user.raise_for_status()
            prepared.member_id = str(user.json()["user"]["id"])
            roles = {r["name"]: r["id"] for r in rest.get("/roles.json").json()["roles"]}
            for user_id, role in ((prepared.member_id, "Developer"), ("1", "Manager")):
                rest.post(
                    f"/projects/{prepared.project_id}/memberships.json",
                    json={"membership": {"user_id": int(user_id), "role_ids": [roles[role]]}},
                ).raise_for_status()
        return prepared
    except BaseException:
        server.stop()
        raise


def roundup_settings(server: PeerServer, **overrides) -> RepositorySettings:
    values = dict(
        kind="roundup",
        url=server.url,
        auth_method="basic",
        username=server.admin_user,
        password=server.admin_password,
    )
    values.update(overrides)
    return RepositorySettings(**values)


@pytest.fixture(scope="session")
def redmine_peer_server(tmp_path_factory) -> PreparedRedmine:
    prepared = prepare_redmine(tmp_path_factory.mktemp("redmine"))
    yield prepared
    prepared.server.stop()


@pytest.fixture(scope="session")
def roundup_peer_server(tmp_path_factory) -> PeerServer:
    server = start_roundup(tmp_path_factory.mktemp("roundup"))
    yield server
    server.stop()
