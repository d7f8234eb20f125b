"""A fake of Jira's REST API on the harness: Jira Cloud (REST v3, with v2 beside it as Cloud has)
or Jira Data Center (REST v2 only), chosen by ``flavor``.

Sources: [Jira OpenAPI v3] is Atlassian's published OpenAPI document of the Cloud platform REST API
v3 (https://developer.atlassian.com/cloud/jira/platform/rest/v3/), as summarised with its version in
``/work/shared/docs/connectors.md`` ("Contract details" §1 and §3); [JRACLOUD-69262] and
[JRACLOUD-82801] for the rate-limit headers; [CHANGE-2046] for the removal of ``/search`` on Cloud;
[Jira DC REST] https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/ for Data Center;
[ADF] https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/;
[Jira webhooks] https://developer.atlassian.com/cloud/jira/platform/webhooks/ (secret: ``X-Hub-Signature``).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import re
import threading
import zoneinfo
from dataclasses import dataclass, field

from tests.fakes.harness import Answer, FakeServer, Request, route, send_webhook

TODO, IN_PROGRESS, DONE = "10000", "3", "10001"
STATUSES = {TODO: "To Do", IN_PROGRESS: "In Progress", DONE: "Done"}
# (id, name, from, to, required fields) — a small workflow with a screen on "Resolve"
TRANSITIONS = [
    ("11", "Start work", TODO, IN_PROGRESS, ()),
    ("21", "Resolve", IN_PROGRESS, DONE, ("resolution",)),
    ("31", "Reopen", DONE, TODO, ()),
]
PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low"}
RESOLUTIONS = {"10000": "Done", "10001": "Won't Do"}
SEVERITIES = {"10100": "Minor", "10101": "Major", "10102": "Critical"}
COMPONENTS = {"10200": "Backend", "10201": "Frontend"}
# A cascading select: parent options, each with its child options (ids are unique site-wide)
LOCATIONS = {
    "10300": ("EMEA", {"10310": "Berlin", "10311": "London"}),
    "10301": ("Americas", {"10320": "New York", "10321": "London"}),
}  # every project's components, for the fake
ISSUE_TYPES = {"10001": "Bug", "10002": "Story"}
UPLOAD_LIMIT = 10 * 1024 * 1024  # attachment/meta uploadLimit [Jira OpenAPI v3]
ATTACHMENTS_PER_ISSUE = 2000  # per-issue limit; beyond → 413 [Jira OpenAPI v3]
MAX_RESULTS = 100  # Cloud caps maxResults [connectors.md §3]


@dataclass
class User:
    account_id: str  # Cloud
    name: str  # Data Center username
    display_name: str
    email: str
    time_zone: str = "UTC"
    password: str = ""


@dataclass
class Comment:
    id: int
    body: object  # ADF document (stored as such; v2 answers render it as text)
    author: User
    created: dt.datetime
    updated: dt.datetime
    visibility: dict | None = None


@dataclass
class Attachment:
    id: int
    filename: str
    content: bytes
    mime: str
    author: User
    created: dt.datetime


@dataclass
class Issue:
    id: int
    key: str
    project: str
    issuetype: str
    summary: str
    description: dict | None  # ADF
    reporter: User
    created: dt.datetime
    updated: dt.datetime
    status: str = TODO
    priority: str = "3"
    assignee: User | None = None
    resolution: str | None = None
    duedate: str | None = None
    components: list[str] = field(default_factory=list)  # component ids
    labels: list[str] = field(default_factory=list)
    custom: dict = field(default_factory=dict)  # customfield_… → value
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    properties: dict = field(default_factory=dict)
    deleted: bool = False


def adf(text: str) -> dict:
    """Plain text as an ADF document: one paragraph per line [ADF]."""
    content = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]}
        for line in text.split("\n")
        if line
    ]
    return {"type": "doc", "version": 1, "content": content}


def adf_text(document) -> str:
    """The text of an ADF document (what a v2 answer shows); a v2 write stores a plain string."""
    if document is None:
        return None
    if isinstance(document, str):
        return document
    lines = []
    for block in document.get("content", []):
        lines.append(
            "".join(node.get("text", "") for node in block.get("content", []) if node.get("type") == "text")
        )
    return "\n".join(lines)


def cascading_value(stored: tuple[str, str | None] | None) -> dict | None:
    """A cascading select's value: the option, and its child under ``child`` [Jira OpenAPI v3]."""
    if not stored:
        return None
    parent, child = stored
    label, children = LOCATIONS[parent]
    value: dict = {"id": parent, "value": label}
    if child:
        value["child"] = {"id": child, "value": children[child]}
    return value


