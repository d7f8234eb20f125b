"""A fake of Azure DevOps Work Item Tracking on the harness: one organization at the fake's root URL
(``{url}/{project}/_apis/wit/…``, as an Azure DevOps Server collection is served).

Sources (as summarised in ``/work/shared/docs/connectors.md`` §6 and "Contract details" §4; [spec] is
MicrosoftDocs/vsts-rest-api-specs ``specification/wit/7.1/workItemTracking.json``):
[ADO-wiql] WIQL returns only ids; ``timePrecision`` defaults to false, so date comparisons are
day-only; more than 20,000 results → 400 VS402337. [ADO-batch] ``workitemsbatch`` and
``workitems?ids=`` take at most 200 ids (VS403474), ``errorPolicy`` Fail | Omit. [ADO-patch]
``application/json-patch+json``; a ``test`` on ``/rev`` with a stale value → 412, the whole patch
refused. [ADO-feed] ``reporting/workitemrevisions``: ``continuationToken`` is a watermark,
``startDateTime`` not together with it, ``includeDeleted``, ``includeLatestOnly``, ``$maxPageSize``;
answer ``{values, nextLink, continuationToken, isLastBatch}``; the only feed that reports deletes.
[ADO-comments] comments 7.1-preview: ``{comments, continuationToken, count, nextPage, totalCount}``,
a comment ``{id, version, text, renderedText, format, createdBy, createdDate, modifiedBy,
modifiedDate, isDeleted, workItemId}``. [ADO-attach] ``POST attachments?fileName=&uploadType=``
→ ``{id, url}``, chunked above 130 MB, linked as an ``AttachedFile`` relation. [ADO-rate] above the
usage threshold requests are first *delayed* (``X-RateLimit-Delay``, seconds) and then blocked with
429 TF400733 and ``Retry-After``; ``X-RateLimit-Resource``/``-Limit``/``-Remaining``/``-Reset``.
[ADO-client] the ``azure-devops`` Python client finds routes by ``OPTIONS {org}/_apis`` (resource
locations) and sends ``api-version`` in the ``Accept`` header rather than the query.

What the fake decides where the sources are silent (said so where it matters): a deleted work item
appears in the feed (with ``includeDeleted``) as a revision with ``System.IsDeleted: true``; the
feed's ``startDateTime`` is inclusive; the feed's default page is 200 revisions.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from hub.ids import is_digits
from tests.fakes.harness import Answer, FakeServer, Request, route, send_webhook

MAX_BATCH = 200  # [ADO-batch]
WIQL_CAP = 20_000  # [ADO-wiql]
SIMPLE_UPLOAD_LIMIT = 130 * 1024 * 1024  # [ADO-attach]
FEED_PAGE = 200
TYPES = {"Bug": "Microsoft.VSTS.WorkItemTypes.Bug", "Task": "Microsoft.VSTS.WorkItemTypes.Task"}
STATES = ("New", "Active", "Resolved", "Closed")
LABELS = {
    "System.Title": "Title",
    "System.State": "State",
    "System.AssignedTo": "Assigned To",
    "System.AreaPath": "Area Path",
    "System.IterationPath": "Iteration Path",
    "Microsoft.VSTS.Common.Priority": "Priority",
}
WRITABLE = {
    "System.Title",
    "System.Description",
    "System.State",
    "System.AssignedTo",
    "System.AreaPath",
    "System.IterationPath",
    "System.Tags",
    "Microsoft.VSTS.Common.Priority",
    "System.History",
}


def stamp(when: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Azure DevOps writes dates."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def error(status: int, message: str, type_key: str, **custom) -> Answer:
    body = {"$id": "1", "innerException": None, "message": message, "typeName": type_key, "typeKey": type_key}
    if custom:
        body["customProperties"] = custom
    return Answer(status, body)


@dataclass
class Identity:
    id: str
    display_name: str
    unique_name: str  # the sign-in name, usually an e-mail address

    def ref(self) -> dict:
        return {"id": self.id, "displayName": self.display_name, "uniqueName": self.unique_name}


@dataclass
class Project:
    id: str
    name: str
    areas: list[str]
    iterations: list[str]


@dataclass
class WorkItem:
    id: int
    project: str
    type: str
    fields: dict
    rev: int = 1
    comments: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)
    deleted: bool = False


class AzureDevOpsFake(FakeServer):
    name = "azure-devops"

    def __init__(self, *, reporting: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.reporting = reporting  # False: an organization whose feed answers 404 (older servers)
        self.ids = itertools.count(1)
        self.comment_ids = itertools.count(1001)
        self.watermarks = itertools.count(1)
        self.identities: dict[str, Identity] = {}
        self.me = self.add_identity("Hub Integration", "hub@example.org")
        self.token = secrets.token_urlsafe(39)  # a personal access token
        self.tokens.add(self.token)
        self.projects: dict[str, Project] = {}
        self.items: dict[int, WorkItem] = {}
        self.feed: list[tuple[int, int, dict]] = []  # (watermark, id, snapshot of fields + rev)
        self.attachments: dict[str, tuple[str, bytes, dt.datetime]] = {}
        self.last_change = dt.datetime.min.replace(tzinfo=dt.UTC)
        # Throttling [ADO-rate], set by ``throttle``; None: not throttled.
        self.delay_after: int | None = None
        self.blocked = 0
        self.delay_seconds = 0.2
        self.retry_after = 1
        self.hooks: list[tuple[str, str]] = []  # (url, secret) of Web Hooks service-hook subscriptions
        self.deliveries: list[tuple[int, bytes]] = []

    # --- state for tests ----------------------------------------------------------------------

    def add_identity(self, display_name: str, unique_name: str) -> Identity:
        with self.lock:
            identity = Identity(str(uuid.uuid4()), display_name, unique_name)
            self.identities[identity.id] = identity
            return identity

    def add_project(self, name: str) -> Project:
        with self.lock:
            project = Project(
                str(uuid.uuid4()),
                name,
                areas=[name, f"{name}\\Backend", f"{name}\\Frontend"],
                iterations=[name, f"{name}\\Sprint 1", f"{name}\\Sprint 2"],
            )
            self.projects[name] = project
            return project

    def tick(self) -> dt.datetime:
        """Milliseconds, and every change later than the one before (a revision's ChangedDate
        always moves forward)."""
        now = self.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self.last_change:
            now = self.last_change + dt.timedelta(milliseconds=1)
        self.last_change = now
        return now

    def new_item(
        self, project: str, type_: str, title: str, by: Identity | None = None, **fields
    ) -> WorkItem:
        with self.lock:
            now, by = self.tick(), by or self.me
            item = WorkItem(
                next(self.ids),
                project,
                type_,
                {
                    "System.Title": title,
                    "System.State": "New",
                    "System.AreaPath": project,
                    "System.IterationPath": project,
                    "Microsoft.VSTS.Common.Priority": 2,
                    "System.CreatedDate": stamp(now),
                    "System.CreatedBy": by.id,
                    "System.CommentCount": 0,
                    **fields,
                },
            )
            item.fields.update({"System.ChangedDate": stamp(now), "System.ChangedBy": by.id})
            self.items[item.id] = item
            self._revised(item)
            return item

    def touch(self, item_id: int, by: Identity | None = None, **fields) -> WorkItem:
        """Another user changes the work item (fields by reference name)."""
        with self.lock:
            item = self.items[item_id]
            item.fields.update(fields)
            self._bump(item, by or self.me)
            return item

    def comment_as(self, item_id: int, text: str, by: Identity) -> dict:
        with self.lock:
            return self._comment(self.items[item_id], text, by)

    def delete_item(self, item_id: int) -> None:
        """Deleted work items go to the recycle bin: gone from reads and WIQL, reported by the feed."""
        with self.lock:
            item = self.items[item_id]
            item.deleted = True
            item.fields["System.ChangedDate"] = stamp(self.tick())
            self.feed.append(
                (next(self.watermarks), item.id, {**self._snapshot(item), "System.IsDeleted": True})
            )

    # --- bookkeeping --------------------------------------------------------------------------

    def _snapshot(self, item: WorkItem) -> dict:
        return {
            **item.fields,
            "System.Id": item.id,
            "System.Rev": item.rev,
            "System.TeamProject": item.project,
            "System.WorkItemType": item.type,
        }

    def _revised(self, item: WorkItem) -> None:
        self.feed.append((next(self.watermarks), item.id, self._snapshot(item)))
        for url, secret in list(self.hooks):
            event = "workitem.created" if item.rev == 1 else "workitem.updated"
            body = self.payload(event, item)
            threading.Thread(target=self._send, args=(url, body, secret), daemon=True).start()

    def _bump(self, item: WorkItem, by: Identity) -> None:
        item.rev += 1
        item.fields.update({"System.ChangedDate": stamp(self.tick()), "System.ChangedBy": by.id})
        self._revised(item)

    def _comment(self, item: WorkItem, text: str, by: Identity) -> dict:
        """A comment is a revision of the work item too (its CommentCount and ChangedDate move)."""
        now = stamp(self.now())
        comment = {
            "workItemId": item.id,
            "id": next(self.comment_ids),
            "version": 1,
            "text": text,
            "renderedText": text,
            "format": "html",
            "createdBy": by.ref(),
            "createdDate": now,
            "modifiedBy": by.ref(),
            "modifiedDate": now,
            "isDeleted": False,
        }
        item.comments.append(comment)
        item.fields["System.CommentCount"] = len(item.comments)
        self._bump(item, by)
        return comment

    # --- authentication, versions, throttling -------------------------------------------------

    def authenticate(self, request: Request) -> Answer | None:
        """A personal access token as the password of Basic credentials (any user name), or as a
        Bearer token."""
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        token = ""
        if scheme.lower() == "basic":
            try:
                token = base64.b64decode(credential).decode().partition(":")[2]
            except ValueError:
                token = ""
        elif scheme.lower() == "bearer":
            token = credential
        if token not in self.tokens:
            return Answer(
                401,
                b"Access Denied: The Personal Access Token used has expired or is not valid.",
                {"Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="https://dev.azure.com/"'},
            )
        request.token = token
        return self._throttle()

    def throttle(self, *, delay_after: int = 0, blocked: int = 0, delay: float = 0.2) -> None:
        """[ADO-rate]: every request after the next ``delay_after`` is delayed by ``delay`` seconds and
        says so (``X-RateLimit-Delay``); after the first delayed one, the next ``blocked`` are refused
        with 429 (a client that ignores the delay runs into the block)."""
        with self.lock:
            self.delay_after = len(self.requests) + delay_after
            self.delay_seconds, self.blocked = delay, blocked

    def _throttle(self) -> Answer | None:
        if self.delay_after is None or len(self.requests) <= self.delay_after + 1:
            if self.delay_after is not None and len(self.requests) == self.delay_after + 1:
                time.sleep(self.delay_seconds)  # the first over the threshold: delayed, not blocked
            return None
        with self.lock:
            blocked, self.blocked = self.blocked > 0, max(0, self.blocked - 1)
        if blocked:
            answer = error(
                429,
                "TF400733: The request has been canceled: Request was blocked due to exceeding usage of "
                "resource 'ATCPU' in namespace 'User'.",
                "RequestBlockedException",
            )
            answer.headers.update({"Retry-After": str(self.retry_after), "X-RateLimit-Resource": "ATCPU"})
            return answer
        time.sleep(self.delay_seconds)
        return None

    def decorate(self, request: Request, answer: Answer) -> None:
        if self.delay_after is not None and len(self.requests) > self.delay_after and answer.status != 429:
            answer.headers.setdefault("X-RateLimit-Resource", "ATCPU")
            answer.headers.setdefault("X-RateLimit-Delay", f"{self.delay_seconds:.3f}")
            answer.headers.setdefault("X-RateLimit-Limit", "200")
            answer.headers.setdefault("X-RateLimit-Remaining", "0")
            answer.headers.setdefault("X-RateLimit-Reset", str(int(time.time()) + 300))

    @staticmethod
    def api_version(request: Request) -> str:
        """From the query or, as the Python client sends it, the ``Accept`` header [ADO-client]."""
        version = request.arg("api-version")
        if not version:
            match = re.search(r"api-version=([\w.\-]+)", request.headers.get("Accept", ""))
            version = match.group(1) if match else ""
        return version

    def preview(self, request: Request) -> None:
        """Preview APIs (comments, WIQL in 7.1) refuse a released version."""
        version = self.api_version(request)
        if version and "preview" not in version:
            raise error(
                400,
                f'VS800060: The requested version "{version}" of the resource is under preview. The '
                "-preview flag must be supplied in the api-version for such requests.",
                "VssInvalidPreviewVersionException",
            )

    # --- representations ----------------------------------------------------------------------

    def project(self, name: str) -> Project:
        found = self.projects.get(name) or next((p for p in self.projects.values() if p.id == name), None)
        if found is None:
            raise error(
                404,
                f"TF200016: The following project does not exist: {name}.",
                "ProjectDoesNotExistException",
            )
        return found

    def item(self, item_id: str | int, project: str | None = None) -> WorkItem:
        found = self.items.get(int(item_id)) if is_digits(str(item_id)) else None
        if found is None or found.deleted or (project and self.project(project).name != found.project):
            raise error(
                404,
                f"TF401232: Work item {item_id} does not exist, or you do not have permissions to read it.",
                "WorkItemUnauthorizedAccessException",
            )
        return found

    def _value(self, name: str, value):
        if name in ("System.AssignedTo", "System.CreatedBy", "System.ChangedBy") and value:
            identity = self.identities.get(value)
            return identity.ref() if identity else None
        return value

    def render(self, item: WorkItem, *, expand: str = "", fields: list[str] | None = None) -> dict:
        snapshot = self._snapshot(item)
        body_fields = {  # System.History is written, never read back with the item
            name: self._value(name, value)
            for name, value in snapshot.items()
            if value not in (None, "") and name != "System.History"
        }
        if fields:
            body_fields = {k: v for k, v in body_fields.items() if k in fields}
        body = {
            "id": item.id,
            "rev": item.rev,
            "fields": body_fields,
            "url": f"{self.url}/_apis/wit/workItems/{item.id}",
        }
        if expand.lower() in ("relations", "all"):
            body["relations"] = item.relations
        return body

    # --- routes: discovery, connection, projects ----------------------------------------------

    @route("OPTIONS", "/_apis")
    def options(self, request):
        """The resource locations the Python client resolves routes from [ADO-client]."""
        locations = [
            ("72c7ddf8-2cdc-4f60-90cd-ab71c14a399b", "workItems", "{project}/_apis/wit/workItems/{id}"),
            ("62d3d110-0047-428c-ad3c-4fe872c91c74", "workItems", "{project}/_apis/wit/workItems/${type}"),
            ("908509b6-4248-4475-a1cd-829139ba419f", "workItemsBatch", "{project}/_apis/wit/workitemsbatch"),
            ("1a9c53f7-f243-4447-b110-35ef023636e4", "wiql", "{project}/{team}/_apis/wit/wiql/{id}"),
            (
                "608aac0a-32e1-4493-a863-b9cf4566d257",
                "comments",
                "{project}/_apis/wit/workItems/{workItemId}/comments/{commentId}",
            ),
            ("e07b5fa4-1499-494d-a496-64b860fd64ff", "attachments", "{project}/_apis/wit/attachments/{id}"),
            ("e81700f7-3be2-46de-8624-2eb35882fcaa", "resourceAreas", "_apis/{resource}/{areaId}"),
            (
                "f828fe59-dd87-495d-a17c-7a8d6211ca6c",
                "workItemRevisions",
                "{project}/_apis/wit/reporting/workItemRevisions",
            ),
        ]
        value = [
            {
                "id": lid,
                "area": "wit",
                "resourceName": name,
                "routeTemplate": template,
                "resourceVersion": 4,
                "minVersion": 1.0,
                "maxVersion": 7.1,
                "releasedVersion": "7.0",
            }
            for lid, name, template in locations
        ]
        return Answer(200, {"count": len(value), "value": value})

    @route("GET", "/_apis/resourceAreas")
    def resource_areas(self, request):
        """Where each API area is served: work item tracking at the organization URL [ADO-client]."""
        area = {"id": "5264459e-e5e0-4bd8-b118-0985e68a4ec5", "name": "wit", "locationUrl": self.url + "/"}
        return Answer(200, {"count": 1, "value": [area]})

    @route("GET", "/_apis/connectionData")
    def connection_data(self, request):
        me = self.identities[self.me.id]
        return Answer(
            200,
            {
                "authenticatedUser": {
                    "id": me.id,
                    "providerDisplayName": me.display_name,
                    "properties": {"Account": {"$type": "System.String", "$value": me.unique_name}},
                },
                "instanceId": str(uuid.UUID(int=1)),
                "deploymentType": "hosted",
            },
        )

    @route("GET", "/_apis/projects")
    def list_projects(self, request):
        value = [
            {"id": p.id, "name": p.name, "state": "wellFormed", "visibility": "private"}
            for p in self.projects.values()
        ]
        return Answer(200, {"count": len(value), "value": value})

    @route("GET", "/_apis/projects/{project}")
    def get_project(self, request, project):
        found = self.project(project)
        return Answer(200, {"id": found.id, "name": found.name, "state": "wellFormed"})

    @route("GET", "/{project}/_apis/wit/workitemtypes")
    def work_item_types(self, request, project):
        self.project(project)
        value = [{"name": name, "referenceName": ref, "isDisabled": False} for name, ref in TYPES.items()]
        return Answer(200, {"count": len(value), "value": value})

    @route("GET", "/{project}/_apis/wit/workitemtypes/{type_}/states")
    def type_states(self, request, project, type_):
        self.project(project)
        if type_ not in TYPES:
            raise error(404, f"TF401326: Invalid work item type {type_}.", "WorkItemTypeNotFoundException")
        value = [
            {"name": s, "color": "b2b2b2", "category": "Proposed" if s == "New" else "InProgress"}
            for s in STATES
        ]
        return Answer(200, {"count": len(value), "value": value})

    @route("GET", "/{project}/_apis/wit/classificationnodes")
    def classification_nodes(self, request, project):
        found = self.project(project)

        def tree(paths: list[str], group: str) -> dict:
            root = {
                "name": found.name,
                "structureType": group,
                "path": f"\\{found.name}\\{group.title()}",
                "hasChildren": len(paths) > 1,
                "children": [],
            }
            for path in paths[1:]:
                leaf = path.split("\\")[-1]
                root["children"].append(
                    {
                        "name": leaf,
                        "structureType": group,
                        "hasChildren": False,
                        "path": f"\\{found.name}\\{group.title()}\\{leaf}",
                    }
                )
            return root

        value = [tree(found.areas, "area"), tree(found.iterations, "iteration")]
        return Answer(200, {"count": 2, "value": value})

    # --- routes: WIQL and reads ---------------------------------------------------------------

    @route("POST", "/{project}/_apis/wit/wiql")
    def wiql(self, request, project):
        return self._wiql(request, project)

    @route("POST", "/{project}/{team}/_apis/wit/wiql")
    def wiql_team(self, request, project, team):
        return self._wiql(request, project)

    def _wiql(self, request, project):
        """``SELECT [System.Id] FROM WorkItems WHERE … ORDER BY …``: conditions joined by AND on
        ``=``, ``<>``, ``>=``, ``>``, ``<=``, ``<``, ``CONTAINS``; ``@project``; dates day-only unless
        ``timePrecision=true`` [ADO-wiql]; only ids come back."""
        found = self.project(project)
        query = str((request.json() or {}).get("query") or "")
        precise = (request.arg("timePrecision") or "").lower() == "true"
        match = re.fullmatch(
            r"\s*SELECT\s+.+?\s+FROM\s+WorkItems(?:\s+WHERE\s+(?P<where>.+?))?"
            r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?\s*",
            query,
            re.IGNORECASE | re.DOTALL,
        )
        if not match:
            raise error(400, "VS402336: The query is not valid WIQL.", "InvalidQueryException")
        rows = [i for i in self.items.values() if not i.deleted]
        for condition in re.split(r"\s+AND\s+", match.group("where") or "", flags=re.IGNORECASE):
            if not condition.strip():
                continue
            part = re.fullmatch(
                r"\s*\[([\w.]+)\]\s*(=|<>|>=|<=|>|<|CONTAINS)\s*(.+?)\s*", condition, re.IGNORECASE
            )
            if not part:
                raise error(
                    400, f"VS402336: Cannot parse the condition {condition.strip()}.", "InvalidQueryException"
                )
            name, op, literal = part.group(1), part.group(2).upper(), part.group(3)
            literal = found.name if literal == "@project" else literal.strip("'")
            rows = [i for i in rows if self._holds(self._snapshot(i), name, op, literal, precise, condition)]
        for order in reversed((match.group("order") or "").split(",")):
            part = re.fullmatch(r"\s*\[([\w.]+)\]\s*(ASC|DESC)?\s*", order, re.IGNORECASE)
            if part:
                name = part.group(1)

                def key(item, name=name):  # ids as numbers; dates are ISO text, sortable as text
                    value = self._snapshot(item).get(name, "")
                    return str(value).zfill(12) if name == "System.Id" else str(value)

                rows.sort(key=key, reverse=(part.group(2) or "").upper() == "DESC")
        if len(rows) > WIQL_CAP:
            raise error(
                400,
                "VS402337: The number of work items returned exceeds the size limit of 20000. "
                "Change the query to return fewer items.",
                "WorkItemTrackingQueryResultSizeLimitExceededException",
            )
        top = request.arg("$top")
        if top and is_digits(top):
            rows = rows[: int(top)]
        return Answer(
            200,
            {
                "queryType": "flat",
                "queryResultType": "workItem",
                "asOf": stamp(self.now()),
                "columns": [{"referenceName": "System.Id", "name": "ID"}],
                "workItems": [{"id": i.id, "url": f"{self.url}/_apis/wit/workItems/{i.id}"} for i in rows],
            },
        )

    def _holds(self, fields: dict, name: str, op: str, literal: str, precise: bool, condition: str) -> bool:
        have = fields.get(name)
        if name in ("System.ChangedDate", "System.CreatedDate"):
            if not precise and ("T" in literal or ":" in literal):
                raise error(
                    400,
                    "VS402625: Dates must be specified in a non-ambiguous format and without a "
                    f"time when the query does not use time precision ({condition.strip()}).",
                    "InvalidQueryException",
                )
            when = parse(have)
            if precise:
                have, literal = when, parse(literal if ("T" in literal) else literal + "T00:00:00Z")
            else:
                have, literal = when.date(), dt.date.fromisoformat(literal[:10])
        elif name == "System.Id":
            have, literal = int(have), int(literal)
        elif name == "System.Tags":
            tags = [t.strip().lower() for t in str(have or "").split(";") if t.strip()]
            if op == "CONTAINS":
                return literal.lower() in tags
        if op == "CONTAINS":
            return literal.lower() in str(have or "").lower()
        have = have if have is not None else ""
        if isinstance(have, str):
            have, literal = have.lower(), str(literal).lower()
        return {
            "=": have == literal,
            "<>": have != literal,
            ">=": have >= literal,
            ">": have > literal,
            "<=": have <= literal,
            "<": have < literal,
        }[op]

    @route("POST", "/{project}/_apis/wit/workitemsbatch")
    def batch(self, request, project):
        return self._batch(request, project)

    @route("POST", "/_apis/wit/workitemsbatch")
    def batch_org(self, request):
        return self._batch(request, None)

    def _batch(self, request, project):
        body = request.json() or {}
        ids = body.get("ids") or []
        if len(ids) > MAX_BATCH:
            raise error(
                400,
                f"VS403474: The maximum number of work items that can be requested is {MAX_BATCH}.",
                "WorkItemTrackingBatchLimitException",
            )
        omit = str(body.get("errorPolicy", "Fail")).lower() == "omit"
        value = []
        for item_id in ids:
            try:
                value.append(
                    self.render(
                        self.item(item_id), expand=str(body.get("$expand") or ""), fields=body.get("fields")
                    )
                )
            except Answer:
                if not omit:
                    raise
                value.append(None)  # Omit: the place of a missing work item stays, empty
        return Answer(200, {"count": len(value), "value": value})

    @route("GET", "/_apis/wit/workitems")
    def list_items(self, request):
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if len(ids) > MAX_BATCH:
            raise error(
                400,
                f"VS403474: The maximum number of work items that can be requested is {MAX_BATCH}.",
                "WorkItemTrackingBatchLimitException",
            )
        value = [self.render(self.item(i), expand=request.arg("$expand", "")) for i in ids]
        return Answer(200, {"count": len(value), "value": value})

    @route("GET", "/_apis/wit/workItems/{item_id}")
    def get_item(self, request, item_id):
        return Answer(200, self.render(self.item(item_id), expand=request.arg("$expand", "")))

    @route("GET", "/{project}/_apis/wit/workItems/{item_id}")
    def get_item_in(self, request, project, item_id):
        return Answer(200, self.render(self.item(item_id, project), expand=request.arg("$expand", "")))

    # --- routes: writes -----------------------------------------------------------------------

    def _patch_ops(self, request) -> list:
        if not request.headers.get("Content-Type", "").startswith("application/json-patch+json"):
            raise error(
                415,
                "VS403241: The request content type must be application/json-patch+json.",
                "UnsupportedMediaTypeException",
            )
        operations = request.json()
        if not isinstance(operations, list):
            raise error(
                400,
                "VS403237: The body must be a JSON Patch document (a list of operations).",
                "InvalidArgumentValueException",
            )
        return operations

    def _apply(self, item: WorkItem, operations: list, by: Identity) -> tuple[dict, list]:
        """Checked whole before anything changes [ADO-patch]: a stale ``test /rev`` is a 412, a rule
        broken by one field refuses every operation."""
        fields, relations = dict(item.fields), list(item.relations)
        for op in operations:
            kind, path, value = op.get("op"), str(op.get("path") or ""), op.get("value")
            if kind == "test" and path == "/rev":
                if int(value) != item.rev:
                    raise error(
                        412,
                        f"TF26071: This work item has been changed by someone else since you opened "
                        f"it (revision {value}, now {item.rev}).",
                        "WorkItemRevisionMismatchException",
                    )
                continue
            if path == "/relations/-" and kind == "add":
                relations.append(
                    {
                        "rel": value.get("rel"),
                        "url": value.get("url"),
                        "attributes": dict(value.get("attributes") or {}),
                    }
                )
                continue
            if not path.startswith("/fields/") or kind not in ("add", "replace", "remove", "test"):
                raise error(
                    400,
                    f"VS403236: The path {path} of operation {kind} is not supported.",
                    "InvalidArgumentValueException",
                )
            name = path[len("/fields/") :]
            if name not in WRITABLE:
                raise error(400, f"TF51535: Cannot find field {name}.", "WorkItemFieldInvalidException")
            fields[name] = None if kind == "remove" else value
        self._validate(item, fields)
        return fields, self._commit_relations(relations)

    def _validate(self, item: WorkItem, fields: dict) -> None:
        def rule(name: str, flags: str, reason: str):
            raise error(
                400,
                f"TF401320: Rule Error for field {LABELS.get(name, name)}. Error code: {flags}. {reason}",
                "RuleValidationException",
                FieldReferenceName=name,
                FieldStatusFlags=flags,
                ErrorMessage=reason,
            )

        if not str(fields.get("System.Title") or "").strip():
            rule("System.Title", "Required, InvalidEmpty", "The field Title cannot be empty.")
        if fields.get("System.State") not in STATES:
            rule("System.State", "Required, HasValues, LimitedToValues", "The value is not in the list.")
        project = self.projects[item.project]
        for name, allowed in (
            ("System.AreaPath", project.areas),
            ("System.IterationPath", project.iterations),
        ):
            if fields.get(name) not in allowed:
                raise error(
                    400,
                    f"TF401347: Invalid tree name given for work item {item.id}, field '{name}'.",
                    "WorkItemInvalidTreeNameException",
                    FieldReferenceName=name,
                )
        priority = fields.get("Microsoft.VSTS.Common.Priority")
        if priority not in (None, "") and str(priority) not in ("1", "2", "3", "4"):
            rule(
                "Microsoft.VSTS.Common.Priority",
                "HasValues, LimitedToValues",
                "The value is not in the list.",
            )
        if priority not in (None, ""):
            fields["Microsoft.VSTS.Common.Priority"] = int(priority)
        assigned = fields.get("System.AssignedTo")
        if assigned and assigned not in self.identities:
            wanted = str(assigned).lower()
            match = re.search(r"<([^>]+)>", wanted)
            wanted = match.group(1) if match else wanted
            found = [
                i
                for i in self.identities.values()
                if wanted in (i.unique_name.lower(), i.display_name.lower(), i.id)
            ]
            if len(found) != 1:
                rule("System.AssignedTo", "HasValues, LimitedToValues, ValidIdentity", "Unknown identity.")
            fields["System.AssignedTo"] = found[0].id

    def _commit(self, item: WorkItem, fields: dict, relations: list, by: Identity) -> None:
        history = fields.pop("System.History", None)  # a discussion entry: the comment below
        item.fields, item.relations = fields, relations
        if history:
            self._comment(item, history, by)
        else:
            self._bump(item, by)

    @route("POST", "/{project}/_apis/wit/workItems/{type_}")
    def create(self, request, project, type_):
        found = self.project(project)
        type_ = type_.lstrip("$")
        if type_ not in TYPES:
            raise error(404, f"TF401326: Invalid work item type {type_}.", "WorkItemTypeNotFoundException")
        operations = self._patch_ops(request)
        by = self.identities[self.me.id]
        draft = WorkItem(
            0,
            found.name,
            type_,
            {"System.State": "New", "System.AreaPath": found.name, "System.IterationPath": found.name},
        )
        fields, relations = self._apply(draft, operations, by)
        if request.arg("validateOnly") == "true":
            return Answer(200, self.render(draft))
        history = fields.pop("System.History", None)
        item = self.new_item(found.name, type_, fields.pop("System.Title"), by, **fields)
        item.relations = relations
        if history:
            self._comment(item, history, by)
        return Answer(200, self.render(item, expand="relations"))

    @route("PATCH", "/_apis/wit/workItems/{item_id}")
    def update(self, request, item_id):
        return self._update(request, self.item(item_id))

    @route("PATCH", "/{project}/_apis/wit/workItems/{item_id}")
    def update_in(self, request, project, item_id):
        return self._update(request, self.item(item_id, project))

    def _update(self, request, item: WorkItem):
        by = self.identities[self.me.id]
        fields, relations = self._apply(item, self._patch_ops(request), by)
        if request.arg("validateOnly") != "true":
            self._commit(item, fields, relations, by)
        return Answer(200, self.render(item, expand="relations"))

    @route("DELETE", "/_apis/wit/workItems/{item_id}")
    def delete(self, request, item_id):
        item = self.item(item_id)
        self.delete_item(item.id)
        return Answer(200, {"id": item.id, "code": 200})

    @route("DELETE", "/{project}/_apis/wit/workItems/{item_id}")
    def delete_in(self, request, project, item_id):
        return self.delete(request, str(self.item(item_id, project).id))

    # --- routes: comments (7.1-preview) -------------------------------------------------------

    @route("GET", "/{project}/_apis/wit/workItems/{item_id}/comments")
    def comments(self, request, project, item_id):
        """``$top`` and ``continuationToken`` (the fake's token: the offset) [ADO-comments]."""
        self.preview(request)
        item = self.item(item_id, project)
        live = [c for c in item.comments if not c["isDeleted"]]
        if (request.arg("order") or "asc").lower() == "desc":
            live = live[::-1]
        start = int(request.arg("continuationToken") or 0)
        top = int(request.arg("$top") or 200)
        page = live[start : start + top]
        body = {"totalCount": len(live), "count": len(page), "comments": page}
        if start + top < len(live):
            body["continuationToken"] = str(start + top)
            body["nextPage"] = f"{self.url}{request.path}?continuationToken={start + top}&$top={top}"
        return Answer(200, body)

    @route("POST", "/{project}/_apis/wit/workItems/{item_id}/comments")
    def add_comment(self, request, project, item_id):
        self.preview(request)
        item = self.item(item_id, project)
        text = str((request.json() or {}).get("text") or "")
        if not text.strip():
            raise error(400, "VS403691: The comment text cannot be empty.", "InvalidArgumentValueException")
        return Answer(200, self._comment(item, text, self.identities[self.me.id]))

    # --- routes: attachments ------------------------------------------------------------------

    @route("POST", "/{project}/_apis/wit/attachments")
    def upload(self, request, project):
        self.project(project)
        return self._upload(request)

    @route("POST", "/_apis/wit/attachments")
    def upload_org(self, request):
        return self._upload(request)

    def _upload(self, request):
        name = request.arg("fileName")
        if not name:
            raise error(400, "VS403240: The file name is missing.", "InvalidArgumentValueException")
        if (request.arg("uploadType") or "Simple").lower() == "simple" and len(
            request.body
        ) > SIMPLE_UPLOAD_LIMIT:
            raise error(
                413,
                "VS403292: The file is larger than a simple upload allows; use a chunked upload.",
                "AttachmentTooLargeException",
            )
        attachment_id = str(uuid.uuid4())
        self.attachments[attachment_id] = (name, request.body, self.now())
        return Answer(
            201,
            {"id": attachment_id, "url": f"{self.url}/_apis/wit/attachments/{attachment_id}?fileName={name}"},
        )

    @route("GET", "/_apis/wit/attachments/{attachment_id}")
    def download(self, request, attachment_id):
        found = self.attachments.get(attachment_id)
        if found is None:
            raise error(
                404,
                f"VS402940: The attachment {attachment_id} does not exist.",
                "AttachmentNotFoundException",
            )
        return Answer(200, found[1], {"Content-Type": "application/octet-stream"})

    @route("GET", "/{project}/_apis/wit/attachments/{attachment_id}")
    def download_in(self, request, project, attachment_id):
        return self.download(request, attachment_id)

    def attachment_relation(self, attachment_id: str, *, comment: str = "") -> dict:
        """The ``AttachedFile`` relation as a read shows it (the server fills the attributes in)."""
        name, content, created = self.attachments[attachment_id]
        return {
            "rel": "AttachedFile",
            "url": f"{self.url}/_apis/wit/attachments/{attachment_id}",
            "attributes": {
                "id": len(self.attachments),
                "name": name,
                "resourceSize": len(content),
                "resourceCreatedDate": stamp(created),
                "comment": comment,
            },
        }

    def _commit_relations(self, relations: list) -> list:
        filled = []
        for relation in relations:
            attachment_id = str(relation.get("url") or "").rsplit("/", 1)[-1].split("?")[0]
            if relation.get("rel") == "AttachedFile" and "name" not in relation["attributes"]:
                if attachment_id not in self.attachments:
                    raise error(
                        400,
                        f"VS402940: The attachment {attachment_id} does not exist.",
                        "AttachmentNotFoundException",
                    )
                relation = self.attachment_relation(
                    attachment_id, comment=relation["attributes"].get("comment", "")
                )
            filled.append(relation)
        return filled

    # --- routes: the reporting revisions feed -------------------------------------------------

    @route("GET", "/{project}/_apis/wit/reporting/workItemRevisions")
    def revisions(self, request, project):
        """[ADO-feed]: revisions after the watermark (or from ``startDateTime``, inclusive here),
        in watermark order; ``includeLatestOnly`` keeps each item's newest; ``includeDeleted`` adds
        the deletes."""
        found = self.project(project)
        if not self.reporting:
            raise error(
                404, "VS403403: The reporting API is not available on this server.", "NotFoundException"
            )
        token, start = request.arg("continuationToken"), request.arg("startDateTime")
        if token and start:
            raise error(
                400,
                "VS403454: startDateTime cannot be used together with continuationToken.",
                "InvalidArgumentValueException",
            )
        after = int(token) if token and is_digits(token) else 0
        since = parse(start) if start else None
        deleted = (request.arg("includeDeleted") or "").lower() == "true"
        latest = (request.arg("includeLatestOnly") or "").lower() == "true"
        types = [t for t in (request.arg("types") or "").split(",") if t]
        fields = [f for f in (request.arg("fields") or "").split(",") if f]
        size = int(request.arg("$maxPageSize") or FEED_PAGE)
        newest = {item_id: watermark for watermark, item_id, _ in self.feed}
        rows = [
            (w, i, s)
            for w, i, s in self.feed
            if w > after
            and s["System.TeamProject"] == found.name
            and (since is None or parse(s["System.ChangedDate"]) >= since)
            and (deleted or not s.get("System.IsDeleted"))
            and (not types or s["System.WorkItemType"] in types)
            and (not latest or newest[i] == w)
        ]
        page = rows[:size]
        last = len(rows) <= size
        # Not the last batch: go on after the last one given; otherwise everything up to the newest
        # revision has been considered.
        mark = page[-1][0] if not last else (self.feed[-1][0] if self.feed else 0)
        values = []
        for _, item_id, snapshot in page:
            shown = {k: self._value(k, v) for k, v in snapshot.items() if v not in (None, "")}
            if fields:
                shown = {k: v for k, v in shown.items() if k in fields or k == "System.IsDeleted"}
            values.append({"id": item_id, "rev": snapshot["System.Rev"], "fields": shown})
        body = {
            "values": values,
            "isLastBatch": last,
            "continuationToken": str(mark),
            "nextLink": f"{self.url}{request.path}?continuationToken={mark}",
        }
        return Answer(200, body)

    # --- routes: identities -------------------------------------------------------------------

    @staticmethod
    def _identity(identity: Identity) -> dict:
        return {
            "id": identity.id,
            "descriptor": f"Microsoft.IdentityModel.Claims.ClaimsIdentity;{identity.unique_name}",
            "providerDisplayName": identity.display_name,
            "isActive": True,
            "properties": {
                "Account": {"$type": "System.String", "$value": identity.unique_name},
                "Mail": {"$type": "System.String", "$value": identity.unique_name},
            },
        }

    @route("GET", "/_apis/identities")
    def identities_search(self, request):
        """``identityIds=a,b`` or ``searchFilter=General&filterValue=…`` (display name or account,
        ignoring case)."""
        if request.arg("identityIds"):
            found = [self.identities.get(i) for i in request.arg("identityIds").split(",")]
            value = [self._identity(i) if i else None for i in found]
        else:
            wanted = (request.arg("filterValue") or "").strip().lower()
            value = [
                self._identity(i)
                for i in self.identities.values()
                if wanted and wanted in (i.display_name.lower(), i.unique_name.lower())
            ]
        return Answer(200, {"count": len(value), "value": value})

    # --- service hooks (Web Hooks consumer with basic authentication) -------------------------

    def payload(self, event: str, item: WorkItem) -> bytes:
        """A ``workitem.created`` / ``workitem.updated`` / ``workitem.commented`` event as the Web
        Hooks consumer posts it."""
        project = self.projects[item.project]
        rendered = self.render(item)
        resource = (
            rendered
            if event == "workitem.created"
            else {
                "id": item.rev,
                "workItemId": item.id,
                "rev": item.rev,
                "revision": rendered,
                "fields": {"System.Rev": {"oldValue": item.rev - 1, "newValue": item.rev}},
            }
        )
        return json.dumps(
            {
                "subscriptionId": str(uuid.UUID(int=7)),
                "notificationId": item.rev,
                "id": str(uuid.uuid4()),
                "eventType": event,
                "publisherId": "tfs",
                "resource": resource,
                "resourceContainers": {"project": {"id": project.id}},
                "createdDate": stamp(self.now()),
            }
        ).encode()

    def _send(self, url: str, body: bytes, secret: str) -> None:
        answer = send_webhook(url, body, webhook_headers(secret))
        with self.lock:
            self.deliveries.append(answer)


def webhook_headers(secret: str, user: str = "hub") -> dict[str, str]:
    """The subscription's basic authentication: a user name and the secret as the password."""
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Content-Type": "application/json; charset=utf-8", "Authorization": f"Basic {token}"}
