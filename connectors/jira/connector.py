"""The ``jira`` (Cloud, REST v3) and ``jira_dc`` (Data Center / Server, REST v2) connectors. They share
everything the two APIs agree on; they differ in authentication, how persons are named (Cloud:
``accountId``; Data Center: user name), rich text (Cloud: ADF, converted to and from HTML; Data
Center: wiki markup, converted to and from HTML by pandoc, see ``wiki``), search (Cloud:
``search/jql`` with ``nextPageToken``; Data Center: ``search`` with ``startAt``) and how an
attachment is downloaded. Rich text is the description and every multi-line text custom field.

Projects are Jira projects (id = the project key), artifact types are the project's issue types
(from ``createmeta``), artifacts are issues (id = the issue key). Status changes only through
transitions (with their screens' required fields). Private comments are comments restricted to a
project role. The creation marker is an issue entity property (``hub``), set in the create
request itself, so no issue exists without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from connectors.base import DEFAULT_ATTACHMENT_LIMIT, Connector
from connectors.errors import (
    ArtifactNotFound,
    CredentialsRefused,
    DependentValueNotFound,
    OperationUnsupported,
    ProjectNotFound,
    QueryNotCreated,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.http import identity, server_time
from connectors.jira import adf, wiki
from connectors.jira.client import API_TOKEN, BASIC, OAUTH, PAT, JiraClient, NotPermitted
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
    Transition,
)
from hub import jsonload

KEY = re.compile(r"^\s*([A-Z][A-Z0-9_]+)-(\d+)\s*$")
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]+$")
PROPERTY = "hub"  # the entity property holding the creation marker
PAGE = 100  # Cloud caps maxResults at 100
MARKER_SEARCH_PAGES = 3
READ_ONLY = ("reporter", "created", "updated", "status", "resolution")
MYSELF_SECONDS = 300.0
_MYSELF: dict[tuple[str, str], tuple[float, dict]] = {}
RICH = "richtext"  # not a Jira schema type: what ``kind_of`` calls multi-line text fields
CASCADING = "option-with-child"  # a cascading select: an option and a child option of it
CHILD = ".child"  # Hub's field id of a cascading select's child: its own (dependent) single select


def parse_time(text: str | None) -> dt.datetime | None:
    """``2024-01-31T13:45:12.345-0800`` (the offset of the user's zone) → aware UTC."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC) if text else None


def kind_of(meta: Mapping) -> str:
    """The field's schema type; multi-line text custom fields (``textarea``) are rich text."""
    schema = meta.get("schema") or {}
    return RICH if str(schema.get("custom", "")).endswith(":textarea") else schema.get("type", "")


def revision(fields: Mapping) -> str:
    """``updated`` in UTC to the millisecond: Jira has no version number, and every change
    (comments and attachments included) moves ``updated``."""
    return parse_time(fields["updated"]).isoformat(timespec="milliseconds")


ORDER_BY = re.compile(r"(?i)\border\s+by\b")


def repository_query(query: str) -> str:
    """A collection's repository query as a JQL condition. Hub orders the search itself (by
    ``updated, key``, which its paging relies on), so a query with its own ORDER BY is refused."""
    if ORDER_BY.search(query):
        raise QueryNotCreated(
            f"The repository query {query.strip()!r} has an ORDER BY; Hub orders the search itself. "
            "Give only the condition, e.g. labels = sync or filter = 10000."
        )
    return query.strip()


def cascading_schemas(meta: Mapping) -> list[FieldSchema]:
    """A cascading select as two single selects: the option, and the dependent child option (its
    options are every parent's children; Jira refuses a child of another parent)."""
    field_id, name = meta.get("fieldId") or meta.get("key"), meta.get("name") or meta.get("fieldId")
    parents = meta.get("allowedValues") or []
    children = [
        Option(str(c["id"]), c.get("value") or str(c["id"])) for o in parents for c in o.get("children") or []
    ]
    return [
        FieldSchema(
            field_id,
            name,
            FieldType.SINGLE_SELECT,
            required=bool(meta.get("required")),
            options=[Option(str(o["id"]), o.get("value") or str(o["id"])) for o in parents],
        ),
        FieldSchema(field_id + CHILD, f"{name} (dependent)", FieldType.SINGLE_SELECT, options=children),
    ]


class JiraConnector(Connector):
    cloud: bool
    api_version: str
    capabilities = Capabilities(
        private_comments=True,  # comments restricted to a project role
        transitions=True,
        transitions_required=True,  # status is not a field: only transitions move it
        optimistic_concurrency=False,  # an edit takes no revision (409 only for conflicting writes)
        creation_marker=True,  # an entity property set in the create request
        max_page_size=PAGE,
        event_hints=True,
        repository_queries=True,  # JQL (``filter = <saved filter>`` included) narrows detection
    )

    def __init__(self, settings):
        super().__init__(settings)
        self.api = JiraClient(settings, cloud=self.cloud, version=self.api_version)
        self.role = (settings.extra.get("comment_role") or "Administrators").strip()
        self._me: dict | None = None

    def close(self) -> None:
        self.api.close()

    # --- connection and structure -------------------------------------------------------------

    @property
    def me(self) -> dict:
        """The API user, remembered by this process for a few minutes per site and credential
        (every change detection would otherwise ask again for the user's time zone)."""
        if self._me is None:
            key = (
                self.settings.url,
                hashlib.sha256(f"{self.settings.username}:{self.settings.token}".encode()).hexdigest(),
            )
            cached = _MYSELF.get(key)
            if cached and time.monotonic() - cached[0] < MYSELF_SECONDS:
                self._me = cached[1]
            else:
                self._me = self.api.get("myself")
                _MYSELF[key] = (time.monotonic(), self._me)
        return self._me

    def zone(self) -> zoneinfo.ZoneInfo:
        """JQL reads date literals in the zone of the user who runs the query (``/myself``)."""
        try:
            return zoneinfo.ZoneInfo(self.me.get("timeZone") or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def test_connection(self) -> ConnectionInfo:
        response = self.api.call("GET", "myself")
        self._me = identity(response)
        info = self.api.get("serverInfo")
        product = "Jira Cloud" if self.cloud else f"Jira {info.get('version', '')}".strip()
        user = self._me.get("emailAddress") or self._me.get("displayName") or self._me.get("name", "")
        if not self.cloud:
            user = self._me.get("name") or user
        return ConnectionInfo(server=product, user=user, server_time=server_time(response))

    def list_projects(self) -> list[Project]:
        return [Project(p["key"], p["key"], p["name"]) for p in self.api.get("project")]

    def _project(self, project: str) -> dict:
        cache = self.__dict__.setdefault("_projects", {})
        if project not in cache:
            if not PROJECT_KEY.match(str(project)):
                raise ProjectNotFound(f"Jira has no project {project!r} (give its key, e.g. DEMO).")
            missing = ProjectNotFound(f"Jira has no project {project} visible to Hub's user.")
            cache[project] = self.api.get(f"project/{project}", missing=missing)
        return cache[project]

    def artifact_types(self, project: str) -> list[ArtifactType]:
        self._project(project)
        page = self.api.get(f"issue/createmeta/{project}/issuetypes", params={"maxResults": 200})
        rows = page.get("issueTypes") or page.get("values") or []
        return [ArtifactType(str(t["id"]), t["name"]) for t in rows if not t.get("subtask")]

    def _createmeta(self, project: str, artifact_type: str) -> list[dict]:
        cache = self.__dict__.setdefault("_createmeta_cache", {})
        if (project, artifact_type) not in cache:
            self._project(project)
            missing = ProjectNotFound(f"Jira project {project} has no issue type {artifact_type}.")
            page = self.api.get(
                f"issue/createmeta/{project}/issuetypes/{artifact_type}",
                params={"maxResults": 200},
                missing=missing,
            )
            cache[project, artifact_type] = page.get("fields") or page.get("values") or []
        return cache[project, artifact_type]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        fields = []
        for meta in self._createmeta(project, artifact_type):
            if kind_of(meta) == CASCADING:
                fields += cascading_schemas(meta)
                continue
            schema = self._schema_of(meta)
            if schema is not None:
                fields.append(schema)
        statuses = [Option(str(s["id"]), s["name"]) for s in self.api.get("status")]
        resolutions = [Option(str(r["id"]), r["name"]) for r in self.api.get("resolution")]
        fields += [
            FieldSchema("status", "Status", FieldType.SINGLE_SELECT, options=statuses),
            FieldSchema(
                "resolution", "Resolution", FieldType.SINGLE_SELECT, options=resolutions, read_only=True
            ),
            FieldSchema("reporter", "Reporter", FieldType.PERSON, read_only=True, person_target=True),
            FieldSchema("created", "Created", FieldType.DATE_TIME, read_only=True),
            FieldSchema("updated", "Updated", FieldType.DATE_TIME, read_only=True),
        ]
        return fields

    def _schema_of(self, meta: Mapping) -> FieldSchema | None:
        field_id, name = meta.get("fieldId") or meta.get("key"), meta.get("name") or meta.get("fieldId")
        kind = (meta.get("schema") or {}).get("type")
        required = bool(meta.get("required"))
        options = [
            Option(str(v["id"]), v.get("name") or v.get("value") or str(v["id"]))
            for v in meta.get("allowedValues") or []
        ]
        if field_id == "description" or kind_of(meta) == RICH:
            return FieldSchema(field_id, name, FieldType.RICH_TEXT, text_format=self.text_format)
        if field_id in ("project", "issuetype", "reporter", "attachment", "issuelinks"):
            return None
        if field_id == "components" and options:
            return FieldSchema(
                field_id, name, FieldType.MULTI_SELECT, required=required, multi=True, options=options
            )
        if field_id == "labels":  # any word is a label; the options are those in use (Cloud lists them)
            labels = self._labels()
            if labels:
                options = [Option(label, label) for label in labels]
                return FieldSchema(
                    field_id, name, FieldType.MULTI_SELECT, required=required, multi=True, options=options
                )
            return None
        if kind == "string":
            return FieldSchema(field_id, name, FieldType.STRING, required=required)
        if kind in ("priority", "option") and options:
            return FieldSchema(field_id, name, FieldType.SINGLE_SELECT, required=required, options=options)
        if kind == "user":
            return FieldSchema(field_id, name, FieldType.PERSON, required=required, person_target=True)
        if kind == "date":
            return FieldSchema(field_id, name, FieldType.DATE, required=required)
        if kind == "datetime":
            return FieldSchema(field_id, name, FieldType.DATE_TIME, required=required)
        if kind == "number":
            return FieldSchema(field_id, name, FieldType.DOUBLE, required=required)
        return None  # labels, sprints, …: not offered yet

    def _labels(self) -> list[str]:
        """Every label in use (Cloud's ``GET label``, pages of 1,000). Data Center has no such list:
        labels are not offered there."""
        if not self.cloud:
            return []
        found, start = [], 0
        for _ in range(100):
            page = self.api.get("label", params={"startAt": start, "maxResults": 1000})
            found += page.get("values") or []
            start += len(page.get("values") or [])
            if page.get("isLast", True) or not page.get("values"):
                break
        return found

    def _kinds(self, project: str, artifact_type: str) -> dict[str, str]:
        kinds = {}
        for meta in self._createmeta(project, artifact_type):
            field_id = meta.get("fieldId") or meta.get("key")
            kinds[field_id] = kind_of(meta)
            if kinds[field_id] == CASCADING:
                kinds[field_id + CHILD] = "option-child"
        return kinds

    def _children(self, project: str, artifact_type: str, field_id: str) -> dict[str, dict[str, str]]:
        """A cascading select's child options by parent id: {parent: {child id: label}}."""
        for meta in self._createmeta(project, artifact_type):
            if (meta.get("fieldId") or meta.get("key")) == field_id:
                return {
                    str(o["id"]): {str(c["id"]): c.get("value", "") for c in o.get("children") or []}
                    for o in meta.get("allowedValues") or []
                }
        return {}

    # --- change detection ---------------------------------------------------------------------

    def _jql_time(self, when: dt.datetime) -> str:
        """A JQL date literal: minute precision, in the query user's zone (floored)."""
        return when.astimezone(self.zone()).strftime("%Y/%m/%d %H:%M")

    def _search(
        self, jql: str, *, token: str | None, start: int, fields: list[str], properties: list[str] = ()
    ):
        """One page: (issues, next token or None, response). Cloud pages by token, Data Center by offset."""
        if self.cloud:
            body: dict[str, Any] = {"jql": jql, "maxResults": PAGE, "fields": fields}
            if properties:
                body["properties"] = list(properties)
            if token:
                body["nextPageToken"] = token
            response = self.api.call("POST", "search/jql", json=body)
            page = response.json()
            return page.get("issues", []), page.get("nextPageToken"), response
        body = {
            "jql": jql,
            "startAt": start,
            "maxResults": PAGE,
            "fields": fields,
            "properties": list(properties),
        }
        response = self.api.call("POST", "search", json=body)
        page = response.json()
        issues = page.get("issues", [])
        more = start + len(issues) < page.get("total", 0) and issues
        return issues, str(start + len(issues)) if more else None, response

    def changed_since(
        self,
        project: str,
        since: dt.datetime | None,
        *,
        artifact_types: Sequence[str] = (),
        overlap: dt.timedelta = dt.timedelta(0),
        cursor: str | None = None,
        page_size: int = 100,
        query: str = "",
    ) -> ChangePage:
        """JQL ``updated >= "<minute>"`` in the user's zone, ordered by ``updated, key``; each page
        restarts from the last minute returned and drops what that minute already gave (Redmine's
        keyset cursor), so an issue updated while Hub pages hides no other — whatever Jira's page
        tokens do inside. ``query``, the collection's repository query, is JQL ANDed to it (a saved
        filter as ``filter = 10000`` or ``filter = "name"``); one Jira refuses raises 1116E."""
        if not PROJECT_KEY.match(str(project)):  # an unknown project: JQL answers 400 below
            raise ProjectNotFound(f"Jira has no project {project!r} (give its key, e.g. DEMO).")
        state = Cursor.decode(cursor)
        clauses = [f'project = "{project}"']
        if query.strip():
            clauses.append(f"({repository_query(query)})")
        if artifact_types:
            clauses.append("issuetype in ({})".format(", ".join(f'"{t}"' for t in artifact_types)))
        if state:
            clauses.append(f'updated >= "{state.stamp}"')
        elif since is not None:
            clauses.append(f'updated >= "{self._jql_time(since - overlap)}"')
        jql = " AND ".join(clauses) + " ORDER BY updated ASC, key ASC"
        tokens: list[str | None] = [None]
        # The literal has minute precision; what the minute before ``since`` adds is dropped here.
        threshold = since - overlap if since is not None and not state else None

        def fetch(batch: int):
            try:
                issues, token, response = self._search(
                    jql, token=tokens[batch], start=int(tokens[batch] or 0), fields=["updated"]
                )
            except ValuesNotAccepted as refused:
                said = str(refused).lower()
                if "field 'project'" in said or ("project" in said and not query.strip()):
                    raise ProjectNotFound(f"Jira has no project {project} visible to Hub's user.") from None
                if query.strip():  # the rest of the JQL is Hub's own: the query is what Jira refused
                    raise QueryNotCreated(
                        f"Jira refused the repository query {query.strip()!r}: {refused.message}"
                    ) from None
                raise
            tokens.append(token)
            items = [
                ChangedItem(i["key"], parse_time(i["fields"]["updated"]), revision(i["fields"]))
                for i in issues
            ]
            items = [item for item in items if threshold is None or item.updated >= threshold]
            return items, token is None, server_time(response)

        return next_page(
            fetch, state, max(1, min(page_size, PAGE)), stamp=lambda item: self._jql_time(item.updated)
        )

    # --- artifacts ----------------------------------------------------------------------------

    def _issue(self, key: str, properties: str = "") -> dict:
        if not KEY.match(str(key)):
            raise ValuesNotAccepted("Jira issue keys look like DEMO-12", fields={"id": repr(key)})
        missing = ArtifactNotFound(
            f"Jira issue {key} does not exist (any more) or is not visible to Hub's user."
        )
        params = {"fields": "*all"}
        if properties:
            params["properties"] = properties
        return self.api.get(f"issue/{key}", params=params, missing=missing)

    def _person_id(self, user: Mapping | None) -> str | None:
        if not user:
            return None
        return user.get("accountId") if self.cloud else user.get("name")

    def _value(self, field_id: str, kind: str, value: Any) -> Any:
        if value is None:
            return None
        if field_id == "description" or kind == RICH:
            return adf.to_html(value) if self.cloud else wiki.to_html(value)
        if field_id == "components":
            return [str(c["id"]) for c in value]
        if field_id == "labels":
            return list(value)
        if kind in ("priority", "option"):
            return str(value["id"])
        if kind == "user":
            return self._person_id(value)
        if kind == "date":
            return dt.date.fromisoformat(value)
        if kind == "datetime":
            return parse_time(value)
        if kind == "number":
            return float(value)
        return value

    def _artifact(self, issue: Mapping, comments: list[Comment] | None = None) -> Artifact:
        fields = issue["fields"]
        project, artifact_type = fields["project"]["key"], str(fields["issuetype"]["id"])
        values = {}
        for field_id, kind in self._kinds(project, artifact_type).items():
            if kind == CASCADING and field_id in fields:
                value = fields[field_id] or {}
                values[field_id] = str(value["id"]) if value.get("id") else None
                values[field_id + CHILD] = str(value["child"]["id"]) if value.get("child") else None
            elif field_id in fields and field_id not in ("project", "issuetype", "attachment"):
                values[field_id] = self._value(field_id, kind, fields[field_id])
        values.update(
            status=str(fields["status"]["id"]),
            resolution=str(fields["resolution"]["id"]) if fields.get("resolution") else None,
            reporter=self._person_id(fields.get("reporter")),
            created=parse_time(fields.get("created")),
            updated=parse_time(fields.get("updated")),
        )
        if comments is None:
            comments = [self._comment(c) for c in (fields.get("comment") or {}).get("comments", [])]
            if (fields.get("comment") or {}).get("total", 0) > len(comments):
                comments = self.comments(issue["key"])
        return Artifact(
            id=issue["key"],
            formatted_id=issue["key"],
            url=f"{self.settings.url.rstrip('/')}/browse/{issue['key']}",
            project=project,
            type=artifact_type,
            fields=values,
            updated=parse_time(fields["updated"]),
            revision=revision(fields),
            comments=comments,
            attachments=[self._attachment(a) for a in fields.get("attachment") or []],
            marker=str(((issue.get("properties") or {}).get(PROPERTY) or {}).get("marker") or ""),
        )

    def read_artifact(self, artifact_id: str) -> Artifact:
        return self._artifact(self._issue(artifact_id, properties=PROPERTY))

    def read_artifacts(self, artifact_ids: Sequence[str]) -> dict[str, Artifact]:
        """Data Center: one ``key in (…)`` search a page with ``fields=*all`` and the marker property
        (``validateQuery=warn``, so a deleted key is left out rather than failing the query) [Jira
        Server REST v2, search]: a synchronized issue costs no read of its own. Cloud, or a search
        Jira refuses: one read per issue, a few in flight."""
        keys = [str(k) for k in artifact_ids]
        if self.cloud or len(keys) < 2 or not all(KEY.match(k) for k in keys):
            return self.read_in_parallel(artifact_ids, 8)
        found: dict[str, Artifact] = {}
        try:
            for at in range(0, len(keys), PAGE):
                chunk = keys[at : at + PAGE]
                body = {
                    "jql": "key in ({})".format(", ".join(chunk)),
                    "startAt": 0,
                    "maxResults": len(chunk),
                    "fields": ["*all"],
                    "properties": [PROPERTY],
                    "validateQuery": "warn",
                }
                for issue in self.api.call("POST", "search", json=body).json().get("issues", []):
                    found[issue["key"]] = self._artifact(issue)
        except ValuesNotAccepted:
            return self.read_in_parallel(artifact_ids, 8)
        return {key: found[key] for key in keys if key in found}

    def _payload(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], current: Mapping | None = None
    ) -> dict[str, Any]:
        kinds = self._kinds(project, artifact_type)
        payload: dict[str, Any] = {}
        for name, value in fields.items():
            if kinds.get(name) == CASCADING or kinds.get(name) == "option-child":
                field_id = name.removesuffix(CHILD)
                if field_id not in payload:
                    payload[field_id] = self._cascading(project, artifact_type, field_id, fields, current)
                continue
            if name == "status":
                raise ValuesNotAccepted(
                    "Jira changes the status only through a transition", fields={"status": "use a transition"}
                )
            if name in READ_ONLY:
                raise ValuesNotAccepted("Jira sets this field itself", fields={name: "read only"})
            kind = kinds.get(name)
            if kind is None:
                raise ValuesNotAccepted(
                    f"Jira issues of type {artifact_type} in {project} have no such field",
                    fields={name: "unknown field"},
                )
            payload[name] = self._write_value(name, kind, value)
        return payload

    def _cascading(
        self,
        project: str,
        artifact_type: str,
        field_id: str,
        fields: Mapping[str, Any],
        current: Mapping | None,
    ) -> dict | None:
        """A cascading select's value from Hub's two fields. The child is a dependent single select:
        when only the parent changes, the unchanged child is carried to the child of the new parent
        with the same label, and where the new parent has none that is CCRRTT-50006E (writing the
        parent alone would silently drop the child, which Jira allows)."""
        now = (current or {}).get(field_id) or {}
        parent = fields.get(field_id, now.get("id"))
        if not parent:
            return None
        children = self._children(project, artifact_type, field_id)
        if field_id + CHILD in fields:
            child = fields[field_id + CHILD]
        elif now.get("child") and str(now.get("id")) != str(parent):
            label = now["child"].get("value", "")
            child = next((c for c, v in children.get(str(parent), {}).items() if v == label), None)
            if child is None:
                raise DependentValueNotFound(
                    f"Jira field {field_id}: its dependent value “{label}” did not change, but the new "
                    f"value {parent} of the field it depends on has no option “{label}”",
                    transient=False,
                )
        else:
            child = (now.get("child") or {}).get("id")
        value: dict[str, Any] = {"id": str(parent)}
        if child:
            value["child"] = {"id": str(child)}
        return value

    def _write_value(self, name: str, kind: str, value: Any) -> Any:
        if name == "description" or kind == RICH:
            return (adf.from_html(value) if value else None) if self.cloud else wiki.from_html(value)
        if name == "components":
            return [{"id": str(v)} for v in value or []]
        if name == "labels":
            return list(value or [])
        if value in (None, ""):
            return None
        if kind in ("priority", "option"):
            return {"id": str(value)}
        if kind == "user":
            return {"accountId": value} if self.cloud else {"name": value}
        if kind == "date":
            return value.isoformat()
        if kind == "datetime":
            return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        return value

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        payload = self._payload(project, artifact_type, fields)
        body: dict[str, Any] = {
            "fields": {**payload, "project": {"key": project}, "issuetype": {"id": artifact_type}}
        }
        if marker:
            body["properties"] = [{"key": PROPERTY, "value": {"marker": marker}}]
        created = self.api.call("POST", "issue", json=body).json()
        return self.read_artifact(created["key"])

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        """The newest issues of the type with their ``hub`` property (JQL cannot search an entity
        property no app indexes; a twin is looked for soon after the worker that made it died)."""
        self._project(project)
        jql = f'project = "{project}" AND issuetype = "{artifact_type}" ORDER BY created DESC'
        token, start = None, 0
        for _ in range(MARKER_SEARCH_PAGES):
            issues, token, _ = self._search(
                jql, token=token, start=start, fields=["created"], properties=[PROPERTY]
            )
            for issue in issues:
                if ((issue.get("properties") or {}).get(PROPERTY) or {}).get("marker") == marker:
                    return self.read_artifact(issue["key"])
            start += len(issues)
            if token is None:
                return None
        return None

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        issue = self._issue(artifact_id)
        project, artifact_type = issue["fields"]["project"]["key"], str(issue["fields"]["issuetype"]["id"])
        payload = self._payload(project, artifact_type, fields, current=issue["fields"])
        if payload:
            missing = ArtifactNotFound(f"Jira issue {artifact_id} does not exist (any more).")
            self.api.call("PUT", f"issue/{artifact_id}", json={"fields": payload}, missing=missing)
        return self.read_artifact(artifact_id)

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        if not KEY.match(formatted_id or ""):
            return None
        try:
            return self.read_artifact(formatted_id.strip())
        except (ArtifactNotFound, NotPermitted):
            return None

    # --- workflow -----------------------------------------------------------------------------

    def transitions(self, artifact_id: str) -> list[Transition]:
        self._issue(artifact_id)
        rows = self.api.get(f"issue/{artifact_id}/transitions", params={"expand": "transitions.fields"})
        return [
            Transition(
                id=str(t["id"]),
                name=t["name"],
                to_status=str(t["to"]["id"]),
                required_fields=[
                    name for name, meta in (t.get("fields") or {}).items() if meta.get("required")
                ],
            )
            for t in rows.get("transitions", [])
        ]

    def perform_transition(
        self,
        artifact_id: str,
        transition_id: str,
        fields: Mapping[str, Any] | None = None,
        *,
        expected_revision: str | None = None,
    ) -> Artifact:
        step = next((t for t in self.transitions(artifact_id) if t.id == str(transition_id)), None)
        if step is None:
            raise ValuesNotAccepted(
                f"Jira's workflow offers no transition {transition_id} for {artifact_id} now",
                fields={"status": f"transition {transition_id} is not available"},
            )
        fields = dict(fields or {})
        missing = [name for name in step.required_fields if fields.get(name) in (None, "")]
        if missing:
            raise ValuesNotAccepted(
                f"The transition “{step.name}” needs values", fields=dict.fromkeys(missing, "required")
            )
        values = {
            name: {"id": str(value)} if name == "resolution" else value for name, value in fields.items()
        }
        body = {"transition": {"id": step.id}, "fields": values}
        self.api.call("POST", f"issue/{artifact_id}/transitions", json=body)
        return self.read_artifact(artifact_id)

    # --- comments -----------------------------------------------------------------------------

    def _comment(self, row: Mapping) -> Comment:
        body = adf.to_text(row.get("body")) if self.cloud else wiki.to_text(row.get("body"))
        return Comment(
            id=str(row["id"]),
            body=body,
            author=self._person_id(row.get("author")) or "",
            private=bool(row.get("visibility")),
            created=parse_time(row.get("created")),
        )

    def comments(self, artifact_id: str) -> list[Comment]:
        self._issue(artifact_id)
        found, start = [], 0
        while True:
            page = self.api.get(
                f"issue/{artifact_id}/comment",
                params={"startAt": start, "maxResults": 100, "orderBy": "created"},
            )
            rows = page.get("comments", [])
            found += [self._comment(row) for row in rows]
            start += len(rows)
            if not rows or start >= page.get("total", 0):
                return found

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False) -> Comment:
        if not body.strip():
            raise ValuesNotAccepted("Jira does not keep empty comments", fields={"comment": "empty"})
        payload: dict[str, Any] = {"body": adf.from_html(body) if self.cloud else wiki.from_text(body)}
        if private:
            payload["visibility"] = {"type": "role", "value": self.role}
        missing = ArtifactNotFound(f"Jira issue {artifact_id} does not exist (any more).")
        return self._comment(
            self.api.call("POST", f"issue/{artifact_id}/comment", json=payload, missing=missing).json()
        )

    # --- attachments --------------------------------------------------------------------------

    def _attachment(self, row: Mapping) -> AttachmentMeta:
        return AttachmentMeta(
            id=str(row["id"]),
            filename=row["filename"],
            size=int(row.get("size") or 0),
            content_type=row.get("mimeType") or "application/octet-stream",
            created=parse_time(row.get("created")),
            author=self._person_id(row.get("author")) or "",
        )

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        return self.read_artifact(artifact_id).attachments or []

    def _upload_limit(self) -> int | None:
        if "_limit" not in self.__dict__:
            try:
                meta = self.api.get("attachment/meta")
                self.__dict__["_limit"] = int(meta["uploadLimit"]) if meta.get("enabled", True) else 0
            except (NotPermitted, KeyError, ValueError):
                self.__dict__["_limit"] = None
        return self.__dict__["_limit"]

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        issue = self._issue(artifact_id)
        row = next(
            (a for a in issue["fields"].get("attachment") or [] if str(a["id"]) == str(attachment_id)), None
        )
        if row is None:
            raise ValuesNotAccepted(
                f"Jira issue {artifact_id} has no such attachment", fields={"attachment": str(attachment_id)}
            )
        if int(row.get("size") or 0) > max_bytes:
            raise attachment_too_large(row["filename"], max_bytes)
        if self.cloud:  # the content answers 303 to the file unless redirect=false
            path = f"rest/api/{self.api_version}/attachment/content/{row['id']}?redirect=false"
        else:
            path = "/".join(row["content"].split("/")[3:])
        return self.api.http.download(path, filename=row["filename"], max_bytes=max_bytes)

    def upload_attachment(
        self,
        artifact_id: str,
        filename: str,
        content: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int = DEFAULT_ATTACHMENT_LIMIT,
    ) -> AttachmentMeta:
        self._issue(artifact_id)
        limit = self._upload_limit()
        if limit is not None:
            if limit == 0:
                raise ValuesNotAccepted(
                    "Attachments are turned off in this Jira", fields={filename: "attachments disabled"}
                )
            max_bytes = min(max_bytes, limit)
        with spooled(content, filename, max_bytes) as (spool, _size):

            def refused(response) -> ValuesNotAccepted:
                reason = "; ".join(response.json().get("errorMessages", [])) if response.content else ""
                return ValuesNotAccepted(
                    "Jira refused the file", fields={filename: reason or f"HTTP {response.status_code}"}
                )

            rows = self.api.call(
                "POST",
                f"issue/{artifact_id}/attachments",
                files={"file": (filename, spool, content_type)},
                headers={"X-Atlassian-Token": "no-check"},  # without it Jira refuses the upload (XSRF check)
                refused={413: refused},
            ).json()
        return self._attachment(rows[0])

    # --- persons ------------------------------------------------------------------------------

    def _person(self, user: Mapping) -> Person:
        if self.cloud:
            # Cloud has no user names: people sign in with their e-mail address, which is all a
            # "username" can be here (empty when the user's privacy settings hide it).
            email = user.get("emailAddress") or ""
            return Person(
                id=user["accountId"],
                username=email,
                email=email,
                display_name=user.get("displayName", ""),
                active=bool(user.get("active", True)),
            )
        return Person(
            id=user["name"],
            username=user["name"],
            email=user.get("emailAddress") or "",
            display_name=user.get("displayName", ""),
            active=bool(user.get("active", True)),
        )

    def person_search_fields(self) -> list[str]:
        return ["id", "username", "email", "display_name"]

    def find_persons(self, field: str, value: str) -> list[Person]:
        if field not in self.person_search_fields():
            raise OperationUnsupported(f"Jira persons cannot be searched by {field!r}.")
        value = (value or "").strip()
        if not value:
            return []
        if field == "id":
            try:
                return [self.read_person(value)]
            except (ArtifactNotFound, ValuesNotAccepted):
                return []
        params = {"query": value} if self.cloud else {"username": value}
        found = [self._person(u) for u in self.api.get("user/search", params=params)]
        attribute = {"username": "username", "email": "email", "display_name": "display_name"}[field]
        return [p for p in found if getattr(p, attribute).casefold() == value.casefold()]

    def read_person(self, person_id: str) -> Person:
        if not re.fullmatch(r"[\w.@:-]+", str(person_id)):
            raise ValuesNotAccepted("Not a Jira person id", fields={"person": repr(person_id)})
        params = {"accountId": person_id} if self.cloud else {"username": person_id}
        return self._person(
            self.api.get("user", params=params, missing=ArtifactNotFound(f"Jira has no user {person_id}."))
        )

    # --- event hints --------------------------------------------------------------------------

    @classmethod
    def event_hints_from(cls, headers: Mapping[str, str], body: bytes, secret: str) -> list[EventHint]:
        """Issue and comment events of a webhook with a secret: ``X-Hub-Signature: sha256=<HMAC>``."""
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not secret or not hmac.compare_digest(headers.get("x-hub-signature", ""), expected):
            raise CredentialsRefused("The delivery's X-Hub-Signature does not match the secret.")
        try:
            payload = jsonload.loads(body)  # a webhook body: bounded nesting
            issue = payload.get("issue")
            if not issue:
                return []
            fields = issue.get("fields") or {}
            project = fields["project"]["key"]
            artifact_type = str((fields.get("issuetype") or {}).get("id") or "")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValuesNotAccepted(
                "The delivery is not an issue event", fields={"body": "unreadable"}
            ) from None
        return [EventHint(project=project, artifact_id=issue["key"], artifact_type=artifact_type)]


