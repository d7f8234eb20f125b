"""The ``github`` connector: GitHub issues through the REST API (github.com or Enterprise Server).

Projects are repositories (id ``owner/name``), the one artifact type is ``issue``, artifacts are
issues with the id ``owner/name#42`` (issue numbers are per repository). Pull requests, which the
issues API lists too, are left out. Comments are issue comments (GitHub has no private ones);
GitHub's REST API has no attachments. See ``docs/connectors.md`` for settings and limits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import Connector
from connectors.errors import (
    ArtifactNotFound,
    CredentialsRefused,
    OperationUnsupported,
    ProjectNotFound,
    ValuesNotAccepted,
)
from connectors.github.client import DEFAULT_URL, PER_PAGE, GitHubClient, NotPermitted
from connectors.github.comments import FEED
from connectors.hidden_marker import marker_of, with_marker, without_marker
from connectors.http import identity, server_time
from connectors.redmine.keyset import Cursor, next_page
from connectors.registry import register
from connectors.types import (
    Artifact,
    ArtifactType,
    Capabilities,
    ChangedItem,
    ChangePage,
    Comment,
    ConnectionInfo,
    EventHint,
    FieldSchema,
    FieldType,
    Option,
    Person,
    Project,
    SettingField,
)
from hub import jsonload
from hub.ids import is_digits

ISSUE = "issue"
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
ARTIFACT_ID = re.compile(r"^\s*([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(\d+)\s*$")
MARKER_SEARCH_PAGES = 3  # the newest 300 issues: a twin is looked for soon after the worker died
STATES = (Option("open", "Open"), Option("closed", "Closed"))
STATE_REASONS = (
    Option("completed", "Completed"),
    Option("not_planned", "Not planned"),
    Option("reopened", "Reopened"),
    Option("duplicate", "Duplicate"),
)
PERSON_FIELDS = ["id", "username"]
PARALLEL = 8  # requests in flight when reading a batch of issues


def stamp(when: dt.datetime) -> str:
    """GitHub's ``YYYY-MM-DDTHH:MM:SSZ`` (one-second precision, UTC)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def split_id(artifact_id: str) -> tuple[str, int]:
    match = ARTIFACT_ID.match(str(artifact_id))
    if not match:
        raise ValuesNotAccepted("GitHub issue ids look like owner/name#42", fields={"id": repr(artifact_id)})
    return match.group(1), int(match.group(2))


def revision(issue: Mapping) -> str:
    """A digest of what a change can touch. GitHub has no version number, and ``updated_at`` alone
    (one-second precision) would make a change in the same second as Hub's write pass for it."""
    parts = [
        issue["updated_at"],
        issue.get("title"),
        issue.get("body"),
        issue.get("state"),
        issue.get("state_reason"),
        sorted(label["name"] for label in issue.get("labels") or []),
        sorted(user["id"] for user in issue.get("assignees") or []),
        (issue.get("milestone") or {}).get("number"),
        issue.get("comments"),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:20]