class JiraFake(FakeServer):
    name = "jira"

    def __init__(self, *, flavor: str = "cloud", time_zone: str = "America/Los_Angeles", **kwargs):
        super().__init__(**kwargs)
        self.flavor = flavor
        self.ids = itertools.count(10100)
        self.users: dict[str, User] = {}
        self.me = self.add_user(
            "hub", "Hub Integration", "hub@example.org", time_zone=time_zone, password="hub-password"
        )
        self.token = "jira-api-token"  # noqa: S105 - Cloud: email + API token; DC: a PAT as Bearer
        self.projects: dict[str, dict] = {}
        self.filters: dict[str, dict] = {}  # saved filters by id: {"id", "name", "jql"}
        self.issues: dict[str, Issue] = {}
        self.hooks: list[tuple[str, str]] = []
        self.labels: set[str] = {"customer", "regression"}  # labels in use on the site
        self.deliveries: list[tuple[int, bytes]] = []
        self.tokens = {self.token}

    # --- state for tests ----------------------------------------------------------------------

    def add_user(
        self, name: str, display: str, email: str, *, time_zone: str = "UTC", password: str = ""
    ) -> User:
        with self.lock:
            user = User(f"5b10{next(self.ids):x}", name, display, email, time_zone, password)
            self.users[user.account_id] = user
            return user

    def add_filter(self, name: str, jql: str) -> dict:
        """A saved filter, which JQL names as ``filter = <id>`` or ``filter = "<name>"``."""
        with self.lock:
            saved = {"id": str(10000 + len(self.filters)), "name": name, "jql": jql}
            self.filters[saved["id"]] = saved
            return saved

    def add_project(self, key: str, name: str = "") -> dict:
        with self.lock:
            project = {"id": str(next(self.ids)), "key": key, "name": name or key, "counter": 0}
            self.projects[key] = project
            return project

    def tick(self) -> dt.datetime:
        now = self.now()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)  # milliseconds

    def new_issue(
        self, project: str, summary: str, *, issuetype: str = "10001", reporter: User | None = None, **attrs
    ) -> Issue:
        with self.lock:
            record = self.projects[project]
            record["counter"] += 1
            now = self.tick()
            issue = Issue(
                next(self.ids),
                f"{project}-{record['counter']}",
                project,
                issuetype,
                summary,
                attrs.pop("description", None),
                reporter or self.me,
                now,
                now,
                **attrs,
            )
            self.issues[issue.key] = issue
            return issue

    def touch(self, key: str, **attrs) -> Issue:
        with self.lock:
            issue = self.issues[key]
            for name, value in attrs.items():
                setattr(issue, name, value)
            issue.updated = self.tick()
            return issue

    def comment_as(self, key: str, text: str, author: User, visibility: dict | None = None) -> Comment:
        with self.lock:
            issue = self.issues[key]
            now = self.tick()
            body = text if self.flavor == "dc" else adf(text)  # what each flavour stores (see _text)
            comment = Comment(next(self.ids), body, author, now, now, visibility)
            issue.comments.append(comment)
            issue.updated = now
            return comment

    def delete_issue(self, key: str) -> None:
        with self.lock:
            self.issues[key].deleted = True

    # --- authentication -----------------------------------------------------------------------

    def authenticate(self, request: Request) -> Answer | None:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        user = None
        if scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                login = secret = ""
            for candidate in self.users.values():
                # Cloud: e-mail + API token; Data Center: user name + password
                if self.flavor == "cloud" and candidate.email == login and secret in self.tokens:
                    user = candidate
                if (
                    self.flavor == "dc"
                    and candidate.name == login
                    and secret
                    and secret == candidate.password
                ):
                    user = candidate
        elif scheme.lower() == "bearer" and credential in self.tokens:  # OAuth 2.0 (Cloud) or a PAT (DC)
            user = self.me
        if user is None:
            return Answer(
                401,
                {
                    "errorMessages": [
                        "You are not authenticated. Authentication required to perform this operation."
                    ]
                },
            )
        request.token = user.account_id
        if self.flavor == "dc" and request.path.startswith("/rest/api/3/"):
            return Answer(404, {"errorMessages": ["Data Center has no REST API v3."]})
        return None

    def user_of(self, request: Request) -> User:
        return self.users[request.token]

    # --- representations ----------------------------------------------------------------------

    def _time(self, when: dt.datetime, request: Request) -> str:
        """``2024-01-31T13:45:12.345-0800``: milliseconds, in the user's zone with its offset."""
        local = when.astimezone(zoneinfo.ZoneInfo(self.user_of(request).time_zone))
        return (
            local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")
        )

    def _user(self, user: User | None) -> dict | None:
        if user is None:
            return None
        if self.flavor == "cloud":
            # accountId; emailAddress only where the user's privacy settings show it
            return {
                "accountId": user.account_id,
                "displayName": user.display_name,
                "emailAddress": user.email,
                "active": True,
                "timeZone": user.time_zone,
                "accountType": "atlassian",
            }
        return {
            "name": user.name,
            "key": f"JIRAUSER{user.account_id[-4:]}",
            "displayName": user.display_name,
            "emailAddress": user.email,
            "active": True,
            "timeZone": user.time_zone,
        }

    def _version(self, request: Request) -> str:
        return "3" if request.path.startswith("/rest/api/3/") else "2"

    def _text(self, document, request: Request):
        """Rich text is stored as it was written: an ADF document (v3) or a wiki markup string (v2,
        kept verbatim, as Data Center keeps it); each version answers in its own form [Jira REST v2,
        v3]."""
        if self._version(request) == "3":
            return adf(document) if isinstance(document, str) else document
        return adf_text(document)

    def _comment(self, comment: Comment, request: Request) -> dict:
        body = {
            "id": str(comment.id),
            "author": self._user(comment.author),
            "updateAuthor": self._user(comment.author),
            "body": self._text(comment.body, request),
            "created": self._time(comment.created, request),
            "updated": self._time(comment.updated, request),
        }
        if comment.visibility:
            body["visibility"] = comment.visibility
        return body

    def _attachment(self, attachment: Attachment, request: Request) -> dict:
        version = self._version(request)
        content = (
            f"{self.url}/rest/api/{version}/attachment/content/{attachment.id}"
            if self.flavor == "cloud"
            else f"{self.url}/secure/attachment/{attachment.id}/{attachment.filename}"
        )
        return {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": len(attachment.content),
            "mimeType": attachment.mime,
            "author": self._user(attachment.author),
            "created": self._time(attachment.created, request),
            "content": content,
            "self": f"{self.url}/rest/api/{version}/attachment/{attachment.id}",
        }

    def _issue(self, issue: Issue, request: Request, properties: list[str] = ()) -> dict:
        version = self._version(request)
        fields = {
            "summary": issue.summary,
            "description": self._text(issue.description, request),
            "issuetype": {"id": issue.issuetype, "name": ISSUE_TYPES[issue.issuetype]},
            "project": {"id": self.projects[issue.project]["id"], "key": issue.project},
            "status": {
                "id": issue.status,
                "name": STATUSES[issue.status],
                "statusCategory": {"key": "done" if issue.status == DONE else "new"},
            },
            "priority": {"id": issue.priority, "name": PRIORITIES[issue.priority]},
            "assignee": self._user(issue.assignee),
            "reporter": self._user(issue.reporter),
            "resolution": {"id": issue.resolution, "name": RESOLUTIONS[issue.resolution]}
            if issue.resolution
            else None,
            "duedate": issue.duedate,
            "components": [{"id": c, "name": COMPONENTS[c]} for c in issue.components],
            "labels": list(issue.labels),
            "created": self._time(issue.created, request),
            "updated": self._time(issue.updated, request),
            "comment": {
                "comments": [self._comment(c, request) for c in issue.comments],
                "startAt": 0,
                "maxResults": len(issue.comments),
                "total": len(issue.comments),
            },
            "attachment": [self._attachment(a, request) for a in issue.attachments],
            "customfield_10010": issue.custom.get("customfield_10010"),
            "customfield_10011": (
                {
                    "id": issue.custom["customfield_10011"],
                    "value": SEVERITIES[issue.custom["customfield_10011"]],
                }
                if issue.custom.get("customfield_10011")
                else None
            ),
            "customfield_10012": cascading_value(issue.custom.get("customfield_10012")),
        }
        body = {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.url}/rest/api/{version}/issue/{issue.id}",
            "fields": fields,
        }
        if properties:
            body["properties"] = {k: issue.properties[k] for k in properties if k in issue.properties}
        return body

    # --- routes: server, users, projects, metadata --------------------------------------------

    @route("GET", "/rest/api/{version}/serverInfo")
    def server_info(self, request, version):
        return Answer(
            200,
            {
                "baseUrl": self.url,
                "version": "1001.0.0-SNAPSHOT" if self.flavor == "cloud" else "9.12.4",
                "versionNumbers": [1001, 0, 0] if self.flavor == "cloud" else [9, 12, 4],
                "deploymentType": "Cloud" if self.flavor == "cloud" else "Server",
                "buildNumber": 100999,
                "serverTitle": "Jira",
                "serverTime": self._time(self.now(), request),
            },
        )

    @route("GET", "/rest/api/{version}/myself")
    def myself(self, request, version):
        """``timeZone``: the user's, or the instance default when hidden [Jira OpenAPI v3]."""
        return Answer(200, self._user(self.user_of(request)))

    @route("GET", "/rest/api/{version}/user/search")
    def user_search(self, request, version):
        wanted = (request.arg("query") or request.arg("username") or "").lower()
        rows = [
            u
            for u in self.users.values()
            if wanted
            and (
                wanted in u.email.lower()
                or wanted in u.display_name.lower()
                or (self.flavor == "dc" and wanted in u.name.lower())
            )
        ]
        return Answer(200, [self._user(u) for u in rows])

    @route("GET", "/rest/api/{version}/user")
    def get_user(self, request, version):
        wanted = request.arg("accountId") or request.arg("username") or request.arg("key")
        for user in self.users.values():
            if wanted in (user.account_id, user.name, f"JIRAUSER{user.account_id[-4:]}"):
                return Answer(200, self._user(user))
        raise Answer(404, {"errorMessages": ["The user does not exist."]})

    @route("GET", "/rest/api/{version}/project")
    def projects_list(self, request, version):
        return Answer(
            200, [{"id": p["id"], "key": p["key"], "name": p["name"]} for p in self.projects.values()]
        )

    def project(self, key: str) -> dict:
        for project in self.projects.values():
            if key in (project["key"], project["id"]):
                return project
        raise Answer(404, {"errorMessages": [f"No project could be found with key '{key}'."]})

    @route("GET", "/rest/api/{version}/project/{key}")
    def get_project(self, request, version, key):
        project = self.project(key)
        types = [{"id": i, "name": n, "subtask": False} for i, n in ISSUE_TYPES.items()]
        return Answer(
            200, {"id": project["id"], "key": project["key"], "name": project["name"], "issueTypes": types}
        )

    @route("GET", "/rest/api/{version}/issue/createmeta/{key}/issuetypes")
    def createmeta_types(self, request, version, key):
        """Cloud: ``{issueTypes, maxResults, startAt, total}`` [Jira OpenAPI v3]; DC 8.4+: ``values``
        [Jira DC REST]."""
        self.project(key)
        rows = [{"id": i, "name": n, "subtask": False} for i, n in ISSUE_TYPES.items()]
        items = "issueTypes" if self.flavor == "cloud" else "values"
        return Answer(200, {items: rows, "startAt": 0, "maxResults": 50, "total": len(rows), "isLast": True})

    def _field_meta(self) -> list[dict]:
        def options(values, key="name"):
            return [{"id": i, key: n} for i, n in values.items()]

        return [
            {
                "fieldId": "summary",
                "key": "summary",
                "name": "Summary",
                "required": True,
                "schema": {"type": "string", "system": "summary"},
            },
            {
                "fieldId": "description",
                "key": "description",
                "name": "Description",
                "required": False,
                "schema": {"type": "string", "system": "description"},
            },
            {
                "fieldId": "priority",
                "key": "priority",
                "name": "Priority",
                "required": False,
                "schema": {"type": "priority", "system": "priority"},
                "allowedValues": options(PRIORITIES),
            },
            {
                "fieldId": "assignee",
                "key": "assignee",
                "name": "Assignee",
                "required": False,
                "schema": {"type": "user", "system": "assignee"},
            },
            {
                "fieldId": "duedate",
                "key": "duedate",
                "name": "Due date",
                "required": False,
                "schema": {"type": "date", "system": "duedate"},
            },
            {
                "fieldId": "components",
                "key": "components",
                "name": "Components",
                "required": False,
                "schema": {"type": "array", "items": "component", "system": "components"},
                "allowedValues": [{"id": i, "name": n} for i, n in COMPONENTS.items()],
            },
            {  # labels have no allowedValues: any word is a label [Jira OpenAPI v3]
                "fieldId": "labels",
                "key": "labels",
                "name": "Labels",
                "required": False,
                "schema": {"type": "array", "items": "string", "system": "labels"},
            },
            {
                "fieldId": "customfield_10010",
                "key": "customfield_10010",
                "name": "Story points",
                "required": False,
                "schema": {
                    "type": "number",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
                    "customId": 10010,
                },
            },
            {
                "fieldId": "customfield_10011",
                "key": "customfield_10011",
                "name": "Severity",
                "required": False,
                "schema": {
                    "type": "option",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
                    "customId": 10011,
                },
                "allowedValues": options(SEVERITIES, "value"),
            },
            {  # a cascading select: option-with-child, children under each option [Jira OpenAPI v3]
                "fieldId": "customfield_10012",
                "key": "customfield_10012",
                "name": "Location",
                "required": False,
                "schema": {
                    "type": "option-with-child",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:cascadingselect",
                    "customId": 10012,
                },
                "allowedValues": [
                    {
                        "id": parent,
                        "value": label,
                        "children": [{"id": c, "value": v} for c, v in children.items()],
                    }
                    for parent, (label, children) in LOCATIONS.items()
                ],
            },
        ]

    @route("GET", "/rest/api/{version}/issue/createmeta/{key}/issuetypes/{type_id}")
    def createmeta_fields(self, request, version, key, type_id):
        """Cloud: ``{fields, …}`` [Jira OpenAPI v3]; DC: ``{values, …}`` [Jira DC REST]."""
        self.project(key)
        if type_id not in ISSUE_TYPES:
            raise Answer(404, {"errorMessages": ["Issue type not found."]})
        items = "fields" if self.flavor == "cloud" else "values"
        rows = self._field_meta()
        return Answer(200, {items: rows, "startAt": 0, "maxResults": 50, "total": len(rows), "isLast": True})

    @route("GET", "/rest/api/{version}/issue/{key}/editmeta")
    def editmeta(self, request, version, key):
        self.issue(key)
        return Answer(
            200, {"fields": {f["fieldId"]: {**f, "operations": ["set"]} for f in self._field_meta()}}
        )

    @route("GET", "/rest/api/{version}/label")
    def all_labels(self, request, version):
        """Cloud: every label in use, ``PageBeanString`` paged by ``startAt``/``maxResults`` (at most
        1,000) [Jira OpenAPI v3]; Data Center has no such resource."""
        if self.flavor != "cloud":
            raise Answer(404, {"errorMessages": ["null for uri: /rest/api/2/label"]})
        values = sorted(self.labels)
        start, size = int(request.arg("startAt") or 0), min(1000, int(request.arg("maxResults") or 1000))
        page = values[start : start + size]
        return Answer(
            200,
            {
                "maxResults": size,
                "startAt": start,
                "total": len(values),
                "isLast": start + size >= len(values),
                "values": page,
            },
        )

    @route("GET", "/rest/api/{version}/status")
    def statuses(self, request, version):
        return Answer(200, [{"id": i, "name": n} for i, n in STATUSES.items()])

    @route("GET", "/rest/api/{version}/field")
    def fields(self, request, version):
        """Every field, system and custom: ``{id, key, name, custom, schema}`` [Jira OpenAPI v3]."""
        rows = [
            {
                "id": f["fieldId"],
                "key": f["fieldId"],
                "name": f["name"],
                "custom": f["fieldId"].startswith("customfield_"),
                "navigable": True,
                "searchable": True,
                "schema": f["schema"],
            }
            for f in self._field_meta()
        ]
        for name in ("status", "resolution", "reporter", "created", "updated", "comment", "attachment"):
            rows.append({"id": name, "key": name, "name": name.title(), "custom": False, "navigable": True})
        return Answer(200, rows)

    @route("GET", "/rest/api/{version}/resolution")
    def resolutions(self, request, version):
        return Answer(200, [{"id": i, "name": n} for i, n in RESOLUTIONS.items()])

    @route("GET", "/rest/api/{version}/attachment/meta")
    def attachment_meta(self, request, version):
        return Answer(200, {"enabled": True, "uploadLimit": UPLOAD_LIMIT})

    # --- search -------------------------------------------------------------------------------

    def _jql(self, jql: str, request: Request, validate: object = "strict") -> list[Issue]:
        """A subset of JQL: ``AND``-joined ``project =``, ``issuetype =|in``, ``key =``, ``summary ~``,
        ``updated >=`` / ``created >=`` with a ``"yyyy/MM/dd HH:mm"`` literal — minute precision, read in
        the zone of the user running the query [connectors.md §3] — and ``ORDER BY``. Unbounded JQL
        (no restriction) is refused on Cloud's ``search/jql`` [Jira OpenAPI v3]."""
        ordering = re.search(r"(?i)(^|\s)order\s+by\s+(.*)$", jql)
        where, order = (jql[: ordering.start()], ordering.group(2)) if ordering else (jql, "")
        # Parentheses group conditions; this subset joins them all by AND, so a group is only its
        # clauses (``issuetype in (…)`` keeps its list).
        where = re.sub(r"(?i)(?<!\bin)\s*\(([^()]*)\)", r" \1", where).strip()
        rows = [i for i in self.issues.values() if not i.deleted]
        zone = zoneinfo.ZoneInfo(self.user_of(request).time_zone)
        if not where and self.flavor == "cloud" and "search/jql" in request.path:
            raise Answer(
                400,
                {
                    "errorMessages": [
                        "Unbounded JQL queries are not allowed here. "
                        "Please add a search restriction to your query."
                    ]
                },
            )
        for clause in filter(None, (c.strip() for c in re.split(r"(?i)\s+and\s+", where))):
            match = re.fullmatch(r"(?i)(\w+)\s*(=|>=|~|in)\s*(.+)", clause)
            if not match:
                raise Answer(400, {"errorMessages": [f"Error in the JQL Query: '{clause}'"]})
            name, op, value = match.group(1).lower(), match.group(2).lower(), match.group(3).strip()
            literal = value.strip('"')
            if name == "project":
                if not any(literal in (p["key"], p["id"]) for p in self.projects.values()):
                    # an unknown project is an error in the query [Jira OpenAPI v3]
                    raise Answer(
                        400,
                        {"errorMessages": [f"The value '{literal}' does not exist for the field 'project'."]},
                    )
                rows = [i for i in rows if i.project == literal or self.projects[i.project]["id"] == literal]
            elif name == "issuetype" and op == "in":
                wanted = {v.strip().strip('"') for v in value.strip("()").split(",")}
                rows = [i for i in rows if i.issuetype in wanted]
            elif name == "issuetype":
                rows = [i for i in rows if i.issuetype == literal]
            elif name == "filter" and op == "=":
                # a saved filter by id or name; one that does not exist (or that the user may not
                # see) is an error in the query [Jira JQL reference, field "filter"]
                saved = next((f for f in self.filters.values() if literal in (f["id"], f["name"])), None)
                if saved is None:
                    raise Answer(
                        400,
                        {"errorMessages": [f"The value '{literal}' does not exist for the field 'filter'."]},
                    )
                keys = {i.key for i in self._jql(saved["jql"], request)}
                rows = [i for i in rows if i.key in keys]
            elif name == "labels" and op == "=":
                rows = [i for i in rows if literal in (getattr(i, "labels", None) or [])]
            elif name in ("key", "issuekey") and op == "in":
                # an unknown key fails the query unless ``validateQuery`` is ``warn`` (or false),
                # which leaves it out [Jira Server REST v2, search]
                wanted = [v.strip().strip('"') for v in value.strip("()").split(",")]
                unknown = [k for k in wanted if k not in self.issues or self.issues[k].deleted]
                if unknown and str(validate).lower() not in ("warn", "false", "none"):
                    raise Answer(
                        400,
                        {
                            "errorMessages": [
                                f"An issue with key '{unknown[0]}' does not exist for field 'key'."
                            ]
                        },
                    )
                rows = [i for i in rows if i.key in set(wanted)]
            elif name in ("key", "issuekey"):
                rows = [i for i in rows if i.key == literal]
            elif name == "summary" and op == "~":
                rows = [i for i in rows if literal.lower() in i.summary.lower()]
            elif name in ("updated", "created") and op == ">=":
                try:
                    moment = dt.datetime.strptime(literal.replace("-", "/"), "%Y/%m/%d %H:%M").replace(
                        tzinfo=zone
                    )
                except ValueError:
                    raise Answer(
                        400, {"errorMessages": [f"Date value '{literal}' for field '{name}' is invalid."]}
                    ) from None
                rows = [i for i in rows if getattr(i, name) >= moment]
            else:
                raise Answer(400, {"errorMessages": [f"Field '{name}' is not supported by this fake."]})
        for term in reversed([t.strip() for t in order.split(",") if t.strip()]):
            name, _, direction = term.partition(" ")
            key = {
                "updated": lambda i: i.updated,
                "created": lambda i: i.created,
                "key": lambda i: (i.project, int(i.key.split("-")[1])),
            }.get(name.lower())
            if key:
                rows.sort(key=key, reverse=direction.strip().lower() == "desc")
        return rows

    def _search_args(self, request: Request) -> dict:
        if request.method == "POST":
            data = request.json() or {}
            return data
        fields = request.arg("fields")
        return {
            "jql": request.arg("jql", ""),
            "nextPageToken": request.arg("nextPageToken"),
            "startAt": request.arg("startAt"),
            "maxResults": request.arg("maxResults"),
            "fields": fields.split(",") if fields else None,
            "properties": (request.arg("properties") or "").split(","),
            "validateQuery": request.arg("validateQuery", "strict"),
        }

    @route("GET", "/rest/api/{version}/search/jql")
    def search_jql(self, request, version):
        return self._search_jql(request)

    @route("POST", "/rest/api/{version}/search/jql")
    def search_jql_post(self, request, version):
        return self._search_jql(request)

    def _search_jql(self, request: Request) -> Answer:
        """``nextPageToken`` paging (no ``startAt``, no ``total``), ``maxResults`` default 50, ids only
        unless ``fields`` is given; the token is absent on the last page [Jira OpenAPI v3]."""
        if self.flavor != "cloud":
            raise Answer(404, {"errorMessages": ["Not found"]})
        args = self._search_args(request)
        rows = self._jql(args.get("jql") or "", request)
        size = min(5000, int(args.get("maxResults") or 50))
        start = (
            int(base64.urlsafe_b64decode(args["nextPageToken"]).decode()) if args.get("nextPageToken") else 0
        )
        chunk = rows[start : start + size]
        props = [p for p in (args.get("properties") or []) if p]
        if args.get("fields"):
            issues = [self._issue(i, request, props) for i in chunk]
        else:
            issues = [{"id": str(i.id)} for i in chunk]
        body = {"issues": issues, "isLast": start + size >= len(rows)}
        if start + size < len(rows):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return Answer(200, body)

    @route("GET", "/rest/api/{version}/search")
    def search_classic(self, request, version):
        return self._search_classic(request)

    @route("POST", "/rest/api/{version}/search")
    def search_classic_post(self, request, version):
        return self._search_classic(request)

    def _search_classic(self, request: Request) -> Answer:
        """Cloud: 410 Gone [CHANGE-2046]. DC: ``startAt``/``maxResults`` (default 50)/``total``."""
        if self.flavor == "cloud":
            raise Answer(
                410,
                {
                    "errorMessages": [
                        "The requested API has been removed. "
                        "Please migrate to the /rest/api/3/search/jql API."
                    ]
                },
            )
        args = self._search_args(request)
        rows = self._jql(args.get("jql") or "", request, args.get("validateQuery", "strict"))
        start, size = int(args.get("startAt") or 0), min(1000, int(args.get("maxResults") or 50))
        props = [p for p in (args.get("properties") or []) if p]
        return Answer(
            200,
            {
                "startAt": start,
                "maxResults": size,
                "total": len(rows),
                "issues": [self._issue(i, request, props) for i in rows[start : start + size]],
            },
        )

    # --- issues -------------------------------------------------------------------------------

    def issue(self, key: str) -> Issue:
        found = self.issues.get(key) or next((i for i in self.issues.values() if str(i.id) == key), None)
        if found is None or found.deleted:
            raise Answer(
                404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
            )
        return found

    @route("GET", "/rest/api/{version}/issue/{key}")
    def get_issue(self, request, version, key):
        props = [p for p in (request.arg("properties") or "").split(",") if p]
        return Answer(200, self._issue(self.issue(key), request, props))

    def _set_fields(self, issue: Issue, fields: dict, request: Request, creating: bool) -> None:
        """400 ``{"errorMessages": [], "errors": {field: message}}`` for refused values; ``status`` is
        not a field (transitions change it) [Jira OpenAPI v3]."""
        errors = {}
        if (creating or "summary" in fields) and not str(fields.get("summary") or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        if "status" in fields:
            errors["status"] = (
                "Field 'status' cannot be set. It is not on the appropriate screen, or unknown."
            )
        if "resolution" in fields:
            errors["resolution"] = (
                "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."
            )
        priority = (
            (fields.get("priority") or {}).get("id") if isinstance(fields.get("priority"), dict) else None
        )
        if "priority" in fields and priority not in PRIORITIES:
            errors["priority"] = "The priority selected is invalid."
        severity = fields.get("customfield_10011")
        if severity and (severity.get("id") if isinstance(severity, dict) else None) not in SEVERITIES:
            errors["customfield_10011"] = f"Option value '{severity}' is not valid"
        location = fields.get("customfield_10012")
        if location:
            parent = location.get("id") if isinstance(location, dict) else None
            child = (location.get("child") or {}).get("id") if isinstance(location, dict) else None
            if parent not in LOCATIONS:
                errors["customfield_10012"] = f"Option id '{parent}' is not valid"
            elif child is not None and child not in LOCATIONS[parent][1]:
                # a child must be one of its parent's [Jira REST: cascading select]
                errors["customfield_10012"] = f"Option id '{child}' is not a child of option id '{parent}'"
        assignee = fields.get("assignee")
        user = None
        if assignee:
            wanted = assignee.get("accountId") if self.flavor == "cloud" else assignee.get("name")
            user = next((u for u in self.users.values() if wanted in (u.account_id, u.name)), None)
            if user is None:
                errors["assignee"] = "Specified user does not exist or you do not have required permissions"
        for component in fields.get("components") or []:
            if not isinstance(component, dict) or str(component.get("id")) not in COMPONENTS:
                errors["components"] = f"Component with id '{component}' does not exist."
        for label in fields.get("labels") or []:
            if not isinstance(label, str) or not label or " " in label:
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        if "duedate" in fields and fields["duedate"]:
            try:
                dt.date.fromisoformat(fields["duedate"])
            except ValueError:
                errors["duedate"] = "Error parsing date string: " + str(fields["duedate"])
        if errors:
            raise Answer(400, {"errorMessages": [], "errors": errors})
        for name, value in fields.items():
            if name == "summary":
                issue.summary = value
            elif name == "description":
                issue.description = value
            elif name == "priority":
                issue.priority = priority
            elif name == "assignee":
                issue.assignee = user
            elif name == "duedate":
                issue.duedate = value or None
            elif name == "components":
                issue.components = [str(c["id"]) for c in value or []]
            elif name == "labels":
                issue.labels = list(value or [])
                self.labels.update(issue.labels)
            elif name == "customfield_10010":
                issue.custom[name] = value
            elif name == "customfield_10011":
                issue.custom[name] = value["id"] if value else None
            elif name == "customfield_10012":
                child = (value.get("child") or {}).get("id") if value else None
                issue.custom[name] = (value["id"], child) if value else None

    @route("POST", "/rest/api/{version}/issue")
    def create_issue(self, request, version):
        """201 with ``{id, key, self}``; ``properties`` set with the issue [Jira OpenAPI v3]."""
        data = request.json() or {}
        fields = dict(data.get("fields") or {})
        named = fields.pop("project", None) or {}
        project = self.project(str(named.get("key") or named.get("id") or ""))
        issuetype = (fields.pop("issuetype", {}) or {}).get("id")
        if issuetype not in ISSUE_TYPES:
            raise Answer(400, {"errorMessages": [], "errors": {"issuetype": "Specify a valid issue type"}})
        issue = self.new_issue(project["key"], "", issuetype=issuetype, reporter=self.user_of(request))
        try:
            self._set_fields(issue, fields, request, creating=True)
        except Answer:
            del self.issues[issue.key]
            raise
        for prop in data.get("properties") or []:
            issue.properties[prop["key"]] = prop["value"]
        self._fire("jira:issue_created", issue, request)
        return Answer(
            201,
            {
                "id": str(issue.id),
                "key": issue.key,
                "self": f"{self.url}/rest/api/{version}/issue/{issue.id}",
            },
        )

    @route("PUT", "/rest/api/{version}/issue/{key}")
    def edit_issue(self, request, version, key):
        """204; a ``transition`` in the body is ignored here [Jira OpenAPI v3]."""
        issue = self.issue(key)
        data = request.json() or {}
        self._set_fields(issue, dict(data.get("fields") or {}), request, creating=False)
        issue.updated = self.tick()
        self._fire("jira:issue_updated", issue, request)
        return Answer(204)

    @route("DELETE", "/rest/api/{version}/issue/{key}")
    def delete(self, request, version, key):
        self.issue(key).deleted = True
        return Answer(204)

    @route("PUT", "/rest/api/{version}/issue/{key}/properties/{prop}")
    def put_property(self, request, version, key, prop):
        issue = self.issue(key)
        created = prop not in issue.properties
        issue.properties[prop] = request.json()
        return Answer(201 if created else 200)

    @route("GET", "/rest/api/{version}/issue/{key}/properties/{prop}")
    def get_property(self, request, version, key, prop):
        issue = self.issue(key)
        if prop not in issue.properties:
            raise Answer(404, {"errorMessages": [f"The property with key '{prop}' does not exist."]})
        return Answer(200, {"key": prop, "value": issue.properties[prop]})

    # --- transitions --------------------------------------------------------------------------

    @route("GET", "/rest/api/{version}/issue/{key}/transitions")
    def transitions(self, request, version, key):
        """Those available from the current status, with their screens' fields when
        ``expand=transitions.fields``; an impossible ``transitionId`` gives an empty list
        [Jira OpenAPI v3]."""
        issue = self.issue(key)
        wanted = request.arg("transitionId")
        rows = []
        for tid, name, source, target, required in TRANSITIONS:
            if source != issue.status or (wanted and wanted != tid):
                continue
            row = {
                "id": tid,
                "name": name,
                "to": {"id": target, "name": STATUSES[target]},
                "hasScreen": bool(required),
            }
            if "transitions.fields" in (request.arg("expand") or ""):
                row["fields"] = {
                    f: {
                        "required": True,
                        "name": f.title(),
                        "schema": {"type": "resolution", "system": f},
                        "allowedValues": [{"id": i, "name": n} for i, n in RESOLUTIONS.items()],
                    }
                    for f in required
                }
            rows.append(row)
        return Answer(200, {"transitions": rows})

    @route("POST", "/rest/api/{version}/issue/{key}/transitions")
    def do_transition(self, request, version, key):
        """204; a required screen field missing → 400 naming it [Jira OpenAPI v3]."""
        issue = self.issue(key)
        data = request.json() or {}
        tid = str((data.get("transition") or {}).get("id"))  # a number or a string
        step = next((t for t in TRANSITIONS if t[0] == tid and t[2] == issue.status), None)
        if step is None:
            raise Answer(
                400, {"errorMessages": [f"Transition id '{tid}' is not valid for this issue."], "errors": {}}
            )
        fields = data.get("fields") or {}
        missing = {f: f"{f.title()} is required." for f in step[4] if not fields.get(f)}
        if missing:
            raise Answer(400, {"errorMessages": [], "errors": missing})
        issue.status = step[3]
        if "resolution" in fields:
            issue.resolution = fields["resolution"]["id"]
        if step[3] != DONE:
            issue.resolution = None
        issue.updated = self.tick()
        self._fire("jira:issue_updated", issue, request)
        return Answer(204)

    # --- comments -----------------------------------------------------------------------------

    @route("GET", "/rest/api/{version}/issue/{key}/comment")
    def comments(self, request, version, key):
        """``startAt``, ``maxResults`` default 100, ``orderBy`` only ``created`` (else 400)
        [Jira OpenAPI v3]."""
        issue = self.issue(key)
        order = request.arg("orderBy")
        if order and order.lstrip("+-") != "created":
            raise Answer(400, {"errorMessages": ["orderBy accepts only created."]})
        rows = sorted(issue.comments, key=lambda c: c.created, reverse=(order or "").startswith("-"))
        start, size = int(request.arg("startAt") or 0), int(request.arg("maxResults") or 100)
        return Answer(
            200,
            {
                "startAt": start,
                "maxResults": size,
                "total": len(rows),
                "comments": [self._comment(c, request) for c in rows[start : start + size]],
            },
        )

    @route("POST", "/rest/api/{version}/issue/{key}/comment")
    def add_comment(self, request, version, key):
        """201; a v3 body is an ADF document, a v2 body a string [Jira OpenAPI v3]."""
        issue = self.issue(key)
        data = request.json() or {}
        body = data.get("body")
        if self._version(request) == "3" and not (isinstance(body, dict) and body.get("type") == "doc"):
            raise Answer(400, {"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}})
        if not adf_text(body or "").strip():
            raise Answer(400, {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}})
        now = self.tick()
        comment = Comment(
            next(self.ids),
            body,
            self.user_of(request),
            now,
            now,
            data.get("visibility"),
        )
        issue.comments.append(comment)
        issue.updated = now
        self._fire("comment_created", issue, request)
        return Answer(201, self._comment(comment, request))

    # --- attachments --------------------------------------------------------------------------

    @route("POST", "/rest/api/{version}/issue/{key}/attachments")
    def attach(self, request, version, key):
        """Multipart field ``file``; ``X-Atlassian-Token: no-check`` or 403; 413 over ``uploadLimit``
        or the per-issue limit [Jira OpenAPI v3, connectors.md §3]."""
        issue = self.issue(key)
        if request.headers.get("X-Atlassian-Token") != "no-check":
            raise Answer(403, b"XSRF check failed", {"Content-Type": "text/plain"})
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: "
            + (request.headers.get("Content-Type") or "").encode()
            + b"\r\n\r\n"
            + request.body
        )
        parts = [
            p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"
        ]
        if not parts:
            raise Answer(400, {"errorMessages": ["No file named 'file' in the request."]})
        if len(issue.attachments) + len(parts) > ATTACHMENTS_PER_ISSUE:
            raise Answer(413, {"errorMessages": ["The issue has reached its limit of attachments."]})
        made = []
        for part in parts:
            content = part.get_payload(decode=True) or b""
            if len(content) > UPLOAD_LIMIT:
                raise Answer(
                    413, {"errorMessages": [f"The file {part.get_filename()} is larger than the limit."]}
                )
            attachment = Attachment(
                next(self.ids),
                part.get_filename() or "file",
                content,
                part.get_content_type(),
                self.user_of(request),
                self.tick(),
            )
            issue.attachments.append(attachment)
            made.append(attachment)
        issue.updated = self.tick()
        return Answer(200, [self._attachment(a, request) for a in made])

    def _find_attachment(self, attachment_id: str) -> Attachment:
        for issue in self.issues.values():
            for attachment in issue.attachments:
                if str(attachment.id) == attachment_id:
                    return attachment
        raise Answer(404, {"errorMessages": ["The attachment does not exist."]})

    @route("GET", "/rest/api/{version}/attachment/content/{attachment_id}")
    def attachment_content(self, request, version, attachment_id):
        """303 to the file by default; 200 with the bytes when ``redirect=false`` [Jira OpenAPI v3]."""
        attachment = self._find_attachment(attachment_id)
        if request.arg("redirect", "true") != "false":
            return Answer(
                303, None, {"Location": f"{self.url}/secure/attachment/{attachment.id}/{attachment.filename}"}
            )
        return Answer(200, attachment.content, {"Content-Type": attachment.mime})

    @route("GET", "/secure/attachment/{attachment_id}/{filename}")
    def attachment_file(self, request, attachment_id, filename):
        attachment = self._find_attachment(attachment_id)
        return Answer(200, attachment.content, {"Content-Type": attachment.mime})

    # --- webhooks -----------------------------------------------------------------------------

    def payload(self, event: str, issue: Issue, request: Request | None = None) -> bytes:
        """``{timestamp, webhookEvent, issue: {id, key, fields}}`` [Jira webhooks]."""
        fields = {
            "project": {"id": self.projects[issue.project]["id"], "key": issue.project},
            "issuetype": {"id": issue.issuetype},
            "summary": issue.summary,
        }
        body = {
            "timestamp": int(self.now().timestamp() * 1000),
            "webhookEvent": event,
            "issue": {"id": str(issue.id), "key": issue.key, "fields": fields},
        }
        return json.dumps(body).encode()

    def _fire(self, event: str, issue: Issue, request: Request) -> None:
        for url, secret in list(self.hooks):
            body = self.payload(event, issue)
            threading.Thread(target=self._send, args=(url, body, secret), daemon=True).start()

    def _send(self, url: str, body: bytes, secret: str) -> None:
        answer = send_webhook(url, body, webhook_headers(body, secret))
        with self.lock:
            self.deliveries.append(answer)


def webhook_headers(body: bytes, secret: str) -> dict[str, str]:
    """A webhook with a secret carries ``X-Hub-Signature: sha256=<HMAC-SHA256 of the body>``
    [Jira webhooks]."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": f"sha256={signature}",
        "X-Atlassian-Webhook-Identifier": hashlib.sha1(body).hexdigest(),  # noqa: S324 - an id
    }  # noqa: S324 - an id
