"""A fake of ServiceNow's Table API and Attachment API on the harness (``/api/now/…``).

Sources (as summarised in ``/work/shared/docs/connectors.md`` §7 and "Contract details" §5):
[SN-table] https://servicenow.github.io/sdk/guides/query-guide and the Table API reference
(``sysparm_query`` with ``ORDERBY``, ``sysparm_limit`` default 10,000, ``sysparm_offset``,
``sysparm_display_value``), [SN-link] https://gist.github.com/bryanbarnard/ee1d952604a11e0f0342
(``Link`` first/prev/next/last and ``X-Total-Count``), [SN-time] timestamps stored and answered in
UTC, ``YYYY-MM-DD HH:MM:SS``, a text literal in a query read as UTC, [SN-journal] journal entries in
``sys_journal_field`` (``comments`` public, ``work_notes`` private), [SN-attach]
https://www.servicenow.com/docs/r/zurich/api-reference/rest-apis/c_AttachmentAPI.html, [SN-rate]
inbound REST rate limits (429, ``X-RateLimit-Limit``/``-Reset`` (Unix)/``-Rule``).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field

from tests.fakes.harness import Answer, FakeServer, Request, route, send_webhook

API = "/api/now"
DEFAULT_LIMIT = 10_000  # sysparm_limit default [SN-table]
STATES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
PRIORITIES = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class User:
    sys_id: str
    user_name: str
    name: str
    email: str
    password: str = ""


@dataclass
class Record:
    sys_id: str
    number: str
    values: dict
    created: dt.datetime
    updated: dt.datetime
    created_by: str
    mod_count: int = 0
    deleted: bool = False


@dataclass
class Journal:
    sys_id: str
    element_id: str
    element: str  # comments | work_notes
    value: str
    created: dt.datetime
    created_by: str


@dataclass
class Attachment:
    sys_id: str
    table: str
    table_sys_id: str
    file_name: str
    content: bytes
    content_type: str
    created: dt.datetime


@dataclass
class Tables:
    records: dict[str, dict[str, Record]] = field(default_factory=lambda: {"incident": {}})


class ServiceNowFake(FakeServer):
    name = "servicenow"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ids = itertools.count(10001)
        self.users: dict[str, User] = {}
        self.me = self.add_user(
            "hub.integration", "Hub Integration", "hub@example.org", password="hub-password"
        )
        self.tables = Tables()
        self.journal: list[Journal] = []
        self.attachments: dict[str, Attachment] = {}
        self.hooks: list[tuple[str, str]] = []
        self.deliveries: list[tuple[int, bytes]] = []

    # --- state for tests ----------------------------------------------------------------------

    def add_user(self, user_name: str, name: str, email: str, password: str = "") -> User:
        with self.lock:
            user = User(secrets.token_hex(16), user_name, name, email, password)
            self.users[user.sys_id] = user
            return user

    def tick(self) -> dt.datetime:
        return self.now().replace(microsecond=0)  # one-second precision [SN-time]

    def new_record(self, table: str, by: User | None = None, **values) -> Record:
        with self.lock:
            now = self.tick()
            prefix = {"incident": "INC", "problem": "PRB"}.get(table, "TSK")
            record = Record(
                secrets.token_hex(16),
                f"{prefix}{next(self.ids):07d}",
                {"state": "1", "priority": "4", **values},
                now,
                now,
                (by or self.me).user_name,
            )
            self.tables.records.setdefault(table, {})[record.sys_id] = record
            return record

    def touch(self, table: str, sys_id: str, **values) -> Record:
        with self.lock:
            record = self.tables.records[table][sys_id]
            record.values.update(values)
            record.updated = self.tick()
            record.mod_count += 1
            return record

    def add_journal(self, table: str, sys_id: str, element: str, value: str, by: User) -> Journal:
        with self.lock:
            entry = Journal(secrets.token_hex(16), sys_id, element, value, self.tick(), by.user_name)
            self.journal.append(entry)
            record = self.tables.records[table][sys_id]
            record.updated, record.mod_count = self.tick(), record.mod_count + 1
            return entry

    def delete_record(self, table: str, sys_id: str) -> None:
        with self.lock:
            self.tables.records[table][sys_id].deleted = True

    # --- authentication and headers -----------------------------------------------------------

    def authenticate(self, request: Request) -> Answer | None:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                login, _, password = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                login = password = ""
            for user in self.users.values():
                if user.user_name == login and password and user.password == password:
                    request.token = user.sys_id
                    return None
        failure = {
            "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
            "status": "failure",
        }
        return Answer(401, failure)

    # --- representations ----------------------------------------------------------------------

    def _reference(self, table: str, sys_id: str | None, display: str) -> dict | str:
        if not sys_id:
            return ""
        return {"link": f"{self.url}{API}/table/{table}/{sys_id}", "value": sys_id, "display_value": display}

    def _record(self, record: Record, request: Request) -> dict:
        """``sysparm_display_value`` false (values, the default), true (display values) or all (both)
        [SN-table]; references are ``{link, value}`` unless ``sysparm_exclude_reference_link``."""
        mode = request.arg("sysparm_display_value", "false")
        assigned = self.users.get(record.values.get("assigned_to") or "")
        raw = {
            "sys_id": record.sys_id,
            "number": record.number,
            "sys_created_on": stamp(record.created),
            "sys_updated_on": stamp(record.updated),
            "sys_created_by": record.created_by,
            "sys_mod_count": str(record.mod_count),
            "short_description": record.values.get("short_description", ""),
            "description": record.values.get("description", ""),
            "state": record.values.get("state", "1"),
            "priority": record.values.get("priority", "4"),
            "correlation_id": record.values.get("correlation_id", ""),
            "close_code": record.values.get("close_code", ""),
            "close_notes": record.values.get("close_notes", ""),
            "due_date": record.values.get("due_date", ""),
            "assigned_to": assigned.sys_id if assigned else "",
        }
        display = dict(raw)
        display["state"] = STATES.get(raw["state"], raw["state"])
        display["priority"] = PRIORITIES.get(raw["priority"], raw["priority"])
        display["assigned_to"] = assigned.name if assigned else ""
        body = {}
        for name, value in raw.items():
            if name == "assigned_to" and value and request.arg("sysparm_exclude_reference_link") != "true":
                value = self._reference("sys_user", value, display[name])
                value.pop("display_value")
            if mode == "all":
                body[name] = {"display_value": display[name], "value": raw[name]}
            elif mode == "true":
                body[name] = display[name]
            else:
                body[name] = value
        fields = request.arg("sysparm_fields")
        if fields:
            body = {k: v for k, v in body.items() if k in fields.split(",")}
        return body

    # --- the encoded query --------------------------------------------------------------------

    def _query(self, query: str, rows: list, value_of) -> list:
        """``^``-joined conditions ``field=v``, ``field!=v``, ``field>=v``, ``field>v``, ``fieldINa,b``,
        ``fieldSTARTSWITHv``, and ``ORDERBYfield`` / ``ORDERBYDESCfield`` [SN-table]; a date-time
        literal is UTC [SN-time]."""
        orders = []
        for part in filter(None, query.split("^")):
            if part.startswith("ORDERBYDESC"):
                orders.append((part[11:], True))
                continue
            if part.startswith("ORDERBY"):
                orders.append((part[7:], False))
                continue
            match = re.fullmatch(r"(\w+?)(>=|<=|!=|=|>|<|IN|STARTSWITH|LIKE)(.*)", part)
            if not match:
                raise Answer(400, {"error": {"message": f"Invalid query: {part}"}, "status": "failure"})
            name, op, literal = match.groups()

            def test(row, name=name, op=op, literal=literal):
                have = str(value_of(row, name) or "")
                return {
                    "=": have == literal,
                    "!=": have != literal,
                    ">=": have >= literal,
                    ">": have > literal,
                    "<=": have <= literal,
                    "<": have < literal,
                    "IN": have in literal.split(","),
                    "STARTSWITH": have.startswith(literal),
                    "LIKE": literal.lower() in have.lower(),
                }[op]

            rows = [row for row in rows if test(row)]
        for name, descending in reversed(orders):
            rows.sort(key=lambda row, name=name: str(value_of(row, name) or ""), reverse=descending)
        return rows

    def _page(self, request: Request, rows: list, render) -> Answer:
        """``sysparm_limit`` (default 10,000) and ``sysparm_offset``; ``Link`` first/prev/next/last and
        ``X-Total-Count`` [SN-link]."""
        try:
            limit = int(request.arg("sysparm_limit") or DEFAULT_LIMIT)
            offset = int(request.arg("sysparm_offset") or 0)
        except ValueError:
            raise Answer(400, {"error": {"message": "Invalid sysparm_limit"}, "status": "failure"}) from None
        query = {k: v[-1] for k, v in request.query.items() if k != "sysparm_offset"}

        def link(at: int, rel: str) -> str:
            address = f"{self.url}{request.path}?{urllib.parse.urlencode({**query, 'sysparm_offset': at})}"
            return f'<{address}>;rel="{rel}"'

        last = max(0, (len(rows) - 1) // limit * limit)
        links = [link(0, "first")]
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        if offset + limit < len(rows):
            links.append(link(offset + limit, "next"))
        links.append(link(last, "last"))
        headers = {"Link": ",".join(links)}
        if request.arg("sysparm_no_count") != "true":
            headers["X-Total-Count"] = str(len(rows))
        return Answer(200, {"result": [render(row) for row in rows[offset : offset + limit]]}, headers)

    # --- routes: table ------------------------------------------------------------------------

    def _table(self, table: str) -> dict[str, Record]:
        if table == "sys_user":
            raise Answer(400, {"error": {"message": "use the sys_user routes"}, "status": "failure"})
        if table not in self.tables.records:
            raise Answer(
                400,
                {
                    "error": {"message": "Invalid table", "detail": f"Invalid table {table}"},
                    "status": "failure",
                },
            )
        return self.tables.records[table]

    @route("GET", API + "/table/sys_user")
    def users_list(self, request):
        users = list(self.users.values())
        rows = self._query(request.arg("sysparm_query", ""), users, lambda u, n: getattr(u, n, None))
        render = lambda u: {"sys_id": u.sys_id, "user_name": u.user_name, "name": u.name, "email": u.email}  # noqa: E731
        return self._page(request, rows, render)

    @route("GET", API + "/table/sys_user/{sys_id}")
    def get_user(self, request, sys_id):
        user = self.users.get(sys_id)
        if user is None:
            raise Answer(404, {"error": {"message": "No Record found"}, "status": "failure"})
        return Answer(
            200,
            {
                "result": {
                    "sys_id": user.sys_id,
                    "user_name": user.user_name,
                    "name": user.name,
                    "email": user.email,
                }
            },
        )

    @route("GET", API + "/table/sys_journal_field")
    def journal_list(self, request):
        """Journal entries: ``element_id``, ``element`` (comments | work_notes), ``value``,
        ``sys_created_on``, ``sys_created_by`` [SN-journal]."""
        names = {"sys_created_on": lambda j: stamp(j.created), "sys_created_by": lambda j: j.created_by}
        rows = self._query(
            request.arg("sysparm_query", ""),
            list(self.journal),
            lambda j, n: names[n](j) if n in names else getattr(j, n, None),
        )

        def render(j):
            return {
                "sys_id": j.sys_id,
                "element_id": j.element_id,
                "element": j.element,
                "value": j.value,
                "sys_created_on": stamp(j.created),
                "sys_created_by": j.created_by,
            }

        return self._page(request, rows, render)

    @route("GET", API + "/table/{table}")
    def list_records(self, request, table):
        records = [r for r in self._table(table).values() if not r.deleted]
        rows = self._query(
            request.arg("sysparm_query", ""), records, lambda r, n: self._record(r, _Raw).get(n)
        )
        return self._page(request, rows, lambda r: self._record(r, request))

    def record(self, table: str, sys_id: str) -> Record:
        found = self._table(table).get(sys_id)
        if found is None or found.deleted:
            raise Answer(
                404,
                {
                    "error": {
                        "message": "No Record found",
                        "detail": "Record doesn't exist or ACL restricts the record retrieval",
                    },
                    "status": "failure",
                },
            )
        return found

    @route("GET", API + "/table/{table}/{sys_id}")
    def get_record(self, request, table, sys_id):
        return Answer(200, {"result": self._record(self.record(table, sys_id), request)})

    def _write(self, table: str, record: Record, data: dict, request: Request) -> None:
        """Unknown fields are ignored as ServiceNow does; a resolution needs ``close_code`` and
        ``close_notes`` (the data policy of the incident table) — 403 "Data Policy Exception"."""
        if not isinstance(data, dict):
            raise Answer(400, {"error": {"message": "Invalid body"}, "status": "failure"})
        values = {**record.values, **{k: v for k, v in data.items() if k not in ("comments", "work_notes")}}
        if values.get("state") in ("6", "7") and not (values.get("close_code") and values.get("close_notes")):
            raise Answer(
                403,
                {
                    "error": {
                        "message": "Operation Failed",
                        "detail": "Data Policy Exception: \n"
                        "The following fields are mandatory: Resolution code, Resolution notes",
                    },
                    "status": "failure",
                },
            )
        if "short_description" in data and not str(data["short_description"]).strip():
            raise Answer(
                403,
                {
                    "error": {
                        "message": "Operation Failed",
                        "detail": "Data Policy Exception: \n"
                        "The following fields are mandatory: Short description",
                    },
                    "status": "failure",
                },
            )
        user = self.users[request.token]
        record.values = values
        for element in ("comments", "work_notes"):
            if data.get(element):
                self.journal.append(
                    Journal(
                        secrets.token_hex(16),
                        record.sys_id,
                        element,
                        data[element],
                        self.tick(),
                        user.user_name,
                    )
                )

    @route("POST", API + "/table/{table}")
    def create(self, request, table):
        self._table(table)
        record = self.new_record(table, self.users[request.token])
        try:
            self._write(table, record, request.json(), request)
        except Answer:
            del self.tables.records[table][record.sys_id]
            raise
        self._fire(table, record)
        return Answer(201, {"result": self._record(record, request)})

    @route("PATCH", API + "/table/{table}/{sys_id}")
    def update(self, request, table, sys_id):
        record = self.record(table, sys_id)
        self._write(table, record, request.json(), request)
        record.updated, record.mod_count = self.tick(), record.mod_count + 1
        self._fire(table, record)
        return Answer(200, {"result": self._record(record, request)})

    @route("PUT", API + "/table/{table}/{sys_id}")
    def replace(self, request, table, sys_id):
        return self.update(request, table, sys_id)

    @route("DELETE", API + "/table/{table}/{sys_id}")
    def delete(self, request, table, sys_id):
        self.record(table, sys_id).deleted = True
        return Answer(204)

    # --- routes: attachments ------------------------------------------------------------------

    def _attachment(self, attachment: Attachment) -> dict:
        return {
            "sys_id": attachment.sys_id,
            "file_name": attachment.file_name,
            "size_bytes": str(len(attachment.content)),
            "content_type": attachment.content_type,
            "table_name": attachment.table,
            "table_sys_id": attachment.table_sys_id,
            "sys_created_on": stamp(attachment.created),
            "download_link": f"{self.url}{API}/attachment/{attachment.sys_id}/file",
        }

    @route("POST", API + "/attachment/file")
    def upload(self, request):
        """Raw bytes with a ``Content-Type``; ``table_name``, ``table_sys_id``, ``file_name`` [SN-attach]."""
        table, sys_id, name = request.arg("table_name"), request.arg("table_sys_id"), request.arg("file_name")
        if not (table and sys_id and name):
            raise Answer(400, {"error": {"message": "Missing parameter"}, "status": "failure"})
        record = self.record(table, sys_id)
        attachment = Attachment(
            secrets.token_hex(16),
            table,
            sys_id,
            name,
            request.body,
            request.headers.get("Content-Type") or "application/octet-stream",
            self.tick(),
        )
        self.attachments[attachment.sys_id] = attachment
        record.updated, record.mod_count = self.tick(), record.mod_count + 1
        return Answer(201, {"result": self._attachment(attachment)})

    @route("GET", API + "/attachment")
    def attachments_list(self, request):
        attachments = list(self.attachments.values())
        rows = self._query(
            request.arg("sysparm_query", ""), attachments, lambda a, n: self._attachment(a).get(n)
        )
        return self._page(request, rows, self._attachment)

    @route("GET", API + "/attachment/{sys_id}/file")
    def download(self, request, sys_id):
        attachment = self.attachments.get(sys_id)
        if attachment is None:
            raise Answer(404, {"error": {"message": "No Record found"}, "status": "failure"})
        return Answer(200, attachment.content, {"Content-Type": attachment.content_type})

    # --- webhooks (an outbound REST message of a business rule) -------------------------------

    def payload(self, table: str, record: Record) -> bytes:
        import json

        return json.dumps(
            {
                "table": table,
                "sys_id": record.sys_id,
                "number": record.number,
                "sys_updated_on": stamp(record.updated),
            }
        ).encode()

    def _fire(self, table: str, record: Record) -> None:
        for url, secret in list(self.hooks):
            body = self.payload(table, record)
            threading.Thread(target=self._send, args=(url, body, secret), daemon=True).start()

    def _send(self, url: str, body: bytes, secret: str) -> None:
        answer = send_webhook(url, body, webhook_headers(secret))
        with self.lock:
            self.deliveries.append(answer)


def webhook_headers(secret: str) -> dict[str, str]:
    """The REST message authenticates with Basic credentials (user ``hub``, the secret)."""
    token = base64.b64encode(f"hub:{secret}".encode()).decode()
    return {"Content-Type": "application/json", "Authorization": f"Basic {token}"}


class _Raw:
    """A request with no parameters: the raw values a query compares."""

    @staticmethod
    def arg(name, default=None):
        return {"sysparm_exclude_reference_link": "true"}.get(name, default)
