"""The ``azure_devops`` connector: work items of Azure DevOps (Services, or Server) through the Work
Item Tracking REST API 7.1, with a personal access token.

Projects are team projects (id = name); artifact types are work item types; artifacts are work
items (id = the number). Every write is a JSON Patch; with an expected revision it starts with a
``test`` on ``/rev``, so a stale write is refused whole (412). Change detection reads the reporting
revisions feed (precise, paged by its continuation token, the only source of deletes) and falls
back to WIQL on ``System.ChangedDate`` (day precision) where the feed is not offered. The creation
marker is a tag. See ``docs/connectors.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from connectors.base import DEFAULT_ATTACHMENT_LIMIT, Connector
from connectors.cloud import CloudClient
from connectors.errors import (
    ArtifactNotFound,
    ConnectorError,
    CredentialsRefused,
    InvalidSettings,
    OperationUnsupported,
    ProjectNotFound,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.hooks import require_basic_secret
from connectors.http import identity, retry_after_or_reset, server_time
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
from hub.ids import is_digits

API = "7.1"
PREVIEW = "7.1-preview.4"  # the comments API is a preview in 7.1
BATCH = 200  # workitemsbatch and workitems?ids= take at most 200 ids (VS403474)
WIQL_TOP = 19_999  # WIQL refuses results above 20,000 (VS402337)
SIMPLE_UPLOAD = 130 * 1024 * 1024  # above this Azure DevOps wants a chunked upload
MAX_PAUSE = 5.0  # the longest X-RateLimit-Delay Hub waits before its next request
MARKER = re.compile(r"^hub-[\w.-]+$")
PRIORITIES = tuple(Option(str(n), str(n)) for n in range(1, 5))
DETECTION_FIELDS = ("System.Id", "System.Rev", "System.ChangedDate", "System.WorkItemType")
TITLE, DESCRIPTION, STATE, ASSIGNED = (
    "System.Title",
    "System.Description",
    "System.State",
    "System.AssignedTo",
)
AREA, ITERATION, TAGS, PRIORITY = (
    "System.AreaPath",
    "System.IterationPath",
    "System.Tags",
    "Microsoft.VSTS.Common.Priority",
)
TEXTS = (TITLE, DESCRIPTION, AREA, ITERATION, STATE)
READ_ONLY = ("System.CreatedDate", "System.ChangedDate", "System.CreatedBy")


def parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC) if text else None


def stamp(when: dt.datetime) -> str:
    """ISO 8601 UTC with milliseconds (Azure DevOps' precision)."""
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def message_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or "")[:500]
    except (ValueError, AttributeError):
        return response.text[:300]


def split_tags(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(";") if t.strip()]


