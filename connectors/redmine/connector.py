"""The ``redmine`` connector: Redmine's REST API (Redmine 5).

Projects are Redmine projects (id = Redmine's numeric id), artifact types are trackers, artifacts
are issues (formatted id ``#42``). Comments are journal notes (private notes included), attachments
go through ``/uploads.json``, persons are users (administrators' keys) or project members (other
keys). See ``docs/connectors.md`` for what Redmine cannot do through its API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

from connectors.base import DEFAULT_ATTACHMENT_LIMIT, Connector
from connectors.errors import (
    ArtifactNotFound,
    ConnectorError,
    InvalidSettings,
    OperationUnsupported,
    ProjectNotFound,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.redmine import fields as rf
from connectors.redmine.client import (
    API_KEY,
    BASIC,
    MAX_LIMIT,
    NotPermitted,
    RedmineClient,
    error_text,
    server_time,
)
from connectors.redmine.containers import RedmineContainers
from connectors.redmine.keyset import Cursor, next_page
from connectors.redmine.transfer import CHUNK, spooled
from connectors.registry import register
from connectors.time_entries import (
    TIME_ENTRIES_FIELD,
    NewTimeEntry,
    TimeEntry,
    TimeEntryActivity,
    TimeEntryCapabilities,
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
    Transition,
)
from hub.ids import is_digits

FORMATTED_ID = re.compile(r"^\s*#?(\d+)\s*$")
PERSON_FIELDS = ["id", "username", "email", "display_name"]
TEXT_FORMATS = (("textile", "Textile"), ("markdown", "Markdown"), ("plain", "Plain text"))


# A journal's details name an attribute as the issue's column: the payload's name, but the parent's.
JOURNAL_NAME = {f.param: "parent_id" if f.id == "parent" else f.param for f in rf.STANDARD if f.param}
JOURNAL_FIELD = {JOURNAL_NAME[f.param]: f for f in rf.STANDARD if f.param}


def _journal_value(field: rf.Standard, value: str | None) -> Any:
    """A journal's old or new value (text) as the issue's JSON has that attribute."""
    if field.param.endswith("_id"):
        return {"id": int(value)} if value else None
    if field.type == FieldType.DURATION:
        return float(value) if value else None
    if field.type == FieldType.LONG:
        return int(value) if value else None
    if field.type == FieldType.BOOLEAN:
        return value in ("1", "true")
    return value or ""


def _journal_fields(journal: Mapping) -> frozenset[str]:
    """The ids of the fields a journal changed (its ``attr`` and ``cf`` details)."""
    fields = set()
    for detail in journal.get("details", []):
        if detail.get("property") == "cf":
            fields.add(rf.custom_field_id(detail["name"]))
        elif detail.get("property") == "attr" and detail.get("name") in JOURNAL_FIELD:
            fields.add(JOURNAL_FIELD[detail["name"]].id)
    return frozenset(fields)


def _id(artifact_id: str) -> str:
    if not is_digits(str(artifact_id)):
        raise ValuesNotAccepted("Redmine issue ids are numbers", fields={"id": repr(artifact_id)})
    return str(artifact_id)


@register
class RedmineConnector(RedmineContainers, Connector):
    kind = "redmine"
    label = "Redmine"
    capabilities = Capabilities(
        private_comments=True,
        transitions=True,
        transitions_required=False,  # status_id is written directly, within the role's workflow
        optimistic_concurrency=False,  # lock_version exists but the REST API never shows it
        creation_marker=False,  # only with a "Hub marker" custom field, see __init__
        comment_marker=True,  # notes keep their text as written
        attachment_description=True,  # a file's description; its author is always the API user
        max_page_size=MAX_LIMIT,
        containers=True,  # parent issues and versions (connectors/redmine/containers.py)
    )
    # Spent time: /time_entries.json. Logging for another user needs the role's "Log spent time for
    # other users" permission; the listing filters by activity and day.
    time_entry_capabilities = TimeEntryCapabilities(supported=True, other_worker=True, filtering=True)
    settings_fields = (
        SettingField(
            "url", "Redmine location", "url", required=True, help="e.g. https://redmine.example.org"
        ),
        SettingField(
            "auth_method",
            "Authentication",
            "choice",
            required=True,
            choices=((API_KEY, "API key"), (BASIC, "User name and password")),
            default=API_KEY,
        ),
        SettingField("token", "API key", "password", secret=True, help="My account → API access key."),
        SettingField("username", "User name"),
        SettingField("password", "Password", "password", secret=True),
        SettingField(
            "marker_field",
            "Creation marker field",
            help="Name of a text custom field (used as a filter) where Hub stores the marker of the "
            "issues it creates, so that a create interrupted midway is never repeated. Empty: none.",
        ),
        SettingField("text_format", "Text formatting", "choice", choices=TEXT_FORMATS, default="textile"),
    )

    def __init__(self, settings):
        super().__init__(settings)
        self.api = RedmineClient(settings)
        self.marker_field = (settings.extra.get("marker_field") or "").strip()
        if self.marker_field:
            self.capabilities = dataclasses.replace(type(self).capabilities, creation_marker=True)
        self.text_format = settings.extra.get("text_format") or "textile"

    def close(self) -> None:
        self.api.close()

    # --- connection and structure -------------------------------------------------------------

    @property
    def current_user(self) -> dict:
        self.api.check_user()
        return self.api.user

    def test_connection(self) -> ConnectionInfo:
        response = self.api.whoami()
        return ConnectionInfo(
            server="Redmine", user=self.api.user["login"], server_time=server_time(response)
        )

    def _paged(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        offset = 0
        while True:
            body = self.api.get(path, params={**(params or {}), "limit": MAX_LIMIT, "offset": offset})
            rows = body.get(key, [])
            yield from rows
            offset += len(rows)
            if not rows or offset >= body.get("total_count", 0):
                return

    def list_projects(self) -> list[Project]:
        return [
            Project(str(p["id"]), p["identifier"], p["name"])
            for p in self._paged("/projects.json", "projects")
        ]

    def _project(self, project: str) -> dict:
        cache = self.__dict__.setdefault("_projects", {})
        if project not in cache:
            if not re.fullmatch(r"[A-Za-z0-9_-]+", str(project)):
                raise ProjectNotFound(f"Redmine has no project {project!r}.")
            missing = ProjectNotFound(f"Redmine has no project {project!r} visible to Hub's user.")

            def read() -> dict:
                return self.api.get(
                    f"/projects/{project}.json", params={"include": "trackers"}, missing=missing
                )["project"]

            # Every batch's connector needs it (issue #20: 2 of Hub's requests per issue): shared
            # in the process like the custom fields; a project that is gone is not kept.
            cache[project] = self.api.shared(f"project {project}", read)
        return cache[project]

    def artifact_types(self, project: str) -> list[ArtifactType]:
        return [ArtifactType(str(t["id"]), t["name"]) for t in self._project(project).get("trackers", [])]

    @cached_property
    def custom_fields(self) -> dict[int, dict] | None:
        """Issue custom field definitions; None when the key is not an administrator's."""

        def read() -> dict[int, dict] | None:
            try:
                rows = self.api.get("/custom_fields.json")["custom_fields"]
            except NotPermitted:
                return None
            return {cf["id"]: cf for cf in rows if cf.get("customized_type") == "issue"}

        return self.api.shared("custom fields", read)

    def _options(self, path: str, key: str) -> list[Option]:
        return [Option(str(row["id"]), row["name"]) for row in self.api.get(path)[key]]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        pid = self._project(project)["id"]
        options = {
            "status": self._options("/issue_statuses.json", "issue_statuses"),
            "priority": self._options("/enumerations/issue_priorities.json", "issue_priorities"),
            "category": self._options(f"/projects/{pid}/issue_categories.json", "issue_categories"),
            "fixed_version": [
                Option(str(v["id"]), v["name"])
                for v in self._paged(f"/projects/{pid}/versions.json", "versions")
            ],
        }
        schema = rf.schema(options, self._custom_fields_of(int(artifact_type)), self.text_format)
        return [*schema, FieldSchema(TIME_ENTRIES_FIELD, "Spent time", FieldType.TIME_ENTRIES)]

    def _custom_fields_of(self, tracker_id: int) -> list[dict]:
        if self.custom_fields is None:
            return []
        return [
            cf
            for cf in self.custom_fields.values()
            if any(t["id"] == tracker_id for t in cf.get("trackers", [])) and cf.get("visible", True)
        ]

    def _custom_type(self, cf_id: int, multiple: bool) -> FieldType:
        cf = (self.custom_fields or {}).get(cf_id)
        if cf is None:  # a non-administrator key cannot read definitions: keep the text
            return FieldType.MULTI_SELECT if multiple else FieldType.STRING
        return rf.custom_schema(cf, ()).type

    def _labels(self) -> dict[str, str]:
        labels = {f.label: f.id for f in rf.STANDARD}
        labels.update(
            {cf["name"]: rf.custom_field_id(cf["id"]) for cf in (self.custom_fields or {}).values()}
        )
        labels.update({"Related issue": "relations", "Parent task": "parent"})
        return labels

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
        """Keyset paging over Redmine's offset paging: each page asks again for issues updated at
        or after the last second returned and drops those already returned in that second, so an
        issue updated meanwhile (it moves to the end) never shifts another one out of sight."""
        pid = self._project(project)["id"]
        state = Cursor.decode(cursor)
        params: dict[str, Any] = {
            "project_id": pid,
            "subproject_id": "!*",
            "status_id": "*",
            "sort": "updated_on,id",
            "limit": MAX_LIMIT,
        }
        if artifact_types:
            params["tracker_id"] = "|".join(artifact_types)
        if state:
            params["updated_on"] = ">=" + state.stamp
        elif since is not None:
            params["updated_on"] = ">=" + rf.format_time(since - overlap)
        offsets = [0]

        def fetch(batch: int) -> tuple[list[ChangedItem], bool, dt.datetime | None]:
            offset = offsets[batch]
            response = self.api.call("GET", "/issues.json", params={**params, "offset": offset})
            body = response.json()
            rows = body.get("issues", [])
            # one row of overlap with the next batch: an item moving away cannot hide its neighbour
            offsets.append(offset + max(1, len(rows) - 1))
            last = not rows or offset + len(rows) >= body.get("total_count", 0)
            items = [ChangedItem(str(r["id"]), rf.parse_time(r["updated_on"]), r["updated_on"]) for r in rows]
            return items, last, server_time(response)

        return next_page(fetch, state, max(1, min(page_size, MAX_LIMIT)))

    # --- artifacts ----------------------------------------------------------------------------

    def _issue(self, artifact_id: str, include: str = "journals,attachments,relations") -> dict:
        issue_id = _id(artifact_id)
        return self.api.get(
            f"/issues/{issue_id}.json", params={"include": include}, missing=self.api.not_found(issue_id)
        )["issue"]

    def _artifact(self, issue: dict) -> Artifact:
        values = rf.standard_values(issue)
        for cf in issue.get("custom_fields", []):
            field_type = self._custom_type(cf["id"], bool(cf.get("multiple")))
            values[rf.custom_field_id(cf["id"])] = rf.custom_value_from_redmine(field_type, cf.get("value"))
        values.update(rf.relation_values(issue["id"], issue.get("relations", [])))
        journals = issue.get("journals", [])
        last_journal = max((j["id"] for j in journals), default=0)
        return Artifact(
            id=str(issue["id"]),
            formatted_id=f"#{issue['id']}",
            url=f"{self.api.base}/issues/{issue['id']}",
            project=str(issue["project"]["id"]),
            type=str(issue["tracker"]["id"]),
            fields=values,
            updated=rf.parse_time(issue["updated_on"]),
            # updated_on has one-second precision; every change also adds a journal
            revision=f"{issue['updated_on']}/{last_journal}",
            comments=[self._comment(j) for j in journals if j.get("notes")],
            attachments=[self._attachment(a) for a in issue.get("attachments", [])],
            marker=self._marker_of(issue),
            editors=frozenset(
                str(person["id"])
                for person in [issue.get("author"), *(j.get("user") for j in journals)]
                if person and "id" in person
            ),
            field_changes=tuple(
                (
                    j["id"],
                    str((j.get("user") or {}).get("id", "")),
                    _journal_fields(j),
                    rf.parse_time(j.get("created_on")),
                )
                for j in sorted(journals, key=lambda j: j["id"])
            )
            if "journals" in issue
            else None,
        )

    def touched_since(self, artifact: Artifact, revision: str) -> dict[str, dt.datetime | None] | None:
        """From the journals after the revision's last journal id (``updated_on/<journal id>``),
        leaving out Hub's own (the connection's user)."""
        _, _, journal = (revision or "").rpartition("/")
        if artifact.field_changes is None or not is_digits(journal):
            return None
        hub = str(self.current_user["id"])
        touched: dict[str, dt.datetime | None] = {}
        for number, author, fields, when in artifact.field_changes:  # oldest first: the last one stays
            if number > int(journal) and author != hub:
                touched.update(dict.fromkeys(fields, when))
        return touched

    def _marker_of(self, issue: dict) -> str:
        """The creation marker Hub stored in the marker custom field, if one is configured."""
        if not self.capabilities.creation_marker:
            return ""
        try:
            cf_id = self._marker_cf()
        except InvalidSettings:  # reported where it matters: by the create that needs the field
            return ""
        return next(
            (str(cf.get("value") or "") for cf in issue.get("custom_fields", []) if cf["id"] == cf_id), ""
        )

    def read_artifact(self, artifact_id: str) -> Artifact:
        return self._artifact(self._issue(artifact_id))

    def read_field_values(
        self, artifact_ids: Sequence[str], fields: Collection[str] | None = None
    ) -> dict[str, Artifact]:
        """The field values alone (the Enterprise Data Stream): one list request per 100 ids
        (``/issues.json?issue_id=1,2,3``, relations included) instead of one request per issue.
        The list has no journals, so comments and attachments are left unread (``None``), editors
        unknown, and the revision is ``updated_on`` alone: not one to write back with."""
        found: dict[str, Artifact] = {}
        ids = list(dict.fromkeys(_id(artifact_id) for artifact_id in artifact_ids))
        for start in range(0, len(ids), MAX_LIMIT):
            chunk = ids[start : start + MAX_LIMIT]
            params = {"issue_id": ",".join(chunk), "status_id": "*", "include": "relations"}
            body = self.api.get("/issues.json", params={**params, "limit": MAX_LIMIT})
            for issue in body.get("issues", []):
                artifact = self._artifact({**issue, "journals": []})
                artifact.revision, artifact.editors = issue["updated_on"], None
                artifact.comments = artifact.attachments = artifact.field_changes = None
                found[artifact.id] = artifact
        return found

    def read_raw(self, artifact_id: str) -> dict[str, Any]:
        """Redmine's own issue JSON (with journals, relations and allowed statuses)."""
        return self._issue(artifact_id, "journals,attachments,relations,allowed_statuses")

    def _payload(self, fields: Mapping[str, Any]) -> tuple[dict, dict[str, list[str]]]:
        """The issue payload for the given fields, and the relations to set afterwards."""
        payload: dict[str, Any] = {}
        custom = []
        relations: dict[str, list[str]] = {}
        for field_id, value in fields.items():
            if field_id in rf.STANDARD_BY_ID:
                field = rf.STANDARD_BY_ID[field_id]
                if not field.param:
                    raise ValuesNotAccepted("Redmine sets this field itself", fields={field_id: "read only"})
                payload[field.param] = rf.standard_param(field, value)
            elif field_id.startswith("cf_") and is_digits(field_id[3:]):
                cf_id = int(field_id[3:])
                multiple = isinstance(value, list | tuple) and not isinstance(value, str)
                field_type = self._custom_type(cf_id, multiple)
                custom.append({"id": cf_id, "value": rf.custom_value_to_redmine(field_type, value)})
            elif (
                field_id.startswith(rf.RELATION_PREFIX)
                and field_id[len(rf.RELATION_PREFIX) :] in rf.RELATION_INVERSE
            ):
                relations[field_id[len(rf.RELATION_PREFIX) :]] = [str(v) for v in value or []]
            else:
                raise ValuesNotAccepted(
                    "Redmine issues have no such field", fields={field_id: "unknown field"}
                )
        if custom:
            payload["custom_fields"] = custom
        return payload, relations

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        pid = self._project(project)["id"]
        payload, relations = self._payload(fields)
        payload.update(project_id=pid, tracker_id=artifact_type)
        if marker and self.capabilities.creation_marker:
            marker_cf = self._marker_cf()
            payload.setdefault("custom_fields", []).append({"id": marker_cf, "value": marker})
        issue = self.api.call("POST", "/issues.json", json={"issue": payload}, labels=self._labels()).json()[
            "issue"
        ]
        issue_id = str(issue["id"])
        wanted_status = payload.get("status_id")
        moved = wanted_status is not None and str(issue.get("status", {}).get("id")) != str(wanted_status)
        if moved:
            # Redmine's workflow lets a new issue start only in the tracker's initial status (it
            # keeps that one silently): create there, then move it to the wanted status, within
            # the same activity (issue #20, cause 6).
            self.api.call(
                "PUT",
                f"/issues/{issue_id}.json",
                json={"issue": {"status_id": wanted_status}},
                labels=self._labels(),
                missing=self.api.not_found(issue_id),
            )
        self._set_relations(issue_id, relations)
        # Redmine answers a create with the new issue (its custom fields too; no journals yet): read
        # it again only when a later write made journals (issue #20: fewer requests per issue).
        if moved or relations:
            issue = self._issue(issue_id)
        created = self._artifact(issue)
        self._check_written(created, fields, issue)
        return created

    def _marker_cf(self) -> int:
        named = [cf for cf in (self.custom_fields or {}).values() if cf["name"] == self.marker_field]
        if not named:
            raise InvalidSettings(
                f"Redmine has no issue custom field named {self.marker_field!r} visible to Hub "
                "(the creation marker field; it needs an administrator's key)."
            )
        return named[0]["id"]

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        if not self.capabilities.creation_marker:
            return super().find_by_marker(project, artifact_type, marker)
        cf_id = self._marker_cf()
        params = {
            "project_id": self._project(project)["id"],
            "tracker_id": artifact_type,
            "status_id": "*",
            f"cf_{cf_id}": marker,
            "limit": MAX_LIMIT,
        }
        for row in self.api.get("/issues.json", params=params)["issues"]:
            # Redmine ignores a filter on a field not marked "used as a filter": check the value.
            if any(cf["id"] == cf_id and cf.get("value") == marker for cf in row.get("custom_fields", [])):
                return self.read_artifact(str(row["id"]))
        return None

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        issue_id = _id(artifact_id)
        payload, relations = self._payload(fields)
        if payload:
            self.api.call(
                "PUT",
                f"/issues/{issue_id}.json",
                json={"issue": payload},
                labels=self._labels(),
                missing=self.api.not_found(issue_id),
            )
        self._set_relations(issue_id, relations)
        issue = self._issue(issue_id)
        updated = self._artifact(issue)
        self._check_written(updated, fields, issue)
        updated.replaced = self._replaced(issue, payload)
        return updated

    def _replaced(self, issue: dict, payload: Mapping[str, Any]) -> dict[str, Any]:
        """What Hub's write just replaced (``Artifact.replaced``): the old values of the issue's
        newest journal, where it changed fields of ``payload`` — the journal of that write — as Hub
        field values, from the issue as it was before that journal. Nothing where someone wrote
        after Hub (another journal is the newest: Hub cannot tell which one is its own)."""
        wanted = {("cf", str(cf["id"])) for cf in payload.get("custom_fields", [])}
        wanted |= {("attr", JOURNAL_NAME[name]) for name in payload if name in JOURNAL_NAME}
        newest = max(issue.get("journals", []), key=lambda j: j["id"], default={})
        details = [d for d in newest.get("details", []) if (d.get("property"), d.get("name")) in wanted]
        before = {**issue, "custom_fields": [dict(cf) for cf in issue.get("custom_fields", [])]}
        changed = set()
        for detail in details:
            old = detail.get("old_value")
            if detail["property"] == "cf":
                for cf in before["custom_fields"]:
                    if str(cf["id"]) == detail["name"] and not cf.get("multiple"):
                        cf["value"] = old or ""
                        changed.add(rf.custom_field_id(cf["id"]))
                continue
            field = JOURNAL_FIELD[detail["name"]]
            before[field.id] = _journal_value(field, old)
            changed.add(field.id)
        if not changed:
            return {}
        values = self._artifact(before).fields
        return {field_id: values[field_id] for field_id in changed}

    def _check_written(
        self, artifact: Artifact, fields: Mapping[str, Any], issue: Mapping | None = None
    ) -> None:
        """Redmine drops values the user may not set (workflow, field permissions, a field not
        enabled for the tracker) without an error: compare what was written with what is there.
        ``issue``: Redmine's JSON of the issue as read, whose references carry their names. The
        message names the field and both values as the user sees them (a status's name with its
        id), not Redmine's ids alone (issue #20: "Redmine kept '1' instead of '5'")."""
        refused = {}
        for field_id, wanted in fields.items():
            have = artifact.fields.get(field_id)
            if rf.same_value(wanted, have):
                continue
            label = self._field_label(field_id)
            kept, asked = self._shown(field_id, have, issue), self._shown(field_id, wanted, issue)
            named = f"“{label}”: " if label.casefold() != field_id.casefold() else ""  # a custom field
            refused[field_id] = (
                f"{named}Redmine kept {kept} instead of {asked} (not permitted for Hub's user by the "
                "workflow or the field permissions, or not enabled for the tracker)"
            )
        if refused:
            raise ValuesNotAccepted(
                f"Redmine did not accept all values of issue #{artifact.id}", fields=refused
            )

    def _field_label(self, field_id: str) -> str:
        if field_id in rf.STANDARD_BY_ID:
            return rf.STANDARD_BY_ID[field_id].label
        if field_id.startswith("cf_") and is_digits(field_id[3:]):
            cf = (self.custom_fields or {}).get(int(field_id[3:]))
            if cf:
                return cf["name"]
        return field_id

    # where the names of a reference's ids come from: Redmine's list of them (readable by any user)
    NAMED = {
        "status": ("/issue_statuses.json", "issue_statuses"),
        "priority": ("/enumerations/issue_priorities.json", "issue_priorities"),
    }

    def _shown(self, field_id: str, value: Any, issue: Mapping | None) -> str:
        """``value`` of ``field_id`` as the user sees it: “Resolved” (id 3) for a reference, “#12”
        for an issue, the text itself otherwise."""
        if value is None or value == "" or value == []:
            return "nothing"
        field = rf.STANDARD_BY_ID.get(field_id)
        if field is None or not field.param.endswith("_id"):
            return repr(value)
        if field_id == "parent":
            return f"#{value}"
        name = self._name_of(field_id, str(value), issue)
        return f"“{name}” (id {value})" if name else f"id {value}"

    def _name_of(self, field_id: str, value: str, issue: Mapping | None) -> str:
        """The name of a reference id: from the issue where it holds that id, else from Redmine's
        list of the kind (statuses, priorities, categories, versions) or the user; "" where Hub's
        user may not read it. Only asked when a value was refused, so never on the happy path."""
        held = (issue or {}).get(field_id) or {}
        if str(held.get("id", "")) == value and held.get("name"):
            return held["name"]
        try:
            if field_id in self.NAMED:
                path, key = self.NAMED[field_id]
                rows = self.api.get(path)[key]
            elif field_id == "assigned_to":
                return self.read_person(value).display_name
            elif field_id == "fixed_version":
                return self.api.get(f"/versions/{value}.json")["version"]["name"]
            elif field_id == "category":
                return self.api.get(f"/issue_categories/{value}.json")["issue_category"]["name"]
            else:
                return ""
        except ConnectorError:
            return ""
        return next((row["name"] for row in rows if str(row["id"]) == value), "")

    def _set_relations(self, issue_id: str, wanted: Mapping[str, list[str]]) -> None:
        if not wanted:
            return
        current = self.api.get(f"/issues/{issue_id}/relations.json", missing=self.api.not_found(issue_id))[
            "relations"
        ]
        for kind, targets in wanted.items():
            existing = rf.relations_of_kind(int(issue_id), current, kind)
            for other, relation_id in existing.items():
                if other not in targets:
                    self.api.call("DELETE", f"/relations/{relation_id}.json")
            for other in targets:
                if other not in existing:
                    self.api.call(
                        "POST",
                        f"/issues/{issue_id}/relations.json",
                        json={"relation": {"issue_to_id": int(other), "relation_type": kind}},
                        labels={
                            "Related issue": rf.RELATION_PREFIX + kind,
                            "Relation type": rf.RELATION_PREFIX + kind,
                        },
                    )

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        match = FORMATTED_ID.match(formatted_id or "")
        if not match:
            return None
        try:
            return self.read_artifact(match.group(1))
        except ArtifactNotFound:
            return None

    # --- comments -----------------------------------------------------------------------------

    @staticmethod
    def _comment(journal: Mapping) -> Comment:
        return Comment(
            id=str(journal["id"]),
            body=journal.get("notes") or "",
            author=str(journal["user"]["id"]) if journal.get("user") else "",
            private=bool(journal.get("private_notes")),
            created=rf.parse_time(journal.get("created_on")),
        )

    def comments(self, artifact_id: str) -> list[Comment]:
        return [
            self._comment(j)
            for j in self._issue(artifact_id, "journals").get("journals", [])
            if j.get("notes")
        ]

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False) -> Comment:
        issue_id = _id(artifact_id)
        if not body.strip():
            raise ValuesNotAccepted("Redmine does not keep empty notes", fields={"comment": "empty"})
        self.api.call(
            "PUT",
            f"/issues/{issue_id}.json",
            json={"issue": {"notes": body, "private_notes": private}},
            labels={"Notes": "comment"},
            missing=self.api.not_found(issue_id),
        )
        # The whole issue, in the one read that finds the note's id: it is also the issue as it is
        # after Hub's note (read_after_write), so the engine need not read it once more.
        after = self.read_artifact(issue_id)
        mine = [
            c
            for c in after.comments
            if c.author == str(self.current_user["id"]) and c.body.strip() == body.strip()
        ]
        if not mine:
            raise ConnectorError(f"Redmine accepted the note on #{issue_id} but does not show it.")
        self._after_write = (issue_id, self.api.writes, after)
        return max(mine, key=lambda c: int(c.id))

    _after_write: tuple[str, int, Artifact] | None = None

    def read_after_write(self, artifact_id: str) -> Artifact | None:
        """The issue as read right after Hub's note, as long as no other write of this connector
        (to any issue) came since."""
        if self._after_write is None:
            return None
        issue_id, writes, after = self._after_write
        return after if (issue_id, writes) == (str(artifact_id), self.api.writes) else None

    # --- attachments --------------------------------------------------------------------------

    @staticmethod
    def _attachment(row: Mapping) -> AttachmentMeta:
        return AttachmentMeta(
            id=str(row["id"]),
            filename=row["filename"],
            size=int(row.get("filesize") or 0),
            content_type=row.get("content_type") or "application/octet-stream",
            created=rf.parse_time(row.get("created_on")),
            author=str((row.get("author") or {}).get("id", "")),
        )

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        return [self._attachment(a) for a in self._issue(artifact_id, "attachments").get("attachments", [])]

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        meta = {a.id: a for a in self.attachments(artifact_id)}.get(str(attachment_id))
        if meta is None:
            raise ValuesNotAccepted(
                f"Redmine issue #{artifact_id} has no such attachment",
                fields={"attachment": str(attachment_id)},
            )
        if meta.size > max_bytes:
            raise attachment_too_large(meta.filename, max_bytes)
        return self._stream(meta, max_bytes)

    def _stream(self, meta: AttachmentMeta, max_bytes: int) -> Iterator[bytes]:
        return self.api.download(
            f"/attachments/download/{meta.id}", filename=meta.filename, max_bytes=max_bytes
        )

    def upload_attachment(
        self,
        artifact_id: str,
        filename: str,
        content: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int = DEFAULT_ATTACHMENT_LIMIT,
        description: str = "",
    ) -> AttachmentMeta:
        """``description``: the file's description in Redmine (a synchronized file's names who
        attached it there: Redmine records the API user as the author and lets no one set another)."""
        issue_id = _id(artifact_id)
        with spooled(content, filename, max_bytes) as (spool, size):

            def file_refused(response) -> ValuesNotAccepted:
                return ValuesNotAccepted("Redmine refused the file", fields={filename: error_text(response)})

            response = self.api.call(
                "POST",
                "/uploads.json",
                params={"filename": filename},
                content=iter(lambda: spool.read(CHUNK), b""),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                refused={413: file_refused, 422: file_refused},
            )
        upload = response.json()["upload"]
        self.api.call(
            "PUT",
            f"/issues/{issue_id}.json",
            json={
                "issue": {
                    "uploads": [
                        {
                            "token": upload["token"],
                            "filename": filename,
                            "content_type": content_type,
                            **({"description": description[:255]} if description else {}),
                        }
                    ]
                }
            },
            labels={"File": filename, "Attachment": filename},
            missing=self.api.not_found(issue_id),
        )
        return self._attachment(self.api.get(f"/attachments/{upload['id']}.json")["attachment"])

    # --- time entries (spent time) -------------------------------------------------------------

    @staticmethod
    def _time_entry(row: Mapping) -> TimeEntry:
        return TimeEntry(
            id=str(row["id"]),
            artifact_id=str((row.get("issue") or {}).get("id", "")),
            worker=str((row.get("user") or {}).get("id", "")),
            date=dt.date.fromisoformat(row["spent_on"]),
            # Redmine keeps hours as a decimal: whole seconds, so that 0.25 h is 900 s both ways.
            duration=dt.timedelta(seconds=round(float(row["hours"]) * 3600)),
            comment=row.get("comments") or "",
            activity=str((row.get("activity") or {}).get("id", "")),
            updated=rf.parse_time(row["updated_on"]) if row.get("updated_on") else None,
        )

    def time_entry_activities(self) -> list[TimeEntryActivity]:
        rows = self.api.get("/enumerations/time_entry_activities.json")["time_entry_activities"]
        return [
            TimeEntryActivity(str(row["id"]), row["name"], bool(row.get("is_default")))
            for row in rows
            if row.get("active", True)
        ]

    def time_entries(self, artifact_id: str) -> list[TimeEntry]:
        issue_id = _id(artifact_id)
        rows = self._paged("/time_entries.json", "time_entries", {"issue_id": issue_id})
        return sorted((self._time_entry(r) for r in rows), key=lambda e: int(e.id))

    def time_entries_changed_since(self, project: str, since: dt.datetime | None) -> list[TimeEntry]:
        params: dict[str, Any] = {"project_id": self._project(project)["id"]}
        if since is not None:
            params.update(
                {"f[]": "updated_on", "op[updated_on]": ">=", "v[updated_on][]": rf.format_time(since)}
            )
        rows = self._paged("/time_entries.json", "time_entries", params)
        return [self._time_entry(r) for r in rows if r.get("issue")]

    def create_time_entry(self, artifact_id: str, entry: NewTimeEntry) -> TimeEntry:
        issue_id = _id(artifact_id)
        body: dict[str, Any] = {
            "issue_id": int(issue_id),
            "spent_on": entry.date.isoformat(),
            "hours": round(entry.duration.total_seconds() / 3600, 4),
            "comments": entry.comment[:1024],
        }
        if entry.activity:
            body["activity_id"] = int(entry.activity)
        if entry.worker:
            body["user_id"] = int(entry.worker)
        response = self.api.call(
            "POST",
            "/time_entries.json",
            json={"time_entry": body},
            labels={"Hours": "duration", "Activity": "activity", "User": "worker", "Issue": "issue"},
            missing=self.api.not_found(issue_id),
        )
        return self._time_entry(response.json()["time_entry"])

    def update_time_entry(self, entry_id: str, *, duration: dt.timedelta, comment: str) -> TimeEntry:
        entry = _id(entry_id)
        missing = ArtifactNotFound(f"Redmine has no time entry {entry} visible to Hub's user.")
        body = {"hours": round(duration.total_seconds() / 3600, 4), "comments": comment[:1024]}
        self.api.call(
            "PUT",
            f"/time_entries/{entry}.json",
            json={"time_entry": body},
            labels={"Hours": "duration"},
            missing=missing,
        )
        return self._time_entry(self.api.get(f"/time_entries/{entry}.json", missing=missing)["time_entry"])

    # --- persons ------------------------------------------------------------------------------

    @staticmethod
    def _person(user: Mapping) -> Person:
        name = " ".join(p for p in (user.get("firstname"), user.get("lastname")) if p) or user.get("name", "")
        # status (administrators' keys only): 1 active, 2 registered but not activated, 3 locked.
        return Person(
            id=str(user["id"]),
            username=user.get("login", ""),
            email=user.get("mail", ""),
            display_name=name,
            active=int(user.get("status") or 1) == 1,
        )

    def person_search_fields(self) -> list[str]:
        return list(PERSON_FIELDS)

    def find_persons(self, field: str, value: str) -> list[Person]:
        if field not in PERSON_FIELDS:
            raise OperationUnsupported(f"Redmine persons cannot be searched by {field!r}.")
        if field == "id":
            if not is_digits(str(value)):
                return []
            try:
                return [self.read_person(value)]
            except (ArtifactNotFound, NotPermitted):
                return []
        wanted = value.strip().casefold()
        key = {"username": "login", "email": "mail"}.get(field)
        try:
            users = self.api.get(
                "/users.json", params={"name": value.strip(), "status": "", "limit": MAX_LIMIT}
            )
        except NotPermitted:
            return self._find_members(field, wanted)
        found = []
        for user in users["users"]:
            person = self._person(user)
            have = user.get(key, "") if key else person.display_name
            if (have or "").casefold() == wanted:
                found.append(person)
        if found and any("status" not in user for user in users["users"]):
            # Redmine 5.0's user list does not show the status (a single user's page does): ask
            # again for the active ones only, when there is someone to tell about.
            params = {"name": value.strip(), "status": 1, "limit": MAX_LIMIT}
            active = self.api.get("/users.json", params=params)
            ids = {str(user["id"]) for user in active["users"]}
            found = [dataclasses.replace(person, active=person.id in ids) for person in found]
        return found

    def _find_members(self, field: str, wanted: str) -> list[Person]:
        """Keys of non-administrators cannot list users; project members show id and name only."""
        if field != "display_name":
            return []
        found = {}
        for project in self.list_projects():
            for membership in self._paged(f"/projects/{project.id}/memberships.json", "memberships"):
                user = membership.get("user")
                if user and user["name"].casefold() == wanted:
                    found[user["id"]] = Person(id=str(user["id"]), display_name=user["name"])
        return list(found.values())

    def read_person(self, person_id: str) -> Person:
        if not is_digits(str(person_id)):
            raise ValuesNotAccepted("Redmine user ids are numbers", fields={"person": repr(person_id)})
        missing = ArtifactNotFound(f"Redmine has no user {person_id} visible to Hub's user.")
        return self._person(self.api.get(f"/users/{person_id}.json", missing=missing)["user"])

    # --- workflow -----------------------------------------------------------------------------

    def transitions(self, artifact_id: str) -> list[Transition]:
        """Redmine 5 lists the statuses the workflow allows this user from the current one."""
        issue = self._issue(artifact_id, "allowed_statuses")
        current = issue["status"]["id"]
        return [
            Transition(id=str(s["id"]), name=s["name"], to_status=str(s["id"]))
            for s in issue.get("allowed_statuses", [])
            if s["id"] != current
        ]

    def perform_transition(
        self,
        artifact_id: str,
        transition_id: str,
        fields: Mapping[str, Any] | None = None,
        *,
        expected_revision: str | None = None,
    ) -> Artifact:
        if str(transition_id) not in {t.id for t in self.transitions(artifact_id)}:
            raise ValuesNotAccepted(
                f"Redmine's workflow does not allow this status for issue #{artifact_id}",
                fields={"status": f"status {transition_id} is not allowed from the current one"},
            )
        return self.update_artifact(artifact_id, {**(fields or {}), "status": str(transition_id)})
