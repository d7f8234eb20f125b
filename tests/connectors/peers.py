"""Session-scoped real Redmine and Roundup servers for the connector tests, prepared once per run.

A server that cannot start fails the tests that need it (``PeerStartError``), it never skips them.
``tests/connectors/conftest.py`` registers the fixtures.

Redmine's REST API cannot create custom fields, so ``prepared_redmine`` writes them into the
server's private SQLite database (Redmine reads definitions per request, no restart needed), then
adds a second user and a project membership through the REST API like an administrator would.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from connectors.types import RepositorySettings
from tests.peers.servers import (
    PeerServer,
    PeerStartError,
    _launch_and_wait,  # restart on the same port after a schema change
    _roundup_env,
    start_redmine,
    start_roundup,
)

MARKER_FIELD = "Hub marker"
ROUNDUP_TEXT_PROPERTY = "customer"  # a String property the test tracker adds to issues
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
# How long Hub and the tests wait for a peer's answer. A deadline, not a delay: generous because the
# peers share CI's two cores with the suite's other workers (Redmine has taken over 30 s to answer).
PEER_TIMEOUT = 120
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
        values = dict(
            kind="redmine",
            url=self.server.url,
            auth_method="api_key",
            token=self.server.api_key,
            timeout=PEER_TIMEOUT,
        )
        values.update(overrides)
        return RepositorySettings(**values)

    @property
    def db_file(self) -> Path:
        """The server's private SQLite database (Redmine reads it afresh on every request)."""
        return Path(self.server.info["instance_dir"]) / "db" / "redmine.sqlite3"

    def rest(self) -> httpx.Client:
        """Out-of-band hands: the administrator acting directly on Redmine, not through Hub."""
        return httpx.Client(base_url=self.server.url, headers=self.server.api_headers(), timeout=PEER_TIMEOUT)


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


def new_redmine_user(
    rest: httpx.Client, login: str, firstname: str, lastname: str, mail: str, password: str
) -> str:
    """Create a Redmine user as the administrator; its id."""
    user = rest.post(
        "/users.json",
        json={
            "user": {
                "login": login,
                "firstname": firstname,
                "lastname": lastname,
                "mail": mail,
                "password": password,
                "must_change_passwd": False,
            }
        },
    )
    user.raise_for_status()
    return str(user.json()["user"]["id"])


def prepare_redmine(workdir: Path, timeout: float = 120) -> PreparedRedmine:
    server = start_redmine(workdir, timeout=timeout)
    try:
        db_file = Path(server.info["instance_dir"]) / "db" / "redmine.sqlite3"
        made = _add_redmine_custom_fields(db_file)
        prepared = PreparedRedmine(
            server=server,
            project_id=str(server.info["project_id"]),
            custom_fields={name: f"cf_{cf_id}" for name, cf_id in made.items()},
        )
        with prepared.rest() as rest:
            prepared.member_id = new_redmine_user(
                rest, MEMBER_LOGIN, "Grace", "Hopper", MEMBER_EMAIL, MEMBER_PASSWORD
            )
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
        extra={"text_properties": ROUNDUP_TEXT_PROPERTY},
        timeout=PEER_TIMEOUT,
    )
    values.update(overrides)
    return RepositorySettings(**values)


@pytest.fixture(scope="session")
def redmine_peer_server(tmp_path_factory) -> PreparedRedmine:
    prepared = prepare_redmine(tmp_path_factory.mktemp("redmine"))
    yield prepared
    prepared.server.stop()


def prepare_roundup(workdir: Path) -> PeerServer:
    """A classic tracker whose issues also have a String property ``customer`` — trackers often
    extend the schema, and the contract kit needs a second text field. Roundup reads its schema
    when it starts, so the server is restarted on the same port after the change."""
    server = start_roundup(workdir)
    try:
        schema = Path(server.info["tracker_home"]) / "schema.py"
        text = schema.read_text()
        anchor = 'issue = IssueClass(db, "issue",'
        if anchor not in text:
            raise PeerStartError(f"the classic schema changed: no {anchor!r} in {schema}")
        schema.write_text(text.replace(anchor, f"{anchor} {ROUNDUP_TEXT_PROPERTY}=String(),"))
        command = server.process.args
        server.stop()
        probe = {k: v for k, v in server.api_headers().items() if k in ("Authorization", "Accept")}
        _launch_and_wait(
            server,
            command,
            cwd=workdir,
            env=_roundup_env(),
            probe_url=f"{server.url}rest/data/issue",
            probe_headers=probe,
            deadline=time.monotonic() + 60,
        )
        return server
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def roundup_peer_server(tmp_path_factory) -> PeerServer:
    server = prepare_roundup(tmp_path_factory.mktemp("roundup"))
    yield server
    server.stop()


