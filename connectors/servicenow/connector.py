"""The ``servicenow`` connector: records of one ServiceNow table (``incident`` by default) through the
Table API, with the Attachment API and journal fields.

The table is the one project and the one artifact type; artifacts are records (id = ``sys_id``,
formatted id = ``number``, e.g. INC0010001). ``sys_mod_count`` is the revision. Comments are the
journal: ``comments`` are public, ``work_notes`` private. The creation marker is
``correlation_id``. See ``docs/connectors.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from connectors.base import DEFAULT_ATTACHMENT_LIMIT, Connector
from connectors.cloud import CloudClient
from connectors.errors import (
    ArtifactNotFound,
    ConnectorError,
    InvalidSettings,
    OperationUnsupported,
    ProjectNotFound,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.hooks import require_basic_secret
from connectors.http import retry_after_or_reset, server_time
from connectors.redmine.keyset import Cursor, next_page
from connectors.redmine.transfer import CHUNK, spooled
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

SYS_ID = re.compile(r"^[0-9a-f]{32}$")
TABLE = re.compile(r"^[a-z][a-z0-9_]*$")
PAGE = 100
STATES = (
    Option("1", "New"),
    Option("2", "In Progress"),
    Option("3", "On Hold"),
    Option("6", "Resolved"),
    Option("7", "Closed"),
    Option("8", "Canceled"),
)
PRIORITIES = tuple(
    Option(str(n), label) for n, label in enumerate(("Critical", "High", "Moderate", "Low", "Planning"), 1)
)
STRINGS = ("short_description", "close_code", "close_notes")
FIELDS = ",".join(
    (
        *STRINGS,
        "sys_id",
        "number",
        "description",
        "state",
        "priority",
        "assigned_to",
        "due_date",
        "correlation_id",
        "sys_created_on",
        "sys_updated_on",
        "sys_mod_count",
        "sys_created_by",
    )
)


def parse_time(text: str | None) -> dt.datetime | None:
    """``YYYY-MM-DD HH:MM:SS``, UTC (values, not display values)."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC) if text else None


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def error_detail(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return f"{error.get('message', '')}: {error.get('detail', '')}".strip(": ")
    except (ValueError, AttributeError):
        return response.text[:300]


class ServiceNowClient(CloudClient):
    tool = "ServiceNow"
    forbidden = "values"  # a data policy refuses with 403 ("Data Policy Exception")

    def refused(self, response: httpx.Response) -> ConnectorError:
        detail = error_detail(response)
        named = [
            f
            for f, label in (
                ("short_description", "Short description"),
                ("close_code", "Resolution code"),
                ("close_notes", "Resolution notes"),
            )
            if label in detail
        ]
        return ValuesNotAccepted(
            "ServiceNow refused the values", fields=dict.fromkeys(named or ["record"], detail)
        )


@register
class ServiceNowConnector(Connector):
    kind = "servicenow"
    label = "ServiceNow"
    capabilities = Capabilities(
        private_comments=True,  # work notes
        transitions=False,  # state is a field; the table's data policies still apply
        optimistic_concurrency=False,  # the Table API takes no revision on writes
        creation_marker=True,  # correlation_id
        max_page_size=PAGE,
        event_hints=True,  # an outbound REST message with Basic credentials
    )
    settings_fields = (
        SettingField(
            "url", "Instance", "url", required=True, help="e.g. https://your-instance.service-now.com"
        ),
        SettingField(
            "username", "User name", required=True, help="A user with the rest_api_explorer or itil role."
        ),
        SettingField("password", "Password", "password", secret=True),
        SettingField(
            "table",
            "Table",
            default="incident",
            help="The table to synchronize (incident, problem, a custom table).",
        ),
    )
    help = (
        "Synchronizes the records of one ServiceNow table (incident unless another is set) through "
        "the Table API: short description, description, state, priority, assignee, due date and "
        "resolution fields. Comments are the journal (work notes are private). Hub marks the records "
        "it creates in correlation_id. The table's data policies apply (a resolved incident needs a "
        "resolution code and notes)."
    )
    event_hint_help = (
        "A business rule on the table (after insert and update) that sends an outbound REST message "
        "POST to the URL with Basic authentication (any user name, the secret as password) and the "
        'body {"table": current.getTableName(), "sys_id": current.sys_id}.'
    )

    def __init__(self, settings):
        super().__init__(settings)
        if not settings.username:
            raise InvalidSettings("ServiceNow needs a user name and password.")
        self.table = (settings.extra.get("table") or "incident").strip()
        if not TABLE.match(self.table):
            raise InvalidSettings(f"{self.table!r} is not a ServiceNow table name.")
        self.api = ServiceNowClient(
            settings, auth=(settings.username, settings.password), retry_after=retry_after_or_reset
        )
        self.http = self.api.http

    def close(self) -> None:
        self.api.close()

    def call(
        self, method: str, path: str, *, missing: ConnectorError | None = None, **kwargs
    ) -> httpx.Response:
        return self.api.call(method, path, missing=missing, **kwargs)

    def rows(self, path: str, params: dict) -> list[dict]:
        return self.call("GET", path, params=params).json()["result"]

    # --- structure ----------------------------------------------------------------------------

    def test_connection(self) -> ConnectionInfo:
        response = self.call(
            "GET", f"api/now/table/{self.table}", params={"sysparm_limit": 1, "sysparm_fields": "sys_id"}
        )
        return ConnectionInfo(
            server="ServiceNow", user=self.settings.username, server_time=server_time(response)
        )

    def list_projects(self) -> list[Project]:
        return [Project(self.table, self.table, self.table)]

    def _check(self, project: str) -> None:
        if project != self.table:
            raise ProjectNotFound(
                f"This ServiceNow repository synchronizes the table {self.table}, not {project!r}."
            )

    def artifact_types(self, project: str) -> list[ArtifactType]:
        self._check(project)
        return [ArtifactType(self.table, self.table)]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        self._check(project)
        return [
            FieldSchema("short_description", "Short description", FieldType.STRING, required=True),
            FieldSchema("description", "Description", FieldType.RICH_TEXT, text_format="plain"),
            FieldSchema("state", "State", FieldType.SINGLE_SELECT, options=STATES),
            FieldSchema("priority", "Priority", FieldType.SINGLE_SELECT, options=PRIORITIES),
            FieldSchema("assigned_to", "Assigned to", FieldType.PERSON, person_target=True),
            FieldSchema("due_date", "Due date", FieldType.DATE_TIME),
            FieldSchema("close_code", "Resolution code", FieldType.STRING),
            FieldSchema("close_notes", "Resolution notes", FieldType.STRING),
            FieldSchema("number", "Number", FieldType.STRING, read_only=True),
            FieldSchema("sys_created_on", "Created", FieldType.DATE_TIME, read_only=True),
            FieldSchema("sys_updated_on", "Updated", FieldType.DATE_TIME, read_only=True),
        ]

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
        """``sys_updated_on>=<UTC text>^ORDERBYsys_updated_on^ORDERBYsys_id``, offset paging with
        Redmine's keyset cursor (each page restarts from the last second returned); the end is the
        missing ``next`` link, never the count."""
        self._check(project)
        state = Cursor.decode(cursor)
        start = state.stamp if state else (stamp(since - overlap) if since is not None else "")
        query = (f"sys_updated_on>={start}^" if start else "") + "ORDERBYsys_updated_on^ORDERBYsys_id"
        offsets = [0]

        def fetch(batch: int):
            params = {
                "sysparm_query": query,
                "sysparm_fields": "sys_id,sys_updated_on,sys_mod_count",
                "sysparm_limit": PAGE,
                "sysparm_offset": offsets[batch],
                "sysparm_no_count": "true",
            }
            response = self.call("GET", f"api/now/table/{self.table}", params=params)
            rows = response.json()["result"]
            offsets.append(offsets[batch] + max(1, len(rows) - 1))
            items = [
                ChangedItem(r["sys_id"], parse_time(r["sys_updated_on"]), r["sys_mod_count"]) for r in rows
            ]
            return items, "next" not in response.links, server_time(response)

        return next_page(fetch, state, max(1, min(page_size, PAGE)), stamp=lambda item: stamp(item.updated))

    # --- artifacts ----------------------------------------------------------------------------

    def _record(self, sys_id: str) -> dict:
        if not SYS_ID.match(str(sys_id)):
            raise ValuesNotAccepted("ServiceNow sys_ids are 32 hex digits", fields={"id": repr(sys_id)})
        missing = ArtifactNotFound(f"ServiceNow has no {self.table} record {sys_id} visible to Hub's user.")
        params = {"sysparm_fields": FIELDS, "sysparm_exclude_reference_link": "true"}
        return self.call(
            "GET", f"api/now/table/{self.table}/{sys_id}", params=params, missing=missing
        ).json()["result"]

    def _artifact(
        self, row: Mapping, *, comments: list[Comment] | None, attachments: list[AttachmentMeta] | None
    ) -> Artifact:
        fields = {name: row.get(name) or "" for name in (*STRINGS, "description", "number")}
        fields.update(
            state=row.get("state") or None,
            priority=row.get("priority") or None,
            assigned_to=row.get("assigned_to") or None,
            due_date=parse_time(row.get("due_date")) if row.get("due_date") else None,
            sys_created_on=parse_time(row.get("sys_created_on")),
            sys_updated_on=parse_time(row.get("sys_updated_on")),
        )
        return Artifact(
            id=row["sys_id"],
            formatted_id=row.get("number") or row["sys_id"],
            url=f"{self.settings.url.rstrip('/')}/{self.table}.do?sys_id={row['sys_id']}",
            project=self.table,
            type=self.table,
            fields=fields,
            updated=parse_time(row["sys_updated_on"]),
            revision=str(row.get("sys_mod_count") or "0"),
            comments=comments,
            attachments=attachments,
            # Hub's own markers only: other integrations use the correlation id too
            marker=value if (value := row.get("correlation_id") or "").startswith("hub-") else "",
        )

    def read_artifact(self, artifact_id: str) -> Artifact:
        row = self._record(artifact_id)
        return self._artifact(
            row, comments=self._journal(artifact_id), attachments=self._attachments(artifact_id)
        )

    def _payload(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        payload = {}
        for name, value in fields.items():
            if name in (*STRINGS, "description") or name in ("state", "priority", "assigned_to"):
                payload[name] = value or ""
            elif name == "due_date":
                payload[name] = stamp(value) if value else ""
            elif name in ("number", "sys_created_on", "sys_updated_on"):
                raise ValuesNotAccepted("ServiceNow sets this field itself", fields={name: "read only"})
            else:
                raise ValuesNotAccepted(
                    f"Hub does not write {name!r} of {self.table} records", fields={name: "unknown field"}
                )
        return payload

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        self._check(project)
        payload = self._payload(fields)
        if marker:
            payload["correlation_id"] = marker
        row = self.call(
            "POST",
            f"api/now/table/{self.table}",
            json=payload,
            params={"sysparm_exclude_reference_link": "true"},
        ).json()["result"]
        return self._artifact(row, comments=[], attachments=[])

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        self._check(project)
        rows = self.rows(
            f"api/now/table/{self.table}",
            {
                "sysparm_query": f"correlation_id={marker}",
                "sysparm_limit": 2,
                "sysparm_fields": "sys_id,correlation_id",
            },
        )
        found = [r for r in rows if r.get("correlation_id") == marker]
        return self.read_artifact(found[0]["sys_id"]) if found else None

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        self._record(artifact_id)
        payload = self._payload(fields)
        missing = ArtifactNotFound(f"ServiceNow has no {self.table} record {artifact_id}.")
        row = self.call(
            "PATCH",
            f"api/now/table/{self.table}/{artifact_id}",
            json=payload,
            missing=missing,
            params={"sysparm_exclude_reference_link": "true", "sysparm_fields": FIELDS},
        ).json()["result"]
        return self._artifact(row, comments=None, attachments=None)

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        if not re.fullmatch(r"[A-Z]{2,8}\d{4,12}", (formatted_id or "").strip()):
            return None
        rows = self.rows(
            f"api/now/table/{self.table}",
            {
                "sysparm_query": f"number={formatted_id.strip()}",
                "sysparm_limit": 1,
                "sysparm_fields": "sys_id",
            },
        )
        return self.read_artifact(rows[0]["sys_id"]) if rows else None

    # --- comments (the journal) ---------------------------------------------------------------

    def _journal(self, sys_id: str) -> list[Comment]:
        query = f"element_id={sys_id}^elementINcomments,work_notes^ORDERBYsys_created_on"
        rows = self.rows("api/now/table/sys_journal_field", {"sysparm_query": query, "sysparm_limit": 1000})
        return [
            Comment(
                id=r["sys_id"],
                body=r.get("value") or "",
                author=r.get("sys_created_by") or "",
                private=r.get("element") == "work_notes",
                created=parse_time(r.get("sys_created_on")),
            )
            for r in rows
        ]

    def comments(self, artifact_id: str) -> list[Comment]:
        self._record(artifact_id)
        return self._journal(artifact_id)

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False) -> Comment:
        if not body.strip():
            raise ValuesNotAccepted(
                "ServiceNow does not keep empty journal entries", fields={"comment": "empty"}
            )
        before = {c.id for c in self.comments(artifact_id)}
        element = "work_notes" if private else "comments"
        self.call(
            "PATCH",
            f"api/now/table/{self.table}/{artifact_id}",
            json={element: body},
            params={"sysparm_fields": "sys_id"},
        )
        mine = [
            c
            for c in self._journal(artifact_id)
            if c.id not in before and c.body == body and c.private == private
        ]
        if not mine:
            raise ConnectorError(
                f"ServiceNow accepted the journal entry on {artifact_id} but does not show it."
            )
        return mine[-1]

    # --- attachments --------------------------------------------------------------------------

    @staticmethod
    def _meta(row: Mapping) -> AttachmentMeta:
        return AttachmentMeta(
            id=row["sys_id"],
            filename=row["file_name"],
            size=int(row.get("size_bytes") or 0),
            content_type=row.get("content_type") or "application/octet-stream",
            created=parse_time(row.get("sys_created_on")),
        )

    def _attachments(self, sys_id: str) -> list[AttachmentMeta]:
        query = f"table_name={self.table}^table_sys_id={sys_id}"
        return [
            self._meta(r)
            for r in self.rows("api/now/attachment", {"sysparm_query": query, "sysparm_limit": 1000})
        ]

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        self._record(artifact_id)
        return self._attachments(artifact_id)

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        meta = {a.id: a for a in self.attachments(artifact_id)}.get(str(attachment_id))
        if meta is None:
            raise ValuesNotAccepted(
                f"ServiceNow record {artifact_id} has no such attachment",
                fields={"attachment": str(attachment_id)},
            )
        if meta.size > max_bytes:
            raise attachment_too_large(meta.filename, max_bytes)
        return self.http.download(
            f"api/now/attachment/{meta.id}/file", filename=meta.filename, max_bytes=max_bytes
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
        self._record(artifact_id)
        with spooled(content, filename, max_bytes) as (spool, size):

            def too_large(response) -> ValuesNotAccepted:
                return ValuesNotAccepted(
                    "ServiceNow refused the file", fields={filename: error_detail(response)}
                )

            row = self.http.request(
                "POST",
                "api/now/attachment/file",
                params={"table_name": self.table, "table_sys_id": artifact_id, "file_name": filename},
                content=iter(lambda: spool.read(CHUNK), b""),
                headers={"Content-Type": content_type, "Content-Length": str(size)},
                errors={400: too_large, 413: too_large, 403: too_large},
            ).json()["result"]
        return self._meta(row)

    # --- persons ------------------------------------------------------------------------------

    @staticmethod
    def _person(row: Mapping) -> Person:
        return Person(
            id=row["sys_id"],
            username=row.get("user_name") or "",
            email=row.get("email") or "",
            display_name=row.get("name") or "",
        )

    def person_search_fields(self) -> list[str]:
        return ["id", "username", "email"]

    def find_persons(self, field: str, value: str) -> list[Person]:
        if field not in self.person_search_fields():
            raise OperationUnsupported(f"ServiceNow persons cannot be searched by {field!r}.")
        value = (value or "").strip()
        if field == "id":
            try:
                return [self.read_person(value)]
            except (ArtifactNotFound, ValuesNotAccepted):
                return []
        if not value or "^" in value:
            return []
        column = {"username": "user_name", "email": "email"}[field]
        rows = self.rows(
            "api/now/table/sys_user", {"sysparm_query": f"{column}={value}", "sysparm_limit": 10}
        )
        if field == "email" and not rows:  # e-mail matching ignores case
            rows = [
                r
                for r in self.rows(
                    "api/now/table/sys_user", {"sysparm_query": f"emailLIKE{value}", "sysparm_limit": 10}
                )
                if (r.get("email") or "").casefold() == value.casefold()
            ]
        return [self._person(r) for r in rows]

    def read_person(self, person_id: str) -> Person:
        if not SYS_ID.match(str(person_id)):
            raise ValuesNotAccepted(
                "ServiceNow sys_ids are 32 hex digits", fields={"person": repr(person_id)}
            )
        missing = ArtifactNotFound(f"ServiceNow has no user {person_id}.")
        return self._person(
            self.call("GET", f"api/now/table/sys_user/{person_id}", missing=missing).json()["result"]
        )

    # --- event hints --------------------------------------------------------------------------

    @classmethod
    def event_hints_from(cls, headers: Mapping[str, str], body: bytes, secret: str) -> list[EventHint]:
        """A business rule's outbound REST message: Basic credentials with the secret as password,
        ``{"table", "sys_id"}`` in the body."""
        require_basic_secret(headers, secret)
        try:
            payload = jsonload.loads(body)  # a webhook body: bounded nesting
            table, sys_id = str(payload["table"]), str(payload["sys_id"])
        except (ValueError, KeyError, TypeError):
            raise ValuesNotAccepted(
                "The delivery names no table and sys_id", fields={"body": "unreadable"}
            ) from None
        return [EventHint(project=table, artifact_id=sys_id, artifact_type=table)]