@register
class JiraCloudConnector(JiraConnector):
    kind = "jira"
    label = "Jira Cloud"
    cloud, api_version, text_format = True, "3", "html"
    settings_fields = (
        SettingField(
            "url", "Jira site", "url", required=True, help="e.g. https://your-company.atlassian.net"
        ),
        SettingField(
            "auth_method",
            "Authentication",
            "choice",
            required=True,
            choices=((API_TOKEN, "E-mail and API token"), (OAUTH, "OAuth 2.0 access token")),
            default=API_TOKEN,
        ),
        SettingField("username", "E-mail address", help="The Atlassian account Hub acts as."),
        SettingField(
            "token",
            "API token or access token",
            "password",
            secret=True,
            help="An API token from id.atlassian.com → Security → API tokens, or an OAuth 2.0 access token.",
        ),
        SettingField(
            "comment_role",
            "Role for private comments",
            default="Administrators",
            help="Private comments are restricted to this project role.",
        ),
    )
    help = (
        "Synchronizes Jira Cloud issues through REST API v3. Each project is a project and its issue "
        "types are artifact types; fields come from the create screen, custom fields included. "
        "Descriptions are converted between Jira's document format and HTML. Status changes go "
        "through the workflow's transitions. Private comments are restricted to a project role. Hub "
        "marks the issues it creates with an issue property, so an interrupted create is never repeated."
    )
    event_hint_help = (
        "In Jira settings → System → WebHooks → Create a WebHook: the URL, the secret, and the events "
        "Issue created, updated, deleted and Comment created, updated."
    )


@register
class JiraDataCenterConnector(JiraConnector):
    kind = "jira_dc"
    label = "Jira Data Center"
    cloud, api_version, text_format = False, "2", "html"
    settings_fields = (
        SettingField("url", "Jira location", "url", required=True, help="e.g. https://jira.example.org"),
        SettingField(
            "auth_method",
            "Authentication",
            "choice",
            required=True,
            choices=((PAT, "Personal access token"), (BASIC, "User name and password")),
            default=PAT,
        ),
        SettingField(
            "token",
            "Personal access token",
            "password",
            secret=True,
            help="Profile → Personal Access Tokens.",
        ),
        SettingField("username", "User name"),
        SettingField("password", "Password", "password", secret=True),
        SettingField(
            "comment_role",
            "Role for private comments",
            default="Administrators",
            help="Private comments are restricted to this project role.",
        ),
    )
    help = (
        "Synchronizes Jira Data Center and Server issues through REST API v2 (the same fields, "
        "transitions, comments and markers as Jira Cloud). Descriptions in Jira's wiki markup are "
        "shown and written as HTML; comments as text."
    )
    event_hint_help = JiraCloudConnector.event_hint_help