def roundup_rest(server: PeerServer) -> httpx.Client:
    """Out-of-band hands on the Roundup tracker's REST API, as its administrator."""
    return httpx.Client(base_url=f"{server.url}rest/", headers=server.api_headers(), timeout=PEER_TIMEOUT)


def ensure_roundup_user(rest, username: str, timezone: str = "", **attributes) -> str:
    """The tracker user ``username`` (made with these attributes if it does not exist yet)."""
    found = rest.get("data/user", params={"username:": username}).json()["data"]["collection"]
    if found:
        return found[0]["id"]
    body = {"username": username, "password": "Pw-" + username, "roles": "User", **attributes}
    response = rest.post("data/user", json=body)
    response.raise_for_status()
    user_id = response.json()["data"]["id"]
    if timezone:  # Roundup takes the timezone on a change only, not when creating the user
        etag = rest.get(f"data/user/{user_id}").headers["ETag"]
        rest.patch(
            f"data/user/{user_id}", json={"timezone": timezone}, headers={"If-Match": etag}
        ).raise_for_status()
    return user_id


# --- peers of the contract kit (tests/connectors/contract.py) ------------------------------------


def redmine_peer(request):
    """Redmine on loopback, with the creation marker field configured."""
    from tests.connectors.contract import Peer

    prepared = request.getfixturevalue("redmine_peer_server")
    touches = itertools.count(1)

    def touch(issue_id: str) -> None:
        with prepared.rest() as rest:
            body = {"issue": {"description": f"touched by someone else {next(touches)}"}}
            rest.put(f"/issues/{issue_id}.json", json=body).raise_for_status()

    def delete(issue_id: str) -> None:
        with prepared.rest() as rest:
            rest.delete(f"/issues/{issue_id}.json").raise_for_status()

    def same_second(first_id: str, second_id: str) -> None:
        # Redmine keeps microseconds and answers in seconds: the last microsecond of first's second
        with sqlite3.connect(prepared.db_file) as db:
            db.execute(
                "UPDATE issues SET updated_on = (SELECT substr(updated_on, 1, 19) || '.999999'"
                " FROM issues WHERE id = ?) WHERE id = ?",
                (int(first_id), int(second_id)),
            )

    yield Peer(
        name="redmine",
        settings=prepared.settings(extra={"marker_field": MARKER_FIELD}),
        project=prepared.project_id,
        artifact_type="1",  # Bug
        title_field="subject",
        text_field="description",
        person_username=MEMBER_LOGIN,
        invalid_update={"subject": ""},
        invalid_field="subject",
        touch=touch,
        delete=delete,
        clock_resolution_seconds=1.0,
        same_second=same_second,
    )


def roundup_peer(request):
    """Roundup on loopback (classic template plus a ``customer`` text property)."""
    from tests.connectors.contract import Peer

    server = request.getfixturevalue("roundup_peer_server")
    touches = itertools.count(1)

    def change(issue_id: str, method: str, body: dict | None) -> None:
        with roundup_rest(server) as rest:
            etag = rest.get(f"data/issue/{issue_id}").headers["ETag"]
            rest.request(
                method, f"data/issue/{issue_id}", json=body, headers={"If-Match": etag}
            ).raise_for_status()

    def same_second(first_id: str, second_id: str) -> None:
        # Roundup keeps "YYYYMMDDHHMMSS.mmm" and answers in seconds: the last millisecond of the second
        with sqlite3.connect(Path(server.info["tracker_home"]) / "db" / "db") as db:
            db.execute(
                "UPDATE _issue SET _activity = (SELECT substr(_activity, 1, 14) || '.999'"
                " FROM _issue WHERE id = ?) WHERE id = ?",
                (int(first_id), int(second_id)),
            )

    with roundup_rest(server) as rest:
        ensure_roundup_user(rest, "grace", address="grace@example.org", realname="Grace Hopper")
    yield Peer(
        name="roundup",
        settings=roundup_settings(server),
        project=server.info["tracker_name"],
        artifact_type="issue",
        title_field="title",
        text_field=ROUNDUP_TEXT_PROPERTY,
        person_username="grace",
        invalid_update={"status": "no-such-status"},
        invalid_field="status",
        touch=lambda issue_id: change(issue_id, "PATCH", {ROUNDUP_TEXT_PROPERTY: f"touched {next(touches)}"}),
        delete=lambda issue_id: change(issue_id, "DELETE", None),
        clock_resolution_seconds=1.0,
        same_second=same_second,
    )