@register
class GitHubConnector(Connector):
    kind = "github"
    label = "GitHub"
    capabilities = Capabilities(
        private_comments=False,  # GitHub comments are all public
        attachments=False,  # the REST API has no attachments (files are links in Markdown)
        transitions=False,  # state is set directly: open / closed (with state_reason)
        optimistic_concurrency=False,  # PATCH takes no If-Match
        creation_marker=True,  # a hidden HTML comment at the end of the body
        max_page_size=PER_PAGE,
        event_hints=True,  # issues and issue_comment webhooks, HMAC-SHA256 signed
    )
    settings_fields = (
        SettingField(
            "url",
            "GitHub API location",
            "url",
            required=True,
            default=DEFAULT_URL,
            help="https://api.github.com for github.com; https://HOST/api/v3 for GitHub Enterprise Server.",
        ),
        SettingField(
            "token",
            "Access token",
            "password",
            required=True,
            secret=True,
            help="A fine-grained personal access token (or a GitHub App installation token) with read and "
            "write access to Issues of the repositories to synchronize.",
        ),
        SettingField(
            "repositories",
            "Repositories",
            help="owner/name of the repositories to offer as projects, separated by commas. Empty: every "
            "repository the token can see.",
        ),
    )
    help = (
        "Synchronizes GitHub issues (pull requests are left out). Each repository is a project; "
        "labels, milestone, assignees, state and state reason are fields. GitHub has no private "
        "comments and no attachments API. Hub marks the issues it creates with a hidden comment at "
        "the end of the description, so an interrupted create is never repeated."
    )

    event_hint_help = (
        "In the repository's Settings → Webhooks → Add webhook: the URL as payload URL, content type "
        "application/json, the secret, and the events Issues and Issue comments."
    )

    def __init__(self, settings):
        super().__init__(settings)
        self.api = GitHubClient(settings)
        self._logins: dict[str, str] = {}  # person id → login
        self._fresh: set[str] = set()  # repositories whose comment feed this batch has read

    def close(self) -> None:
        self.api.close()

    # --- connection and structure -------------------------------------------------------------

    def test_connection(self) -> ConnectionInfo:
        response = self.api.call("GET", "/user")
        version = response.headers.get("x-github-enterprise-version")
        server = f"GitHub Enterprise Server {version}" if version else "GitHub"
        user = identity(response, required="login")["login"]
        return ConnectionInfo(server=server, user=user, server_time=server_time(response))

    def _configured(self) -> list[str]:
        text = self.settings.extra.get("repositories") or ""
        return [name.strip() for name in text.split(",") if name.strip()]

    def list_projects(self) -> list[Project]:
        configured = self._configured()
        if configured:
            return [self._project_of(self._repository(name)) for name in configured]
        return [self._project_of(repo) for repo in self.api.pages("/user/repos")]

    @staticmethod
    def _project_of(repo: Mapping) -> Project:
        return Project(id=repo["full_name"], key=repo["full_name"], name=repo["name"])

    def _repository(self, project: str) -> dict:
        cache = self.__dict__.setdefault("_repositories", {})
        if project not in cache:
            if not REPOSITORY.match(str(project)):
                raise ProjectNotFound(f"GitHub has no repository {project!r} (give it as owner/name).")
            missing = ProjectNotFound(f"GitHub has no repository {project} visible to Hub's token.")
            cache[project] = self.api.get(f"/repos/{project}", missing=missing)[0]
        return cache[project]

    def artifact_types(self, project: str) -> list[ArtifactType]:
        self._repository(project)
        return [ArtifactType(ISSUE, "Issue")]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        self._repository(project)
        labels = [Option(row["name"], row["name"]) for row in self.api.pages(f"/repos/{project}/labels")]
        milestones = [
            Option(str(row["number"]), row["title"])
            for row in self.api.pages(f"/repos/{project}/milestones", {"state": "all"})
        ]
        fields = [
            FieldSchema("title", "Title", FieldType.STRING, required=True),
            FieldSchema("body", "Description", FieldType.RICH_TEXT, text_format="markdown"),
            FieldSchema("state", "State", FieldType.SINGLE_SELECT, options=STATES),
            FieldSchema("state_reason", "State reason", FieldType.SINGLE_SELECT, options=STATE_REASONS),
            FieldSchema("assignee", "Assignee", FieldType.PERSON, person_target=True),
            FieldSchema("assignees", "Assignees", FieldType.PERSONS, multi=True, person_target=True),
            FieldSchema("user", "Author", FieldType.PERSON, read_only=True, person_target=True),
            FieldSchema("number", "Number", FieldType.LONG, read_only=True),
            FieldSchema("created_at", "Created", FieldType.DATE_TIME, read_only=True),
            FieldSchema("updated_at", "Updated", FieldType.DATE_TIME, read_only=True),
            FieldSchema("closed_at", "Closed", FieldType.DATE_TIME, read_only=True),
        ]
        if labels:
            fields.insert(
                4, FieldSchema("labels", "Labels", FieldType.MULTI_SELECT, multi=True, options=labels)
            )
        if milestones:
            fields.insert(
                4, FieldSchema("milestone", "Milestone", FieldType.SINGLE_SELECT, options=milestones)
            )
        return fields

    # --- change detection ---------------------------------------------------------------------

    def changed_since(
        self,
        project: str,
        since: dt.datetime | None,
        *,
        artifact_types: Sequence[str] = (),
        overlap: dt.timedelta = dt.timedelta(0),
        cursor: str | None = None,
        page_size: int = 100,
    ) -> ChangePage:
        """``since=`` (updated at or after, one-second precision) sorted by ``updated`` ascending,
        with the keyset cursor of Redmine: each page restarts from the last second returned, so an
        issue updated while Hub pages cannot push another out of sight. The first page of a poll is
        the same request every time nothing changed (the watermark is the newest issue seen; there
        is no server clock in the cursor), so GitHub answers it 304 — free of the rate limit."""
        if not REPOSITORY.match(str(project)):
            raise ProjectNotFound(f"GitHub has no repository {project!r} (give it as owner/name).")
        if artifact_types and ISSUE not in artifact_types:
            return ChangePage(items=[], next_cursor=None)
        missing = ProjectNotFound(f"GitHub has no repository {project} visible to Hub's token.")
        state = Cursor.decode(cursor)
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc", "per_page": PER_PAGE}
        if state:
            params["since"] = state.stamp
        elif since is not None:
            params["since"] = stamp(since - overlap)

        def fetch(batch: int):
            page = {**params, "page": batch + 1}
            rows, link = self.api.get(f"/repos/{project}/issues", params=page, missing=missing)
            items = [
                ChangedItem(f"{project}#{row['number']}", parse_time(row["updated_at"]), revision(row))
                for row in rows
                if "pull_request" not in row
            ]
            return items, 'rel="next"' not in link, None

        return next_page(
            fetch, state, max(1, min(page_size, PER_PAGE)), stamp=lambda item: stamp(item.updated)
        )

    # --- artifacts ----------------------------------------------------------------------------

    def _issue(self, artifact_id: str) -> tuple[str, dict]:
        project, number = split_id(artifact_id)
        missing = ArtifactNotFound(
            f"GitHub issue {project}#{number} does not exist (any more) or is not visible."
        )
        issue = self.api.get(f"/repos/{project}/issues/{number}", missing=missing)[0]
        if "pull_request" in issue:
            raise missing
        return project, issue

    def _artifact(self, project: str, issue: Mapping, comments: list[Comment] | None) -> Artifact:
        assignees = [str(user["id"]) for user in issue.get("assignees") or []]
        for user in issue.get("assignees") or []:
            self._logins[str(user["id"])] = user["login"]
        fields = {
            "title": issue.get("title") or "",
            "body": without_marker(issue.get("body")),
            "state": issue.get("state"),
            "state_reason": issue.get("state_reason"),
            "labels": sorted(label["name"] for label in issue.get("labels") or []),
            "milestone": str(issue["milestone"]["number"]) if issue.get("milestone") else None,
            "assignee": assignees[0] if assignees else None,
            "assignees": sorted(assignees),
            "user": str(issue["user"]["id"]) if issue.get("user") else None,
            "number": issue["number"],
            "created_at": parse_time(issue.get("created_at")),
            "updated_at": parse_time(issue.get("updated_at")),
            "closed_at": parse_time(issue.get("closed_at")),
        }
        return Artifact(
            id=f"{project}#{issue['number']}",
            formatted_id=f"{project}#{issue['number']}",
            url=issue.get("html_url") or "",
            project=project,
            type=ISSUE,
            fields=fields,
            updated=parse_time(issue["updated_at"]),
            revision=revision(issue),
            comments=comments,
            attachments=[],
            marker=marker_of(issue.get("body")),
        )

    def read_artifact(self, artifact_id: str) -> Artifact:
        project, issue = self._issue(artifact_id)
        if project not in self._fresh:
            FEED.refresh(self.api, project)
        comments = [self._comment(row) for row in FEED.rows(self.api, project, issue)]
        return self._artifact(project, issue, comments)

    def read_artifacts(self, artifact_ids: Sequence[str]) -> dict[str, Artifact]:
        """One issue a request (no read by many ids): a few in flight at once. The comment feed
        of each repository is read once for the batch (``connectors/github/comments.py``)."""
        projects = {split_id(artifact_id)[0] for artifact_id in artifact_ids}
        for project in projects:
            FEED.refresh(self.api, project)
        self._fresh = projects
        try:
            return self.read_in_parallel(artifact_ids, PARALLEL)
        finally:
            self._fresh = set()

    def _login(self, person_id: Any) -> str:
        person_id = str(person_id)
        if person_id not in self._logins:
            if not is_digits(person_id):
                raise ValuesNotAccepted(
                    "GitHub person ids are numbers", fields={"assignees": repr(person_id)}
                )
            missing = ArtifactNotFound(f"GitHub has no user {person_id}.")
            self._logins[person_id] = self.api.get(f"/user/{person_id}", missing=missing)[0]["login"]
        return self._logins[person_id]

    def _payload(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("title", "state", "state_reason"):
                payload[name] = value
            elif name == "body":
                payload["body"] = value or ""
            elif name == "labels":
                payload["labels"] = list(value or [])
            elif name == "milestone":
                payload["milestone"] = int(value) if value not in (None, "") else None
            elif name == "assignee":
                payload["assignees"] = [self._login(value)] if value else []
            elif name == "assignees":
                payload["assignees"] = [self._login(v) for v in value or []]
            elif name in ("user", "number", "created_at", "updated_at", "closed_at"):
                raise ValuesNotAccepted("GitHub sets this field itself", fields={name: "read only"})
            else:
                raise ValuesNotAccepted("GitHub issues have no such field", fields={name: "unknown field"})
        return payload

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        self._repository(project)
        payload = self._payload(fields)
        payload["body"] = with_marker(payload.get("body") or "", marker)
        state = payload.pop("state", None)
        reason = payload.pop("state_reason", None)
        issue = self.api.create("POST", f"/repos/{project}/issues", json=payload)
        if state == "closed":  # an issue is created open; closing is a second request
            issue = self.api.call(
                "PATCH",
                f"/repos/{project}/issues/{issue['number']}",
                json={"state": "closed", "state_reason": reason or "completed"},
            ).json()
        created = self._artifact(project, issue, [])
        self._check_written(created, fields)
        return created

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        self._repository(project)
        params = {"state": "all", "sort": "created", "direction": "desc"}
        for issue in self.api.pages(f"/repos/{project}/issues", params, limit=MARKER_SEARCH_PAGES):
            if "pull_request" not in issue and marker_of(issue.get("body")) == marker:
                return self.read_artifact(f"{project}#{issue['number']}")
        return None

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        project, number = split_id(artifact_id)
        payload = self._payload(fields)
        missing = ArtifactNotFound(f"GitHub issue {project}#{number} does not exist (any more).")
        if "body" in payload:  # keep the creation marker where it was
            current = self._issue(artifact_id)[1]
            payload["body"] = with_marker(payload["body"], marker_of(current.get("body")))
        if payload:
            issue = self.api.call(
                "PATCH", f"/repos/{project}/issues/{number}", json=payload, missing=missing
            ).json()
        else:
            issue = self._issue(artifact_id)[1]
        updated = self._artifact(project, issue, None)
        self._check_written(updated, fields)
        return updated

    @staticmethod
    def _check_written(artifact: Artifact, fields: Mapping[str, Any]) -> None:
        """GitHub drops labels, assignees and milestones a token may not set without an error."""
        refused = {}
        for name in ("labels", "assignees", "assignee", "milestone"):
            if name in fields:
                wanted, have = fields[name], artifact.fields.get(name)
                if isinstance(wanted, list | tuple):
                    wanted = sorted(str(v) for v in wanted)
                if (wanted or None) != (have or None):
                    refused[name] = f"GitHub kept {have!r} instead of {wanted!r} (not permitted?)"
        if refused:
            raise ValuesNotAccepted(
                f"GitHub did not accept all values of {artifact.formatted_id}", fields=refused
            )

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        if not ARTIFACT_ID.match(formatted_id or ""):
            return None
        try:
            return self.read_artifact(formatted_id.strip())
        except (ArtifactNotFound, ProjectNotFound, NotPermitted):
            return None

    # --- comments -----------------------------------------------------------------------------

    @staticmethod
    def _comment(row: Mapping) -> Comment:
        return Comment(
            id=str(row["id"]),
            body=row.get("body") or "",
            author=str(row["user"]["id"]) if row.get("user") else "",
            created=parse_time(row.get("created_at")),
        )

    def comments(self, artifact_id: str) -> list[Comment]:
        return self.read_artifact(artifact_id).comments or []

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False) -> Comment:
        if private:
            raise OperationUnsupported("GitHub has no private comments.")
        if not body.strip():
            raise ValuesNotAccepted("GitHub does not keep empty comments", fields={"comment": "empty"})
        project, number = split_id(artifact_id)
        missing = ArtifactNotFound(f"GitHub issue {project}#{number} does not exist (any more).")
        row = self.api.create(
            "POST", f"/repos/{project}/issues/{number}/comments", json={"body": body}, missing=missing
        )
        FEED.add(self.api, project, number, row)
        return self._comment(row)

    # --- persons ------------------------------------------------------------------------------

    def _person(self, user: Mapping) -> Person:
        self._logins[str(user["id"])] = user["login"]
        return Person(
            id=str(user["id"]),
            username=user["login"],
            email=user.get("email") or "",
            display_name=user.get("name") or user["login"],
        )

    def person_search_fields(self) -> list[str]:
        return list(PERSON_FIELDS)

    def find_persons(self, field: str, value: str) -> list[Person]:
        if field not in PERSON_FIELDS:
            raise OperationUnsupported(f"GitHub persons cannot be searched by {field!r}.")
        value = (value or "").strip()
        if field == "id":
            if not is_digits(value):
                return []
            try:
                return [self.read_person(value)]
            except ArtifactNotFound:
                return []
        if not re.fullmatch(r"[A-Za-z0-9-]+", value):
            return []
        try:
            return [
                self._person(self.api.get(f"/users/{value}", missing=ArtifactNotFound("no such user"))[0])
            ]
        except ArtifactNotFound:
            return []

    def read_person(self, person_id: str) -> Person:
        if not is_digits(str(person_id)):
            raise ValuesNotAccepted("GitHub person ids are numbers", fields={"person": repr(person_id)})
        missing = ArtifactNotFound(f"GitHub has no user {person_id}.")
        return self._person(self.api.get(f"/user/{person_id}", missing=missing)[0])

    # --- event hints --------------------------------------------------------------------------

    @classmethod
    def event_hints_from(cls, headers: Mapping[str, str], body: bytes, secret: str) -> list[EventHint]:
        """An ``issues`` or ``issue_comment`` delivery, signed with ``X-Hub-Signature-256``."""
        signature = headers.get("x-hub-signature-256", "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not secret or not hmac.compare_digest(signature, expected):
            raise CredentialsRefused("The delivery's X-Hub-Signature-256 does not match the secret.")
        event = headers.get("x-github-event", "")
        if event == "ping":
            return []
        if event not in ("issues", "issue_comment"):
            return []
        try:
            payload = jsonload.loads(body)  # a webhook body: bounded nesting
            project = payload["repository"]["full_name"]
            issue = payload["issue"]
        except (ValueError, KeyError, TypeError):
            raise ValuesNotAccepted(
                "The delivery is not an issues event", fields={"body": "unreadable"}
            ) from None
        if "pull_request" in issue:
            return []
        return [EventHint(project=project, artifact_id=f"{project}#{issue['number']}")]