def identity_base(url: str) -> str:
    """Identities live on a separate host for Azure DevOps Services (``vssps``); a server serves
    them at the collection URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "dev.azure.com":
        organization = parts.path.strip("/").split("/")[0]
        return f"https://vssps.dev.azure.com/{organization}/"
    if host.endswith(".visualstudio.com") and ".vssps." not in host:
        return f"https://{host.split('.')[0]}.vssps.visualstudio.com/"
    return url.rstrip("/") + "/"


class AzureDevOpsClient(CloudClient):
    tool = "Azure DevOps"
    refused_statuses = (400, 413)
    forbidden = ""  # a token without the scope: refused credentials (HttpSession's)

    def refused(self, response: httpx.Response) -> ConnectorError:
        """TF401320 rule errors and TF401347 tree errors name the field (``FieldReferenceName``);
        TF51535 names an unknown field in its text."""
        message = message_of(response)
        try:
            custom = response.json().get("customProperties") or {}
        except (ValueError, AttributeError):
            custom = {}
        name = custom.get("FieldReferenceName")
        if not name:
            unknown = re.search(r"TF51535: Cannot find field ([\w.]+)", message)
            name = unknown.group(1) if unknown else "request"
        return ValuesNotAccepted("Azure DevOps refused the values", fields={name: message})


@register
class AzureDevOpsConnector(Connector):
    kind = "azure_devops"
    label = "Azure DevOps"
    capabilities = Capabilities(
        private_comments=False,  # work item comments are visible to everyone who can read the item
        transitions=False,  # System.State is written directly; the process's rules still apply
        optimistic_concurrency=True,  # JSON Patch `test /rev`, 412 when stale
        creation_marker=True,  # a tag
        max_page_size=BATCH,
        event_hints=True,  # service hooks (Web Hooks) with basic authentication
    )
    settings_fields = (
        SettingField(
            "url",
            "Organization URL",
            "url",
            required=True,
            help="https://dev.azure.com/your-organization, or https://server/tfs/YourCollection for "
            "Azure DevOps Server.",
        ),
        SettingField(
            "token",
            "Personal access token",
            "password",
            required=True,
            secret=True,
            help="Scopes: Work Items (read & write) and Identity (read).",
        ),
        SettingField(
            "projects",
            "Projects",
            help="Team projects to offer, separated by commas. Empty: every project the token sees.",
        ),
    )
    help = (
        "Synchronizes Azure DevOps work items: title, description (HTML), state, priority, assignee, "
        "area and iteration paths, tags, comments and attachments. Writes name the revision Hub read, "
        "so a change made meanwhile in Azure DevOps is never overwritten. Hub marks the work items it "
        "creates with a tag of its own (hub-…); leave that tag in place."
    )
    event_hint_help = (
        "Project settings → Service hooks → Create subscription → Web Hooks, for the events "
        "'Work item created', 'Work item updated' and 'Work item commented on', with the URL below and "
        "Basic authentication: any user name, the secret as password. Resource details: All."
    )

    def __init__(self, settings):
        super().__init__(settings)
        if not settings.token:
            raise InvalidSettings("Azure DevOps needs a personal access token.")
        self.offered = [p.strip() for p in (settings.extra.get("projects") or "").split(",") if p.strip()]
        self._pause = 0.0
        self._pause_lock = threading.Lock()
        self._feed = True  # the reporting revisions feed, until the server says it has none
        # a PAT is the password of Basic credentials
        self.api = AzureDevOpsClient(settings, auth=("", settings.token), retry_after=retry_after_or_reset)
        self.http = self.api.http
        self.http.client.event_hooks["request"].insert(0, self._wait_as_asked)
        self.http.client.event_hooks["response"].append(self._note_delay)
        self.identities = identity_base(settings.url)

    def close(self) -> None:
        self.api.close()

    # --- the server's own slowing down (X-RateLimit-Delay) ------------------------------------

    def _note_delay(self, response: httpx.Response) -> None:
        """Azure DevOps delays requests before it blocks them, and says by how much: Hub leaves the
        same gap before its next request, so it backs off before the 429 comes."""
        delay = response.headers.get("X-RateLimit-Delay")
        try:
            seconds = min(MAX_PAUSE, float(delay)) if delay else 0.0
        except ValueError:
            seconds = 0.0
        with self._pause_lock:
            self._pause = max(0.0, seconds)

    def _wait_as_asked(self, request: httpx.Request) -> None:
        with self._pause_lock:
            pause, self._pause = self._pause, 0.0
        if pause:
            time.sleep(pause)

    # --- requests -----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        missing: ConnectorError | None = None,
        version: str = API,
        **kwargs,
    ) -> httpx.Response:
        params = {**kwargs.pop("params", {}), "api-version": version}
        return self.api.call(method, path, params=params, missing=missing, **kwargs)

    def patch(self, path: str, operations: list[dict], **kwargs) -> dict:
        return self.call(
            "PATCH" if "$" not in path else "POST",
            path,
            content=json.dumps(operations),
            headers={"Content-Type": "application/json-patch+json"},
            **kwargs,
        ).json()

    # --- structure ----------------------------------------------------------------------------

    def test_connection(self) -> ConnectionInfo:
        response = self.call("GET", "_apis/connectionData", version="7.1-preview.1")
        user = identity(response).get("authenticatedUser") or {}
        account = ((user.get("properties") or {}).get("Account") or {}).get("$value", "")
        if not user.get("id"):
            raise CredentialsRefused("Azure DevOps answered as an anonymous user: check the token.")
        return ConnectionInfo(
            server="Azure DevOps",
            user=account or user.get("providerDisplayName") or user["id"],
            server_time=server_time(response),
        )

    def list_projects(self) -> list[Project]:
        rows = self.call("GET", "_apis/projects", params={"$top": 500}).json()["value"]
        projects = [Project(r["name"], r["name"], r["name"]) for r in rows]
        if self.offered:
            projects = [p for p in projects if p.id in self.offered]
        return projects

    def _project(self, project: str) -> str:
        missing = ProjectNotFound(f"Azure DevOps has no project {project!r} visible to the token.")
        if not project or "/" in project:
            raise missing
        self.call("GET", f"_apis/projects/{quote(project)}", missing=missing)
        return quote(project)

    def artifact_types(self, project: str) -> list[ArtifactType]:
        path = self._project(project)
        rows = self.call("GET", f"{path}/_apis/wit/workitemtypes").json()["value"]
        return [ArtifactType(r["name"], r["name"]) for r in rows if not r.get("isDisabled")]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        path = self._project(project)
        missing = ProjectNotFound(f"Project {project!r} has no work item type {artifact_type!r}.")
        states = self.call(
            "GET", f"{path}/_apis/wit/workitemtypes/{quote(artifact_type)}/states", missing=missing
        ).json()["value"]
        nodes = self.call("GET", f"{path}/_apis/wit/classificationnodes", params={"$depth": 10}).json()[
            "value"
        ]
        return [
            FieldSchema(TITLE, "Title", FieldType.STRING, required=True),
            FieldSchema(DESCRIPTION, "Description", FieldType.RICH_TEXT, text_format="html"),
            FieldSchema(
                STATE,
                "State",
                FieldType.SINGLE_SELECT,
                options=[Option(s["name"], s["name"]) for s in states],
            ),
            FieldSchema(PRIORITY, "Priority", FieldType.SINGLE_SELECT, options=PRIORITIES),
            FieldSchema(ASSIGNED, "Assigned to", FieldType.PERSON, person_target=True),
            FieldSchema(
                AREA, "Area path", FieldType.SINGLE_SELECT, options=self._paths(nodes, "area", project)
            ),
            FieldSchema(
                ITERATION,
                "Iteration path",
                FieldType.SINGLE_SELECT,
                options=self._paths(nodes, "iteration", project),
            ),
            FieldSchema(TAGS, "Tags", FieldType.STRING),
            FieldSchema(
                "System.CreatedBy", "Created by", FieldType.PERSON, read_only=True, person_target=True
            ),
            FieldSchema("System.CreatedDate", "Created", FieldType.DATE_TIME, read_only=True),
            FieldSchema("System.ChangedDate", "Changed", FieldType.DATE_TIME, read_only=True),
        ]

    @staticmethod
    def _paths(nodes: list[dict], group: str, project: str) -> list[Option]:
        """Classification node paths (``\\Project\\Area\\Team``) as work items write them
        (``Project\\Team``): the structure-group segment is not part of the value."""
        found = []

        def walk(node: dict) -> None:
            parts = node["path"].strip("\\").split("\\")
            value = "\\".join([parts[0], *parts[2:]])
            found.append(Option(value, value))
            for child in node.get("children") or ():
                walk(child)

        for node in nodes:
            if node.get("structureType") == group:
                walk(node)
        return found or [Option(project, project)]

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
        """The reporting revisions feed from ``since - overlap``, paged by its continuation token
        (a watermark: an item changed while Hub pages comes again later, none is skipped); deleted
        work items come too. Where the server has no feed, WIQL on ``System.ChangedDate``."""
        if not project or "/" in project:
            raise ProjectNotFound(f"Azure DevOps has no project {project!r}.")
        path = quote(project)  # an unknown project is the feed's (or WIQL's) TF200016: one request a poll
        state = json.loads(cursor) if cursor else {}
        start = since - overlap if since is not None else None
        if state.get("wiql") is not None or (not state and not self._feed):
            return self._changed_by_wiql(path, start, artifact_types, state.get("wiql") or None, page_size)
        params = {
            "includeDeleted": "true",
            "includeLatestOnly": "true",
            "fields": ",".join(DETECTION_FIELDS),
            "$maxPageSize": max(1, min(page_size, BATCH)),
        }
        if state.get("token"):
            params["continuationToken"] = state["token"]
        elif start is not None:
            # The feed's start is "after": a second early, and what is earlier is dropped below.
            params["startDateTime"] = stamp(start - dt.timedelta(seconds=1))
        try:
            response = self._feed_page(path, params)
        except _NoFeed:
            self._feed = False
            return self._changed_by_wiql(path, start, artifact_types, None, page_size)
        body = response.json()
        clock = parse_time(state["clock"]) if state.get("clock") else server_time(response)
        items = []
        for row in body.get("values") or ():
            fields = row.get("fields") or {}
            updated = parse_time(fields.get("System.ChangedDate"))
            if updated is None or (start is not None and updated < start):
                continue
            if artifact_types and fields.get("System.WorkItemType") not in artifact_types:
                continue
            deleted = bool(fields.get("System.IsDeleted"))
            items.append(
                ChangedItem(str(row["id"]), updated, f"{row['rev']}-deleted" if deleted else str(row["rev"]))
            )
        items.sort(key=lambda item: (item.updated, int(item.id)))
        following = None
        if not body.get("isLastBatch"):
            following = json.dumps(
                {"token": body.get("continuationToken"), "clock": clock and clock.isoformat()}
            )
        return ChangePage(items=items, next_cursor=following, server_time=clock)

    def _feed_page(self, path: str, params: dict) -> httpx.Response:
        def refused(response: httpx.Response) -> ConnectorError:
            if "TF200016" in message_of(response):
                return ProjectNotFound(f"Azure DevOps has no project {path!r}.")
            return _NoFeed("The server has no reporting revisions feed.")

        return self.http.request(
            "GET",
            f"{path}/_apis/wit/reporting/workItemRevisions",
            params={**params, "api-version": "7.1-preview.2"},
            not_found=lambda: _NoFeed("The server has no reporting revisions feed."),
            errors={400: self.api.refused, 404: refused},
        )

    def _changed_by_wiql(
        self,
        path: str,
        start: dt.datetime | None,
        artifact_types: Sequence[str],
        cursor: str | None,
        size: int,
    ) -> ChangePage:
        """WIQL compares ``System.ChangedDate`` by day (time precision is off by default, and a day
        is read in the user's time zone): ask from the day before, read each batch's exact times
        with ``workitemsbatch`` and keep what is not earlier than ``start``. Redmine's keyset cursor
        restarts every page from the last timestamp returned."""
        state = Cursor.decode(cursor)
        start = state.updated if state else start
        where = "[System.TeamProject] = @project"
        if start is not None:
            where += f" AND [System.ChangedDate] >= '{(start - dt.timedelta(days=1)).date().isoformat()}'"
        # WIQL, not SQL: the only literal is a date Hub formats itself.
        query = (
            f"SELECT [System.Id] FROM WorkItems WHERE {where} "  # noqa: S608
            "ORDER BY [System.ChangedDate] ASC, [System.Id] ASC"
        )
        missing = ProjectNotFound(f"Azure DevOps has no project {path!r} visible to the token.")
        response = self.call(
            "POST",
            f"{path}/_apis/wit/wiql",
            json={"query": query},
            params={"$top": WIQL_TOP},
            missing=missing,
        )
        clock = server_time(response)
        ids = [row["id"] for row in response.json().get("workItems") or ()]

        def fetch(batch: int):
            chunk = ids[batch * BATCH : (batch + 1) * BATCH]
            rows = self._batch(chunk, fields=DETECTION_FIELDS) if chunk else []
            items = []
            for row in rows:
                fields = row["fields"]
                updated = parse_time(fields["System.ChangedDate"])
                if start is not None and updated < start:
                    continue
                if artifact_types and fields.get("System.WorkItemType") not in artifact_types:
                    continue
                items.append(ChangedItem(str(row["id"]), updated, str(row["rev"])))
            return items, (batch + 1) * BATCH >= len(ids), clock

        page = next_page(fetch, state, max(1, min(size, BATCH)), stamp=lambda item: stamp(item.updated))
        if page.next_cursor:
            page.next_cursor = json.dumps({"wiql": page.next_cursor})
        return page

    # --- artifacts ----------------------------------------------------------------------------

    def _batch(self, ids: Sequence[int | str], *, fields: Sequence[str] | None = None) -> list[dict]:
        """``workitemsbatch``, at most 200 ids a request; deleted or unreadable ones are left out
        (``errorPolicy: Omit``)."""
        rows = []
        for start in range(0, len(ids), BATCH):
            body: dict[str, Any] = {
                "ids": [int(i) for i in ids[start : start + BATCH]],
                "errorPolicy": "Omit",
            }
            if fields:
                body["fields"] = list(fields)
            else:
                body["$expand"] = "Relations"
            answer = self.call("POST", "_apis/wit/workitemsbatch", json=body).json()
            rows += [row for row in answer.get("value") or () if row]
        return rows

    def _work_item(self, artifact_id: str) -> dict:
        if not is_digits(str(artifact_id)):
            raise ValuesNotAccepted(
                "Azure DevOps work item ids are numbers", fields={"id": repr(artifact_id)}
            )
        missing = ArtifactNotFound(f"Azure DevOps has no work item {artifact_id} visible to the token.")
        return self.call(
            "GET", f"_apis/wit/workItems/{artifact_id}", params={"$expand": "Relations"}, missing=missing
        ).json()

    def _artifact(self, row: Mapping, *, comments: list[Comment] | None) -> Artifact:
        raw = row.get("fields") or {}
        fields: dict[str, Any] = {name: raw.get(name) or "" for name in TEXTS}
        fields[TAGS] = "; ".join(t for t in split_tags(raw.get(TAGS)) if not MARKER.match(t))
        fields[PRIORITY] = str(raw[PRIORITY]) if raw.get(PRIORITY) not in (None, "") else None
        for name in (ASSIGNED, "System.CreatedBy"):
            fields[name] = (raw.get(name) or {}).get("id") if isinstance(raw.get(name), dict) else None
        for name in ("System.CreatedDate", "System.ChangedDate"):
            fields[name] = parse_time(raw.get(name))
        project = raw.get("System.TeamProject", "")
        return Artifact(
            id=str(row["id"]),
            formatted_id=f"#{row['id']}",
            url=f"{self.settings.url.rstrip('/')}/{quote(project)}/_workitems/edit/{row['id']}",
            project=project,
            type=raw.get("System.WorkItemType", ""),
            fields=fields,
            updated=parse_time(raw["System.ChangedDate"]),
            revision=str(row["rev"]),
            comments=comments,
            attachments=[self._meta(r) for r in row.get("relations") or () if r.get("rel") == "AttachedFile"],
            marker=next((t for t in split_tags(raw.get(TAGS)) if MARKER.match(t)), ""),
        )

    def _comments_of(self, row: Mapping) -> list[Comment]:
        if not (row.get("fields") or {}).get("System.CommentCount"):
            return []
        return self._comments(str(row["id"]), row["fields"].get("System.TeamProject", ""))

    def read_artifact(self, artifact_id: str) -> Artifact:
        row = self._work_item(artifact_id)
        return self._artifact(row, comments=self._comments_of(row))

    def read_artifacts(self, artifact_ids: Sequence[str]) -> dict[str, Artifact]:
        numbers = [i for i in artifact_ids if is_digits(str(i))]
        rows = self._batch(numbers) if numbers else []
        return {str(row["id"]): self._artifact(row, comments=self._comments_of(row)) for row in rows}

    def is_deleted(self, artifact_id: str) -> bool:
        try:
            self._work_item(artifact_id)
        except ArtifactNotFound:
            return True
        return False

    def _operations(self, fields: Mapping[str, Any], *, tags: Sequence[str] = ()) -> list[dict]:
        operations = []
        for name, value in fields.items():
            if name in READ_ONLY:
                raise ValuesNotAccepted("Azure DevOps sets this field itself", fields={name: "read only"})
            if name in TEXTS:
                written = value or ""
            elif name == PRIORITY:
                written = int(value) if value not in (None, "") else None
            elif name == ASSIGNED:
                written = self.read_person(value).username if value else ""
            elif name == TAGS:
                written = "; ".join([*split_tags(value), *tags])
            else:
                raise ValuesNotAccepted(
                    f"Hub does not write {name!r} of work items", fields={name: "unknown field"}
                )
            operations.append({"op": "add", "path": f"/fields/{name}", "value": written})
        if tags and TAGS not in fields:
            operations.append({"op": "add", "path": f"/fields/{TAGS}", "value": "; ".join(tags)})
        return operations

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        path = self._project(project)
        operations = self._operations(fields, tags=[marker] if marker else [])
        missing = ProjectNotFound(f"Project {project!r} has no work item type {artifact_type!r}.")
        row = self.patch(f"{path}/_apis/wit/workItems/${quote(artifact_type)}", operations, missing=missing)
        return self._artifact(row, comments=[])

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        """WIQL ``[System.Tags] CONTAINS`` matches whole tags."""
        path = self._project(project)
        if not MARKER.match(marker):
            return None
        query = (  # WIQL; the marker matched MARKER above, so it holds no quote
            "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project "  # noqa: S608
            f"AND [System.Tags] CONTAINS '{marker}' ORDER BY [System.Id] ASC"
        )
        rows = self.call("POST", f"{path}/_apis/wit/wiql", json={"query": query}, params={"$top": 5}).json()
        for found in rows.get("workItems") or ():
            artifact = self.read_artifact(str(found["id"]))
            raw_tags = split_tags(self._work_item(artifact.id)["fields"].get(TAGS))
            if marker in raw_tags and artifact.type == artifact_type:
                return artifact
        return None

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        """One JSON Patch; with ``expected_revision`` it begins with ``test /rev``, so Azure DevOps
        refuses the whole patch (412 → RevisionConflict) when someone was faster."""
        if not is_digits(str(artifact_id)):
            raise ValuesNotAccepted(
                "Azure DevOps work item ids are numbers", fields={"id": repr(artifact_id)}
            )
        keep: list[str] = []
        if TAGS in fields:  # the creation marker stays whatever the tags become
            current = self._work_item(artifact_id)["fields"].get(TAGS)
            keep = [t for t in split_tags(current) if MARKER.match(t)]
        operations = self._operations(fields)
        if TAGS in fields:
            operations = [op for op in operations if op["path"] != f"/fields/{TAGS}"]
            operations += self._operations({TAGS: fields[TAGS]}, tags=keep)
        if expected_revision is not None:
            if not is_digits(str(expected_revision)):
                raise ValuesNotAccepted(
                    "Azure DevOps revisions are numbers", fields={"revision": expected_revision}
                )
            operations.insert(0, {"op": "test", "path": "/rev", "value": int(expected_revision)})
        missing = ArtifactNotFound(f"Azure DevOps has no work item {artifact_id}.")
        row = self.patch(f"_apis/wit/workItems/{artifact_id}", operations, missing=missing)
        return self._artifact(row, comments=None)

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        match = re.fullmatch(r"#?(\d{1,10})", (formatted_id or "").strip())
        if not match:
            return None
        try:
            return self.read_artifact(match.group(1))
        except ArtifactNotFound:
            return None

    # --- comments -----------------------------------------------------------------------------

    @staticmethod
    def _comment(row: Mapping) -> Comment:
        return Comment(
            id=str(row["id"]),
            body=row.get("text") or "",
            author=(row.get("createdBy") or {}).get("id", ""),
            created=parse_time(row.get("createdDate")),
        )

    def _comments(self, artifact_id: str, project: str) -> list[Comment]:
        found, token = [], None
        path = f"{quote(project)}/_apis/wit/workItems/{artifact_id}/comments"
        for _ in range(1000):  # pages of 200, following the continuation token
            params = {"$top": 200, **({"continuationToken": token} if token else {})}
            body = self.call("GET", path, params=params, version=PREVIEW).json()
            found += [self._comment(c) for c in body.get("comments") or () if not c.get("isDeleted")]
            token = body.get("continuationToken")
            if not token:
                break
        return found

    def comments(self, artifact_id: str) -> list[Comment]:
        row = self._work_item(artifact_id)
        return self._comments(artifact_id, row["fields"].get("System.TeamProject", ""))

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False) -> Comment:
        if private:
            raise OperationUnsupported("Azure DevOps work item comments cannot be private.")
        if not body.strip():
            raise ValuesNotAccepted("Azure DevOps does not keep empty comments", fields={"comment": "empty"})
        row = self._work_item(artifact_id)
        project = quote(row["fields"].get("System.TeamProject", ""))
        answer = self.call(
            "POST",
            f"{project}/_apis/wit/workItems/{artifact_id}/comments",
            json={"text": body},
            version=PREVIEW,
        ).json()
        return self._comment(answer)

    # --- attachments: upload, then link -------------------------------------------------------

    @staticmethod
    def _meta(relation: Mapping) -> AttachmentMeta:
        attributes = relation.get("attributes") or {}
        return AttachmentMeta(
            id=str(relation.get("url") or "").rsplit("/", 1)[-1].split("?")[0],
            filename=attributes.get("name") or "attachment",
            size=int(attributes.get("resourceSize") or 0),
            created=parse_time(attributes.get("resourceCreatedDate")),
        )

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        return self.read_artifact(artifact_id).attachments or []

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        meta = {a.id: a for a in self.attachments(artifact_id)}.get(str(attachment_id))
        if meta is None:
            raise ValuesNotAccepted(
                f"Azure DevOps work item {artifact_id} has no such attachment",
                fields={"attachment": str(attachment_id)},
            )
        if meta.size > max_bytes:
            raise attachment_too_large(meta.filename, max_bytes)
        return self.http.download(
            f"_apis/wit/attachments/{meta.id}?fileName={quote(meta.filename)}&api-version={API}",
            filename=meta.filename,
            max_bytes=max_bytes,
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
        """The file goes to the attachment store first; an ``AttachedFile`` relation then links it.
        Hub sends simple uploads, so a file above 130 MB is refused before anything is sent."""
        row = self._work_item(artifact_id)
        project = quote(row["fields"].get("System.TeamProject", ""))
        with spooled(content, filename, min(max_bytes, SIMPLE_UPLOAD)) as (spool, size):

            def refused(response: httpx.Response) -> ValuesNotAccepted:
                return ValuesNotAccepted(
                    "Azure DevOps refused the file", fields={filename: message_of(response)}
                )

            stored = self.http.request(
                "POST",
                f"{project}/_apis/wit/attachments",
                params={"fileName": filename, "uploadType": "Simple", "api-version": API},
                content=iter(lambda: spool.read(CHUNK), b""),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                errors={400: refused, 413: refused},
            ).json()
        link = {
            "op": "add",
            "path": "/relations/-",
            "value": {"rel": "AttachedFile", "url": stored["url"], "attributes": {"comment": ""}},
        }
        updated = self.patch(f"_apis/wit/workItems/{artifact_id}", [link])
        for relation in updated.get("relations") or ():
            if relation.get("rel") == "AttachedFile" and stored["id"] in str(relation.get("url")):
                return self._meta(relation)
        raise ConnectorError(
            f"Azure DevOps stored {filename} but does not show it on work item {artifact_id}."
        )

    # --- persons (identities) -----------------------------------------------------------------

    @staticmethod
    def _person(row: Mapping) -> Person:
        account = ((row.get("properties") or {}).get("Account") or {}).get("$value", "")
        mail = ((row.get("properties") or {}).get("Mail") or {}).get("$value", "")
        return Person(
            id=row["id"],
            username=account,
            email=mail or (account if "@" in account else ""),
            display_name=row.get("providerDisplayName") or "",
        )

    def person_search_fields(self) -> list[str]:
        return ["id", "username", "email", "display_name"]

    def find_persons(self, field: str, value: str) -> list[Person]:
        if field not in self.person_search_fields():
            raise OperationUnsupported(f"Azure DevOps persons cannot be searched by {field!r}.")
        value = (value or "").strip()
        if not value:
            return []
        if field == "id":
            try:
                return [self.read_person(value)]
            except (ArtifactNotFound, ValuesNotAccepted):
                return []
        rows = self.call(
            "GET",
            self.identities + "_apis/identities",
            params={"searchFilter": "General", "filterValue": value, "queryMembership": "None"},
        ).json()["value"]
        found = [self._person(r) for r in rows if r]
        return [p for p in found if getattr(p, field).casefold() == value.casefold()]

    def read_person(self, person_id: str) -> Person:
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", str(person_id or "")):
            raise ValuesNotAccepted("Azure DevOps identity ids are GUIDs", fields={"person": repr(person_id)})
        rows = self.call(
            "GET", self.identities + "_apis/identities", params={"identityIds": person_id}
        ).json()
        found = [r for r in rows.get("value") or () if r]
        if not found:
            raise ArtifactNotFound(f"Azure DevOps has no identity {person_id}.")
        return self._person(found[0])

    # --- event hints --------------------------------------------------------------------------

    @classmethod
    def event_hints_from(cls, headers: Mapping[str, str], body: bytes, secret: str) -> list[EventHint]:
        """A service hook's Web Hooks delivery: Basic credentials with the secret as password, and a
        ``workitem.*`` event naming the work item and its project."""
        require_basic_secret(headers, secret)
        try:
            payload = jsonload.loads(body)  # a webhook body: bounded nesting
            resource = payload["resource"]
            if not str(payload.get("eventType", "")).startswith("workitem."):
                return []
            item = resource.get("revision") or resource
            fields = item.get("fields") or {}
            item_id = str(resource.get("workItemId") or item["id"])
            project = str(fields["System.TeamProject"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValuesNotAccepted(
                "The delivery names no work item", fields={"body": "unreadable"}
            ) from None
        return [
            EventHint(
                project=project, artifact_id=item_id, artifact_type=str(fields.get("System.WorkItemType", ""))
            )
        ]


class _NoFeed(ConnectorError):
    """The server has no reporting revisions feed (404): detection uses WIQL instead."""
