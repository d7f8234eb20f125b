"""The ``gitlab`` connector: GitLab issues through the REST API v4 (gitlab.com or self-managed).

Projects are GitLab projects (id = GitLab's number, key = ``group/name``), the one artifact type is
``issue``, artifacts are issues with the id ``<project id>#<iid>`` and the formatted id
``group/name#<iid>`` (GitLab's own reference). Comments are notes (internal notes are private);
attachments are uploads, attached with a note of their own that Hub marks so it is not a comment.
See ``docs/connectors.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from connectors.base import DEFAULT_ATTACHMENT_LIMIT, Connector
from connectors.errors import (
    ArtifactNotFound,
    CredentialsRefused,
    OperationUnsupported,
    ProjectNotFound,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.gitlab.client import DEFAULT_URL, PER_PAGE, GitLabClient, NotPermitted
from connectors.hidden_marker import marker_of, with_marker, without_marker
from connectors.http import identity, server_time
from connectors.redmine.keyset import Cursor, next_page
from connectors.redmine.transfer import spooled
from connectors.registry import register
from connectors.types import (
    Artifact,
    ArtifactType,
    AttachmentMeta,
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
ARTIFACT_ID = re.compile(r"^\s*(\d+)#(\d+)\s*$")
REFERENCE = re.compile(r"^\s*([\w.-]+(?:/[\w.-]+)+)#(\d+)\s*$")
UPLOAD = re.compile(r"\[([^\]]*)\]\((/uploads/([0-9a-f]+)/([^)\s]+))\)")
ATTACHMENT_NOTE = re.compile(r"<!-- hub-attachment size=(\d+) -->")
STATES = (Option("opened", "Open"), Option("closed", "Closed"))
PERSON_FIELDS = ["id", "username"]
PARALLEL = 8
MARKER_SEARCH_PAGES = 3


def stamp(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def split_id(artifact_id: str) -> tuple[str, int]:
    match = ARTIFACT_ID.match(str(artifact_id))
    if not match:
        raise ValuesNotAccepted("GitLab issue ids look like 42#7", fields={"id": repr(artifact_id)})
    return match.group(1), int(match.group(2))


def revision(issue: Mapping) -> str:
    """``updated_at`` (milliseconds) with the note count: a digest, as for GitHub."""
    parts = [issue["updated_at"], issue.get("user_notes_count"), issue.get("title"), issue.get("state")]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:20]


@register
class GitLabConnector(Connector):
    kind = "gitlab"
    label = "GitLab"
    capabilities = Capabilities(
        private_comments=True,  # internal notes
        attachments=True,  # uploads, attached with a marked note
        transitions=False,  # state_event close / reopen, set directly
        optimistic_concurrency=False,  # issue updates take no revision
        creation_marker=True,  # a hidden HTML comment at the end of the description
        max_page_size=PER_PAGE,
        event_hints=True,  # issue and note webhooks with the secret token
    )
    settings_fields = (
        SettingField(
            "url",
            "GitLab location",
            "url",
            required=True,
            default=DEFAULT_URL,
            help="https://gitlab.com, or the address of a self-managed GitLab.",
        ),
        SettingField(
            "token",
            "Access token",
            "password",
            required=True,
            secret=True,
            help="A personal, group or project access token with the api scope (Reporter to read, "
            "Developer or more to change issues).",
        ),
        SettingField(
            "projects",
            "Projects",
            help="group/name of the projects to offer, separated by commas. Empty: every project the "
            "token's user is a member of.",
        ),
    )
    help = (
        "Synchronizes GitLab issues. Each project is a project; labels, milestone, assignees, weight, "
        "due date, confidentiality and state are fields; internal notes are private comments. "
        "Attachments are GitLab uploads: Hub links each one it adds in a note of its own. Hub marks "
        "the issues it creates with a hidden comment at the end of the description."
    )
    event_hint_help = (
        "In the project's Settings → Webhooks → Add new webhook: the URL, the secret as Secret token, "
        "and the triggers Issues events and Comments."
    )

    def __init__(self, settings):
        super().__init__(settings)
        self.api = GitLabClient(settings)

    def close(self) -> None:
        self.api.close()

    # --- connection and structure -------------------------------------------------------------

    def test_connection(self) -> ConnectionInfo:
        response = self.api.call("GET", "/user")
        user = identity(response, required="username")["username"]
        try:
            version = self.api.get("/version").get("version", "")
        except NotPermitted:
            version = ""
        return ConnectionInfo(
            server=f"GitLab {version}".strip(), user=user, server_time=server_time(response)
        )

    def list_projects(self) -> list[Project]:
        configured = [p.strip() for p in (self.settings.extra.get("projects") or "").split(",") if p.strip()]
        if configured:
            return [self._project_of(self._project(p)) for p in configured]
        return [
            self._project_of(p) for p in self.api.pages("/projects", {"membership": "true", "simple": "true"})
        ]

    @staticmethod
    def _project_of(row: Mapping) -> Project:
        return Project(id=str(row["id"]), key=row["path_with_namespace"], name=row.get("name") or row["path"])

    def _project(self, project: str) -> dict:
        cache = self.__dict__.setdefault("_projects", {})
        if project not in cache:
            if not re.fullmatch(r"\d+|[\w.-]+(/[\w.-]+)+", str(project)):
                raise ProjectNotFound(f"GitLab has no project {project!r}.")
            missing = ProjectNotFound(f"GitLab has no project {project} visible to Hub's token.")
            encoded = str(project).replace("/", "%2F")
            row = self.api.get(f"/projects/{encoded}", missing=missing)
            cache[project] = cache[str(row["id"])] = row
        return cache[project]

    def artifact_types(self, project: str) -> list[ArtifactType]:
        self._project(project)
        return [ArtifactType(ISSUE, "Issue")]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        pid = self._project(project)["id"]
        labels = [Option(row["name"], row["name"]) for row in self.api.pages(f"/projects/{pid}/labels")]
        milestones = [
            Option(str(row["id"]), row["title"]) for row in self.api.pages(f"/projects/{pid}/milestones")
        ]
        fields = [
            FieldSchema("title", "Title", FieldType.STRING, required=True),
            FieldSchema("description", "Description", FieldType.RICH_TEXT, text_format="markdown"),
            FieldSchema("state", "State", FieldType.SINGLE_SELECT, options=STATES),
            FieldSchema("assignee", "Assignee", FieldType.PERSON, person_target=True),
            FieldSchema("assignees", "Assignees", FieldType.PERSONS, multi=True, person_target=True),
            FieldSchema("weight", "Weight", FieldType.LONG),
            FieldSchema("due_date", "Due date", FieldType.DATE),
            FieldSchema("confidential", "Confidential", FieldType.BOOLEAN),
            FieldSchema("author", "Author", FieldType.PERSON, read_only=True, person_target=True),
            FieldSchema("iid", "Number", FieldType.LONG, read_only=True),
            FieldSchema("created_at", "Created", FieldType.DATE_TIME, read_only=True),
            FieldSchema("updated_at", "Updated", FieldType.DATE_TIME, read_only=True),
            FieldSchema("closed_at", "Closed", FieldType.DATE_TIME, read_only=True),
        ]
        if labels:
            fields.insert(
                3, FieldSchema("labels", "Labels", FieldType.MULTI_SELECT, multi=True, options=labels)
            )
        if milestones:
            fields.insert(
                3, FieldSchema("milestone", "Milestone", FieldType.SINGLE_SELECT, options=milestones)
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
        """``updated_after`` (on or after, milliseconds) ordered by ``updated_at`` ascending. Where the
        instance pages issues by keyset (``pagination=keyset``; the ``next`` link carries a cursor),
        its links are followed: a row updated meanwhile moves to the end and hides nothing. An
        instance that ignores keyset pages by offset (its ``next`` link has a page number); then the
        keyset cursor of Redmine restarts each page from the last timestamp returned."""
        # A project given by its number needs no look-up first (an unknown one answers 404 below).
        pid = project if is_digits(str(project)) else self._project(project)["id"]
        if artifact_types and ISSUE not in artifact_types:
            return ChangePage(items=[], next_cursor=None)
        missing = ProjectNotFound(f"GitLab has no project {project} visible to Hub's token.")
        state = json.loads(cursor) if cursor else {}
        if state.get("next"):  # the server's own keyset cursor
            response = self.api.call("GET", state["next"].split("/api/v4/", 1)[1])
            return self._keyset_page(pid, response)
        size = max(1, min(page_size, PER_PAGE))
        params: dict[str, Any] = {"scope": "all", "order_by": "updated_at", "sort": "asc", "per_page": size}
        offset_cursor = Cursor.decode(state.get("offset")) if state.get("offset") else None
        if offset_cursor:
            params["updated_after"] = offset_cursor.stamp
        elif since is not None:
            params["updated_after"] = stamp(since - overlap)
        if not offset_cursor:
            response = self.api.call(
                "GET", f"/projects/{pid}/issues", params={**params, "pagination": "keyset"}, missing=missing
            )
            next_url = response.links.get("next", {}).get("url", "")
            if "cursor=" in next_url or not next_url:
                return self._keyset_page(pid, response)
            first_rows = response.json()  # an offset answer: this instance ignores keyset
        else:
            first_rows = None

        def fetch(batch: int):
            if batch == 0 and first_rows is not None:
                rows, last = first_rows, "next" not in response.links
            else:
                answer = self.api.call("GET", f"/projects/{pid}/issues", params={**params, "page": batch + 1})
                rows, last = answer.json(), "next" not in answer.links
            return [self._changed(pid, row) for row in rows], last, None

        page = next_page(fetch, offset_cursor, size, stamp=lambda i: stamp(i.updated))
        if page.next_cursor:
            page.next_cursor = json.dumps({"offset": page.next_cursor})
        return page

    def _changed(self, pid, row: Mapping) -> ChangedItem:
        return ChangedItem(f"{pid}#{row['iid']}", parse_time(row["updated_at"]), revision(row))

    def _keyset_page(self, pid, response) -> ChangePage:
        next_url = response.links.get("next", {}).get("url")
        return ChangePage(
            items=[self._changed(pid, row) for row in response.json()],
            next_cursor=json.dumps({"next": next_url}) if next_url else None,
        )

    # --- artifacts ----------------------------------------------------------------------------

    def _issue(self, artifact_id: str) -> tuple[str, dict]:
        pid, iid = split_id(artifact_id)
        missing = ArtifactNotFound(f"GitLab issue {artifact_id} does not exist (any more) or is not visible.")
        return pid, self.api.get(f"/projects/{pid}/issues/{iid}", missing=missing)

    def _notes(self, pid: str, iid: int) -> list[dict]:
        return list(
            self.api.pages(f"/projects/{pid}/issues/{iid}/notes", {"sort": "asc", "order_by": "created_at"})
        )

    def _artifact(self, pid: str, issue: Mapping, notes: list[dict] | None) -> Artifact:
        assignees = [str(u["id"]) for u in issue.get("assignees") or []]
        fields = {
            "title": issue.get("title") or "",
            "description": without_marker(issue.get("description")),
            "state": issue.get("state"),
            "labels": sorted(issue.get("labels") or []),
            "milestone": str(issue["milestone"]["id"]) if issue.get("milestone") else None,
            "assignee": assignees[0] if assignees else None,
            "assignees": sorted(assignees),
            "weight": issue.get("weight"),
            "due_date": dt.date.fromisoformat(issue["due_date"]) if issue.get("due_date") else None,
            "confidential": bool(issue.get("confidential")),
            "author": str(issue["author"]["id"]) if issue.get("author") else None,
            "iid": issue["iid"],
            "created_at": parse_time(issue.get("created_at")),
            "updated_at": parse_time(issue.get("updated_at")),
            "closed_at": parse_time(issue.get("closed_at")),
        }
        reference = (issue.get("references") or {}).get("full") or f"{pid}#{issue['iid']}"
        comments = attachments = None
        if notes is not None:
            comments = [
                self._comment(n)
                for n in notes
                if not n.get("system") and not ATTACHMENT_NOTE.search(n["body"])
            ]
            attachments = self._attachments(issue, notes)
        return Artifact(
            id=f"{pid}#{issue['iid']}",
            formatted_id=reference,
            url=issue.get("web_url") or "",
            project=str(pid),
            type=ISSUE,
            fields=fields,
            updated=parse_time(issue["updated_at"]),
            revision=revision(issue),
            comments=comments,
            attachments=attachments,
            marker=marker_of(issue.get("description")),
        )

    def read_artifact(self, artifact_id: str) -> Artifact:
        pid, issue = self._issue(artifact_id)
        notes = self._notes(pid, issue["iid"]) if issue.get("user_notes_count") else []
        return self._artifact(pid, issue, notes)

    def read_artifacts(self, artifact_ids: Sequence[str]) -> dict[str, Artifact]:
        """One issue a request (no read by many ids): a few in flight at once."""
        return self.read_in_parallel(artifact_ids, PARALLEL)

    def _payload(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "title":
                payload["title"] = value
            elif name == "description":
                payload["description"] = value or ""
            elif name == "state":
                if value not in ("opened", "closed"):
                    raise ValuesNotAccepted(
                        "GitLab issues are opened or closed", fields={"state": repr(value)}
                    )
                payload["state_event"] = "close" if value == "closed" else "reopen"
            elif name == "labels":
                payload["labels"] = ",".join(value or [])
            elif name == "milestone":
                payload["milestone_id"] = int(value) if value else 0
            elif name == "assignee":
                payload["assignee_ids"] = [int(value)] if value else []
            elif name == "assignees":
                payload["assignee_ids"] = [int(v) for v in value or []]
            elif name == "weight":
                payload["weight"] = value
            elif name == "due_date":
                payload["due_date"] = value.isoformat() if value else ""
            elif name == "confidential":
                payload["confidential"] = bool(value)
            elif name in ("author", "iid", "created_at", "updated_at", "closed_at"):
                raise ValuesNotAccepted("GitLab sets this field itself", fields={name: "read only"})
            else:
                raise ValuesNotAccepted("GitLab issues have no such field", fields={name: "unknown field"})
        return payload

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        pid = self._project(project)["id"]
        payload = self._payload(fields)
        payload["description"] = with_marker(payload.get("description") or "", marker)
        close = payload.pop("state_event", None) == "close"
        issue = self.api.call("POST", f"/projects/{pid}/issues", json=payload).json()
        if close:  # an issue is created open
            issue = self.api.call(
                "PUT", f"/projects/{pid}/issues/{issue['iid']}", json={"state_event": "close"}
            ).json()
        return self._artifact(str(pid), issue, [])

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        pid = self._project(project)["id"]
        params = {"scope": "all", "order_by": "created_at", "sort": "desc"}
        for issue in self.api.pages(f"/projects/{pid}/issues", params, limit=MARKER_SEARCH_PAGES):
            if marker_of(issue.get("description")) == marker:
                return self.read_artifact(f"{pid}#{issue['iid']}")
        return None

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        pid, iid = split_id(artifact_id)
        payload = self._payload(fields)
        if "description" in payload:  # keep the creation marker where it was
            payload["description"] = with_marker(
                payload["description"], marker_of(self._issue(artifact_id)[1].get("description"))
            )
        missing = ArtifactNotFound(f"GitLab issue {artifact_id} does not exist (any more).")
        if payload:
            issue = self.api.call(
                "PUT", f"/projects/{pid}/issues/{iid}", json=payload, missing=missing
            ).json()
        else:
            issue = self._issue(artifact_id)[1]
        return self._artifact(pid, issue, None)

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        match = REFERENCE.match(formatted_id or "")
        if not match:
            return None
        try:
            pid = self._project(match.group(1))["id"]
            return self.read_artifact(f"{pid}#{match.group(2)}")
        except (ArtifactNotFound, ProjectNotFound, NotPermitted):
            return None

    # --- comments -----------------------------------------------------------------------------

    @staticmethod
    def _comment(note: Mapping) -> Comment:
        return Comment(
            id=str(note["id"]),
            body=note.get("body") or "",
            author=str(note["author"]["id"]) if note.get("author") else "",
            private=bool(note.get("internal") or note.get("confidential")),
            created=parse_time(note.get("created_at")),
        )

    def comments(self, artifact_id: str) -> list[Comment]:
        return self.read_artifact(artifact_id).comments or []

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False) -> Comment:
        if not body.strip():
            raise ValuesNotAccepted("GitLab does not keep empty notes", fields={"comment": "empty"})
        pid, iid = split_id(artifact_id)
        missing = ArtifactNotFound(f"GitLab issue {artifact_id} does not exist (any more).")
        note = self.api.call(
            "POST",
            f"/projects/{pid}/issues/{iid}/notes",
            json={"body": body, "internal": private},
            missing=missing,
        ).json()
        return self._comment(note)

    # --- attachments --------------------------------------------------------------------------

    @staticmethod
    def _attachments(issue: Mapping, notes: list[dict]) -> list[AttachmentMeta]:
        """Uploads linked from the description or a note. Hub's attachment notes say the size;
        for others GitLab tells none (0 here; the download still keeps to the limit)."""
        found: dict[str, AttachmentMeta] = {}
        texts = [(issue.get("description") or "", None)] + [
            (n["body"], n) for n in notes if not n.get("system")
        ]
        for text, note in texts:
            size = ATTACHMENT_NOTE.search(text)
            for _, _, secret, filename in UPLOAD.findall(text):
                key = f"{secret}/{filename}"
                found.setdefault(
                    key,
                    AttachmentMeta(
                        id=key,
                        filename=filename,
                        size=int(size.group(1)) if size else 0,
                        created=parse_time(note["created_at"]) if note else None,
                    ),
                )
        return list(found.values())

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        return self.read_artifact(artifact_id).attachments or []

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        pid, _ = split_id(artifact_id)
        meta = {a.id: a for a in self.attachments(artifact_id)}.get(str(attachment_id))
        if meta is None:
            raise ValuesNotAccepted(
                f"GitLab issue {artifact_id} has no such attachment",
                fields={"attachment": str(attachment_id)},
            )
        if meta.size > max_bytes:
            raise attachment_too_large(meta.filename, max_bytes)
        return self.api.http.download(
            f"projects/{pid}/uploads/{meta.id}", filename=meta.filename, max_bytes=max_bytes
        )

    def upload_attachment(
        self,
        artifact_id: str,
        filename: str,
        content: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int = DEFAULT_ATTACHMENT_LIMIT,
    ) -> AttachmentMeta:
        pid, iid = split_id(artifact_id)
        self._issue(artifact_id)
        with spooled(content, filename, max_bytes) as (spool, size):

            def too_large(response) -> ValuesNotAccepted:
                return ValuesNotAccepted(
                    "GitLab refused the file", fields={filename: f"HTTP {response.status_code}"}
                )

            upload = self.api.http.request(
                "POST",
                f"projects/{pid}/uploads",
                files={"file": (filename, spool, content_type)},
                errors={413: too_large, 400: too_large},
            ).json()
        body = f"📎 {upload['markdown']}\n\n<!-- hub-attachment size={size} -->"
        note = self.api.call("POST", f"/projects/{pid}/issues/{iid}/notes", json={"body": body}).json()
        secret_and_name = upload["url"].split("/uploads/", 1)[1]
        return AttachmentMeta(
            id=secret_and_name,
            filename=filename,
            size=size,
            content_type=content_type,
            created=parse_time(note["created_at"]),
        )

    # --- persons ------------------------------------------------------------------------------

    @staticmethod
    def _person(user: Mapping) -> Person:
        return Person(
            id=str(user["id"]),
            username=user["username"],
            email=user.get("email") or "",
            display_name=user.get("name") or "",
        )

    def person_search_fields(self) -> list[str]:
        return list(PERSON_FIELDS)

    def find_persons(self, field: str, value: str) -> list[Person]:
        if field not in PERSON_FIELDS:
            raise OperationUnsupported(f"GitLab persons cannot be searched by {field!r}.")
        value = (value or "").strip()
        if field == "id":
            if not is_digits(value):
                return []
            try:
                return [self.read_person(value)]
            except ArtifactNotFound:
                return []
        rows = self.api.get("/users", params={"username": value}) if value else []
        return [self._person(u) for u in rows if u["username"].casefold() == value.casefold()]

    def read_person(self, person_id: str) -> Person:
        if not is_digits(str(person_id)):
            raise ValuesNotAccepted("GitLab person ids are numbers", fields={"person": repr(person_id)})
        return self._person(
            self.api.get(f"/users/{person_id}", missing=ArtifactNotFound(f"GitLab has no user {person_id}."))
        )

    # --- event hints --------------------------------------------------------------------------

    @classmethod
    def event_hints_from(cls, headers: Mapping[str, str], body: bytes, secret: str) -> list[EventHint]:
        """Issue and note events; GitLab sends the secret token as is in ``X-Gitlab-Token``."""
        if not secret or not hmac.compare_digest(headers.get("x-gitlab-token", ""), secret):
            raise CredentialsRefused("The delivery's X-Gitlab-Token does not match the secret.")
        try:
            payload = jsonload.loads(body)  # a webhook body: bounded nesting
            kind = payload.get("object_kind")
            project = str(payload["project"]["id"])
            if kind == "issue":
                iid = payload["object_attributes"]["iid"]
            elif kind == "note" and payload.get("issue"):
                iid = payload["issue"]["iid"]
            else:
                return []
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValuesNotAccepted(
                "The delivery is not an issue or note event", fields={"body": "unreadable"}
            ) from None
        return [EventHint(project=project, artifact_id=f"{project}#{iid}", artifact_type=ISSUE)]
