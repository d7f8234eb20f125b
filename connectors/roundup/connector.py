"""The ``roundup`` connector: a Roundup tracker's REST interface, classic template.

One tracker is one project (id = the tracker's name from its URL) with one artifact type,
``issue`` (formatted id ``issue42``). Comments are the issue's messages (``msg`` items), attachments
its files, persons the tracker's users. Every change carries the item's ETag (``If-Match``), so
updates are optimistic: a stale revision raises RevisionConflict. Roundup has no workflow: any
status can be set directly. See ``docs/connectors.md`` for what Roundup cannot do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

import httpx

from connectors.base import DEFAULT_ATTACHMENT_LIMIT, Connector
from connectors.errors import (
    ArtifactNotFound,
    ConnectorError,
    InvalidSettings,
    OperationUnsupported,
    ProjectNotFound,
    RevisionConflict,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.http import CHUNK, identity, limited
from connectors.redmine.keyset import Cursor, next_page
from connectors.redmine.transfer import spooled
from connectors.registry import register
from connectors.roundup.client import (
    RoundupClient,
    format_date,
    normal_etag,
    parse_date,
    server_time,
    user_zone,
)
from connectors.types import (
    Artifact,
    ArtifactType,
    AttachmentMeta,
    Capabilities,
    ChangedItem,
    ChangePage,
    Comment,
    ConnectionInfo,
    FieldSchema,
    FieldType,
    Option,
    Person,
    Project,
    SettingField,
)
from hub.ids import is_digits

ISSUE = "issue"
FORMATTED_ID = re.compile(r"^\s*issue(\d+)\s*$")
PERSON_FIELDS = ["id", "username", "email", "display_name"]
USER_PROPERTY = {"username": "username", "email": "address", "display_name": "realname"}
UPDATE_ATTEMPTS = 3  # a change without expected revision re-reads the ETag when someone was faster

# The classic template's issue properties: id, label, type, option class (selects), writable.
ISSUE_FIELDS = (
    ("title", "Title", FieldType.STRING, "", True),
    ("status", "Status", FieldType.SINGLE_SELECT, "status", True),
    ("priority", "Priority", FieldType.SINGLE_SELECT, "priority", True),
    ("assignedto", "Assigned to", FieldType.PERSON, "", True),
    ("nosy", "Nosy list", FieldType.PERSONS, "", True),
    ("keyword", "Keywords", FieldType.MULTI_SELECT, "keyword", True),
    ("superseder", "Superseded by", FieldType.RELATIONSHIPS, "", True),
    ("creator", "Created by", FieldType.PERSON, "", False),
    ("actor", "Last changed by", FieldType.PERSON, "", False),
    ("creation", "Created", FieldType.DATE_TIME, "", False),
    ("activity", "Last activity", FieldType.DATE_TIME, "", False),
)
MULTI = (FieldType.PERSONS, FieldType.MULTI_SELECT, FieldType.RELATIONSHIPS)
ORDERED = {"status", "priority"}


def _id(artifact_id: str) -> str:
    if not is_digits(str(artifact_id)):
        raise ValuesNotAccepted("Roundup issue ids are numbers", fields={"id": repr(artifact_id)})
    return str(artifact_id)


def _link(value: Any) -> str | None:
    return str(value["id"]) if isinstance(value, dict) else (str(value) if value else None)


def _value(field_type: FieldType, value: Any) -> Any:
    if field_type in MULTI:
        return sorted((_link(v) for v in value or []), key=lambda v: int(v) if is_digits(v) else 0)
    if field_type == FieldType.DATE_TIME:
        return parse_date(value)
    if field_type == FieldType.STRING:
        return value or ""
    return _link(value)


@register
class RoundupConnector(Connector):
    kind = "roundup"
    label = "Roundup"
    capabilities = Capabilities(
        private_comments=False,  # every message of an issue is visible to whoever sees the issue
        transitions=False,
        transitions_required=False,  # any status can be set directly
        optimistic_concurrency=True,  # ETag / If-Match on every change
        creation_marker=False,  # the classic schema has no property Hub could hide a marker in
        max_page_size=100,
    )
    settings_fields = (
        SettingField(
            "url",
            "Tracker location",
            "url",
            required=True,
            help="The tracker's web address, e.g. https://bugs.example.org/tracker/ (its [tracker] web).",
        ),
        SettingField(
            "auth_method", "Authentication", "choice", choices=(("basic", "User name and password"),)
        ),
        SettingField(
            "username", "User name", required=True, help="A user with the “Rest Access” permission."
        ),
        SettingField("password", "Password", "password", required=True, secret=True),
        SettingField(
            "text_properties",
            "Additional text properties",
            help="Comma-separated String properties your tracker's schema adds to issues "
            "(the classic template has only the title).",
        ),
    )

    def __init__(self, settings):
        super().__init__(settings)
        self.api = RoundupClient(settings)
        extra = [
            name.strip() for name in (settings.extra.get("text_properties") or "").split(",") if name.strip()
        ]
        unusable = [name for name in extra if not name.isidentifier() or name in {f[0] for f in ISSUE_FIELDS}]
        if unusable:
            raise InvalidSettings(f"Roundup text properties must be new property names, not {unusable}.")
        self.issue_fields = (*ISSUE_FIELDS, *((name, name, FieldType.STRING, "", True) for name in extra))
        self.field_types = {field_id: field_type for field_id, _, field_type, _, _ in self.issue_fields}
        self.writable = {field_id for field_id, *_, writable in self.issue_fields if writable}

    def close(self) -> None:
        self.api.close()

    # --- connection and structure -------------------------------------------------------------

    def _me(self) -> tuple[dict, Any]:
        response = self.api.call(
            "GET",
            "data/user",
            params={"username:": self.api.username, "@fields": "username,address,realname,timezone"},
        )
        rows = identity(response, "data").get("collection") or []
        if not rows:
            raise ConnectorError(f"Roundup has no user {self.api.username!r} visible to itself.")
        return rows[0], response

    @cached_property
    def me(self) -> dict:
        return self._me()[0]

    @cached_property
    def zone(self) -> dt.tzinfo:
        return user_zone(self.me.get("timezone"))

    def test_connection(self) -> ConnectionInfo:
        me, response = self._me()
        self.__dict__["me"] = me
        return ConnectionInfo(server="Roundup", user=me["username"], server_time=server_time(response))

    def list_projects(self) -> list[Project]:
        name = self.api.tracker_name
        return [Project(name, name, name)]

    def _check_project(self, project: str) -> None:
        if project != self.api.tracker_name:
            raise ProjectNotFound(
                f"A Roundup tracker is one project, {self.api.tracker_name!r}; there is no {project!r}."
            )

    def artifact_types(self, project: str) -> list[ArtifactType]:
        self._check_project(project)
        return [ArtifactType(ISSUE, "Issue")]

    def _options(self, klass: str) -> list[Option]:
        # status and priority have an "order"; keyword has only its name
        params = {"@fields": "name,order", "@sort": "order,id"} if klass in ORDERED else {"@fields": "name"}
        rows = self.api.get(f"data/{klass}", params=params)["collection"]
        return [Option(row["id"], row["name"]) for row in rows]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        self._check_project(project)
        if artifact_type != ISSUE:
            raise ValuesNotAccepted("Roundup trackers hold issues", fields={"type": repr(artifact_type)})
        schema = []
        for field_id, label, field_type, option_class, writable in self.issue_fields:
            options = self._options(option_class) if option_class else []
            if option_class and not options:
                continue  # e.g. no keywords defined yet: nothing could be chosen
            schema.append(
                FieldSchema(
                    id=field_id,
                    label=label,
                    type=field_type,
                    required=field_id == "title",
                    read_only=not writable,
                    multi=field_type in MULTI,
                    options=tuple(options),
                    person_target=field_type in (FieldType.PERSON, FieldType.PERSONS),
                    relationship_target=ISSUE if field_type == FieldType.RELATIONSHIPS else "",
                )
            )
        return schema

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
        """Issues by ``activity`` (one-second precision in answers), keyset-paged like Redmine's:
        each page asks again from the last second returned and drops the issues already returned
        in that second, so an issue changed meanwhile moves behind and hides no other."""
        self._check_project(project)
        if artifact_types and ISSUE not in artifact_types:
            return ChangePage(items=[], next_cursor=None, server_time=None)
        state = Cursor.decode(cursor)
        params: dict[str, Any] = {"@fields": "activity", "@sort": "activity,id", "@page_size": 100}
        start = parse_date(state.stamp) if state else (since - overlap if since is not None else None)
        if start is not None:
            params["activity"] = format_date(start, self.zone) + ";"

        def fetch(batch: int) -> tuple[list[ChangedItem], bool, dt.datetime | None]:
            response = self.api.call("GET", f"data/{ISSUE}", params={**params, "@page_index": batch + 1})
            body = response.json()["data"]
            items = [
                ChangedItem(r["id"], parse_date(r["activity"]), r["activity"]) for r in body["collection"]
            ]
            # Rows are filtered by permission after paging: only a missing "next" link ends the list.
            return items, "next" not in body.get("@links", {}), server_time(response)

        return next_page(fetch, state, max(1, min(page_size, self.capabilities.max_page_size)))

    # --- artifacts ----------------------------------------------------------------------------

    def _retired(self, issue_id: str) -> bool:
        """A retired issue stays readable by its URL but drops out of every search."""
        return not self.api.get(f"data/{ISSUE}", params={"id": issue_id, "@fields": "id"})["collection"]

    def _issue(self, artifact_id: str) -> dict:
        issue_id = _id(artifact_id)
        data = self.api.get(
            f"data/{ISSUE}/{issue_id}",
            params={"@fields": ",".join([*self.field_types, "messages", "files"])},
            missing=self.api.not_found(issue_id),
        )
        if self._retired(issue_id):
            raise self.api.not_found(issue_id)
        return data

    def _artifact(self, data: dict, *, details: bool = True) -> Artifact:
        attributes = data["attributes"]
        values = {
            field_id: _value(field_type, attributes.get(field_id))
            for field_id, field_type in self.field_types.items()
        }
        return Artifact(
            id=data["id"],
            formatted_id=f"{ISSUE}{data['id']}",
            url=f"{self.api.tracker_url}{ISSUE}{data['id']}",
            project=self.api.tracker_name,
            type=ISSUE,
            fields=values,
            updated=values["activity"],
            revision=normal_etag(data["@etag"]),
            comments=[self._message(_link(m)) for m in attributes.get("messages", [])] if details else None,
            attachments=[self._file(_link(f)) for f in attributes.get("files", [])] if details else None,
        )

    def read_artifact(self, artifact_id: str) -> Artifact:
        return self._artifact(self._issue(artifact_id))

    def _payload(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        payload = {}
        for field_id, value in fields.items():
            if field_id not in self.field_types:
                raise ValuesNotAccepted(
                    "Roundup issues have no such field", fields={field_id: "unknown field"}
                )
            if field_id not in self.writable:
                raise ValuesNotAccepted("Roundup sets this field itself", fields={field_id: "read only"})
            if self.field_types[field_id] in MULTI:
                payload[field_id] = [str(v) for v in value or []]
            else:
                payload[field_id] = "" if value is None else str(value)
        return payload

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        self._check_project(project)
        if artifact_type != ISSUE:
            raise ValuesNotAccepted("Roundup trackers hold issues", fields={"type": repr(artifact_type)})
        payload = {k: v for k, v in self._payload(fields).items() if v not in ("", [])}
        if not payload.get("title"):
            raise ValuesNotAccepted("A Roundup issue needs a title", fields={"title": "empty"})
        created = self.api.call("POST", f"data/{ISSUE}", json=payload).json()["data"]
        return self.read_artifact(created["id"])

    def _change(self, issue_id: str, body: Mapping[str, Any], expected_revision: str | None) -> None:
        """PATCH with the ETag Roundup requires. With an expected revision a mismatch is the
        caller's conflict; without one, re-read the ETag and try again."""
        for _ in range(UPDATE_ATTEMPTS):
            etag = expected_revision or self._current_etag(issue_id)
            try:
                self.api.call(
                    "PATCH",
                    f"data/{ISSUE}/{issue_id}",
                    json=dict(body),
                    headers={"If-Match": etag},
                    missing=self.api.not_found(issue_id),
                )
                return
            except RevisionConflict:
                if expected_revision:
                    raise
        raise RevisionConflict(f"Roundup issue{issue_id} kept changing while Hub tried to update it.")

    def _current_etag(self, issue_id: str) -> str:
        data = self.api.get(
            f"data/{ISSUE}/{issue_id}", params={"@fields": "id"}, missing=self.api.not_found(issue_id)
        )
        return normal_etag(data["@etag"])

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        issue_id = _id(artifact_id)
        payload = self._payload(fields)
        if payload and self._retired(issue_id):
            raise self.api.not_found(issue_id)
        # Roundup fails (409) to replace a multilink with an empty list: remove its members instead.
        emptied = [k for k, v in payload.items() if self.field_types[k] in MULTI and not v]
        replace = {k: v for k, v in payload.items() if k not in emptied}
        if replace:
            self._change(issue_id, replace, expected_revision)
            expected_revision = None
        if emptied:
            current = self.api.get(f"data/{ISSUE}/{issue_id}", params={"@fields": ",".join(emptied)})
            members = {k: [_link(v) for v in current["attributes"].get(k) or []] for k in emptied}
            members = {k: v for k, v in members.items() if v}
            if members:
                self._change(issue_id, {"@op": "remove", **members}, expected_revision)
        return self.read_artifact(issue_id)

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        match = FORMATTED_ID.match(formatted_id or "")
        if not match:
            return None
        try:
            return self.read_artifact(match.group(1))
        except ArtifactNotFound:
            return None

    # --- comments -----------------------------------------------------------------------------

    def _message(self, msg_id: str) -> Comment:
        data = self.api.get(
            f"data/msg/{msg_id}", params={"@verbose": 3, "@fields": "author,date,creation,content"}
        )
        attributes = data["attributes"]
        return Comment(
            id=data["id"],
            body=attributes.get("content") or "",
            author=_link(attributes.get("author")) or "",
            private=False,
            created=parse_date(attributes.get("date") or attributes.get("creation")),
        )

    def comments(self, artifact_id: str) -> list[Comment]:
        messages = self._issue(artifact_id)["attributes"].get("messages", [])
        return [self._message(_link(m)) for m in messages]

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False) -> Comment:
        if private:
            raise OperationUnsupported(
                "Roundup has no private messages: every message is visible with its issue."
            )
        issue_id = _id(artifact_id)
        if self._retired(issue_id):
            raise self.api.not_found(issue_id)
        created = self.api.call(
            "POST", "data/msg", json={"content": body, "author": self.me["id"], "date": "."}
        ).json()["data"]
        self._change(issue_id, {"@op": "add", "messages": [created["id"]]}, None)
        return self._message(created["id"])

    # --- attachments --------------------------------------------------------------------------

    def _file(self, file_id: str) -> AttachmentMeta:
        data = self.api.get(f"data/file/{file_id}", params={"@fields": "name,type,creation"})
        attributes = data["attributes"]
        # Files have no size property: the content's length comes with its headers.
        response = self._content(file_id)
        try:
            size = int(response.headers.get("Content-Length") or 0)
        finally:
            response.close()
        return AttachmentMeta(
            id=data["id"],
            filename=attributes.get("name") or f"file{file_id}",
            size=size,
            content_type=attributes.get("type") or "application/octet-stream",
            created=parse_date(attributes.get("creation")),
        )

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        files = self._issue(artifact_id)["attributes"].get("files", [])
        return [self._file(_link(f)) for f in files]

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        files = {_link(f) for f in self._issue(artifact_id)["attributes"].get("files", [])}
        if str(attachment_id) not in files:
            raise ValuesNotAccepted(
                f"Roundup issue{artifact_id} has no such file", fields={"attachment": str(attachment_id)}
            )
        meta = self._file(str(attachment_id))
        if meta.size > max_bytes:
            raise attachment_too_large(meta.filename, max_bytes)
        response = self._content(meta.id)

        def chunks() -> Iterator[bytes]:
            try:
                yield from limited(response.iter_bytes(CHUNK), max_bytes, meta.filename)
            finally:
                response.close()

        return chunks()

    def _content(self, file_id: str) -> httpx.Response:
        """A file's bytes, streamed. Asked as JSON, Roundup would answer a JSON text of them; without
        compression, Content-Length is the file's size (files have no size property)."""
        headers = {"Accept": "application/octet-stream", "Accept-Encoding": "identity"}
        return self.api.call("GET", f"data/file/{file_id}/binary_content", stream=True, headers=headers)

    def upload_attachment(
        self,
        artifact_id: str,
        filename: str,
        content: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int = DEFAULT_ATTACHMENT_LIMIT,
    ) -> AttachmentMeta:
        issue_id = _id(artifact_id)
        if self._retired(issue_id):
            raise self.api.not_found(issue_id)
        with spooled(content, filename, max_bytes) as (spool, size):
            response = self.api.call(
                "POST",
                "data/file",
                data={"name": filename, "type": content_type},
                files={"content": (filename, spool, content_type)},
            )
        file_id = response.json()["data"]["id"]
        self._change(issue_id, {"@op": "add", "files": [file_id]}, None)
        return self._file(file_id)

    # --- persons ------------------------------------------------------------------------------

    @staticmethod
    def _person(row: Mapping) -> Person:
        return Person(
            id=str(row["id"]),
            username=row.get("username") or "",
            email=row.get("address") or "",
            display_name=row.get("realname") or row.get("username") or "",
        )

    def person_search_fields(self) -> list[str]:
        return list(PERSON_FIELDS)

    def find_persons(self, field: str, value: str) -> list[Person]:
        if field not in PERSON_FIELDS:
            raise OperationUnsupported(f"Roundup persons cannot be searched by {field!r}.")
        if field == "id":
            try:
                return [self.read_person(value)] if is_digits(str(value)) else []
            except ArtifactNotFound:
                return []
        wanted = value.strip()
        if not wanted:
            return []
        prop = USER_PROPERTY[field]
        # A plain filter is a case-insensitive substring search: keep only exact matches.
        rows = self.api.get(
            "data/user", params={prop: wanted, "@fields": "username,address,realname", "@page_size": 100}
        )["collection"]
        return [self._person(r) for r in rows if (r.get(prop) or "").casefold() == wanted.casefold()]

    def read_person(self, person_id: str) -> Person:
        if not is_digits(str(person_id)):
            raise ValuesNotAccepted("Roundup user ids are numbers", fields={"person": repr(person_id)})
        missing = ArtifactNotFound(f"Roundup has no user {person_id}.")
        data = self.api.get(
            f"data/user/{person_id}", params={"@fields": "username,address,realname"}, missing=missing
        )
        return self._person({"id": data["id"], **data["attributes"]})
