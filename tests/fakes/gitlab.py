"""A fake of GitLab's REST API v4 (projects, issues, notes, uploads, labels, milestones, users) on
the harness, under ``/api/v4``.

Sources: [GL-issues] https://docs.gitlab.com/api/issues/, [GL-notes] https://docs.gitlab.com/api/notes/,
[GL-uploads] https://docs.gitlab.com/api/project_markdown_uploads/, [GL-rest]
https://docs.gitlab.com/api/rest/ (pagination, status codes), [GL-keyset] MR !199887 (keyset paging
on project issues), [GL-rate] https://docs.gitlab.com/user/gitlab_com/#gitlabcom-specific-rate-limits
and the headers listed in ``/work/shared/docs/connectors.md`` §5 and "Contract details" §3, and
[GL-hooks] https://docs.gitlab.com/user/project/integrations/webhook_events/.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import itertools
import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field

from hub.ids import is_digits
from tests.fakes.harness import Answer, FakeServer, Request, route, send_webhook

API = "/api/v4"
OFFSET_TOTALS_CAP = 10_000  # above this X-Total, X-Total-Pages and rel="last" are left out [GL-rest]
KEYSET_ORDERS = ("id", "title", "created_at", "updated_at", "due_date", "relative_position", "weight")


def stamp(when: dt.datetime) -> str:
    """ISO 8601 with milliseconds and ``Z`` (``2016-01-04T15:31:51.081Z``) [GL-issues]."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_stamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass
class User:
    id: int
    username: str
    name: str
    email: str = ""


@dataclass
class Note:
    id: int
    body: str
    author: User
    created: dt.datetime
    updated: dt.datetime
    internal: bool = False
    system: bool = False


@dataclass
class Issue:
    id: int
    iid: int
    title: str
    description: str
    author: User
    created: dt.datetime
    updated: dt.datetime
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    milestone: int | None = None
    weight: int | None = None
    due_date: str | None = None  # a calendar day, "YYYY-MM-DD" [GL-issues]
    confidential: bool = False
    closed: dt.datetime | None = None
    notes: list[Note] = field(default_factory=list)
    deleted: bool = False


@dataclass
class Project:
    id: int
    path: str  # path_with_namespace
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: list[str] = field(default_factory=lambda: ["bug", "feature", "priority::high"])
    milestones: dict[int, str] = field(default_factory=lambda: {71: "16.0", 72: "16.1"})
    members: list[str] = field(default_factory=list)
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # secret → (filename, bytes)


class GitLabFake(FakeServer):
    name = "gitlab"

    def __init__(self, *, token: str = "glpat-hub-token", keyset: bool = True, **kwargs):  # noqa: S107
        super().__init__(**kwargs)
        self.token = token
        self.tokens = {token}
        self.keyset = keyset  # False: an older instance that ignores pagination=keyset [GL-keyset]
        self.ids = itertools.count(500)
        self.users: dict[str, User] = {}
        self.projects: dict[int, Project] = {}
        self.me = self.add_user("hub-bot", "Hub Bot", "hub@example.org")
        self.token_users = {token: self.me}
        self.hooks: list[tuple[str, str]] = []  # (url, secret token)
        self.deliveries: list[tuple[int, bytes]] = []

    # --- state for tests ----------------------------------------------------------------------

    def add_user(self, username: str, name: str = "", email: str = "") -> User:
        with self.lock:
            user = User(next(self.ids), username, name or username, email)
            self.users[username] = user
            return user

    def add_project(self, path: str) -> Project:
        with self.lock:
            project = Project(next(self.ids), path, members=list(self.users))
            self.projects[project.id] = project
            return project

    def tick(self) -> dt.datetime:
        now = self.now()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)  # millisecond precision

    def new_issue(
        self, project: Project, title: str, description: str = "", author: User | None = None, **attrs
    ):
        with self.lock:
            now = self.tick()
            iid = max(project.issues, default=0) + 1
            issue = Issue(next(self.ids), iid, title, description, author or self.me, now, now, **attrs)
            project.issues[iid] = issue
            return issue

    def touch(self, project: Project, iid: int, **attrs) -> Issue:
        with self.lock:
            issue = project.issues[iid]
            for name, value in attrs.items():
                setattr(issue, name, value)
            issue.updated = self.tick()
            return issue

    def note_as(self, project: Project, iid: int, body: str, author: User, internal: bool = False) -> Note:
        with self.lock:
            issue = project.issues[iid]
            now = self.tick()
            note = Note(next(self.ids), body, author, now, now, internal=internal)
            issue.notes.append(note)
            issue.updated = now  # a note moves the issue's updated_at [GL-notes]
            return note

    def delete_issue(self, project: Project, iid: int) -> None:
        with self.lock:
            project.issues[iid].deleted = True

    # --- authentication and headers -----------------------------------------------------------

    def authenticate(self, request: Request) -> Answer | None:
        # PRIVATE-TOKEN, or an OAuth / personal token as Bearer [GL-rest, authentication]
        token = request.headers.get("PRIVATE-TOKEN") or ""
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        if not token and scheme.lower() == "bearer":
            token = bearer
        if token not in self.tokens:
            return Answer(401, {"message": "401 Unauthorized"})
        request.token = token
        return None

    def decorate(self, request: Request, answer: Answer) -> None:
        if request.token and answer.status != 429:
            # RateLimit-* on authenticated answers; RateLimit-Reset is a Unix time [GL-rate]
            reset = int(self.now().timestamp()) + 60
            answer.headers.setdefault("RateLimit-Limit", "2000")
            answer.headers.setdefault("RateLimit-Observed", "1")
            answer.headers.setdefault("RateLimit-Remaining", "1999")
            answer.headers.setdefault("RateLimit-Reset", str(reset))

    # --- representations ----------------------------------------------------------------------

    def _user(self, user: User | None) -> dict | None:
        if user is None:
            return None
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "state": "active",
            "avatar_url": None,
            "web_url": f"{self.url}/{user.username}",
        }

    def _project(self, project: Project) -> dict:
        namespace, _, name = project.path.rpartition("/")
        return {
            "id": project.id,
            "name": name,
            "path": name,
            "path_with_namespace": project.path,
            "name_with_namespace": project.path.replace("/", " / "),
            "namespace": {"full_path": namespace},
            "web_url": f"{self.url}/{project.path}",
            "issues_enabled": True,
            "default_branch": "main",
        }

    def _milestone(self, project: Project, milestone: int | None) -> dict | None:
        if milestone is None:
            return None
        return {
            "id": milestone,
            "iid": milestone - 70,
            "project_id": project.id,
            "title": project.milestones[milestone],
            "state": "active",
        }

    def _issue(self, project: Project, issue: Issue) -> dict:
        return {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": project.id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "created_at": stamp(issue.created),
            "updated_at": stamp(issue.updated),
            "closed_at": stamp(issue.closed) if issue.closed else None,
            "labels": list(issue.labels),
            "milestone": self._milestone(project, issue.milestone),
            "assignees": [self._user(u) for u in issue.assignees],
            "assignee": self._user(issue.assignees[0]) if issue.assignees else None,
            "author": self._user(issue.author),
            "type": "ISSUE",
            "issue_type": "issue",
            "user_notes_count": len([n for n in issue.notes if not n.system]),
            "weight": issue.weight,
            "due_date": issue.due_date,
            "confidential": issue.confidential,
            "web_url": f"{self.url}/{project.path}/-/issues/{issue.iid}",
            "references": {"short": f"#{issue.iid}", "full": f"{project.path}#{issue.iid}"},
        }

    def _note(self, note: Note) -> dict:
        return {
            "id": note.id,
            "type": None,
            "body": note.body,
            "author": self._user(note.author),
            "created_at": stamp(note.created),
            "updated_at": stamp(note.updated),
            "system": note.system,
            "noteable_type": "Issue",
            "internal": note.internal,  # GitLab 15.0+; older "confidential" [GL-notes]
            "confidential": note.internal,
        }

    # --- paging -------------------------------------------------------------------------------

    def _offset(self, request: Request, rows: list) -> Answer:
        """``page``/``per_page`` (default 20, at most 100), ``Link`` and the ``X-*`` headers; totals
        and ``rel="last"`` are left out above 10,000 rows [GL-rest]."""
        try:
            per_page = min(100, max(1, int(request.arg("per_page") or 20)))
            page = max(1, int(request.arg("page") or 1))
        except ValueError:
            raise Answer(400, {"error": "page is invalid"}) from None
        last = max(1, -(-len(rows) // per_page))
        query = {k: v[-1] for k, v in request.query.items() if k not in ("page", "cursor")}

        def link(number: int) -> str:
            return f"{self.url}{request.path}?{urllib.parse.urlencode({**query, 'page': number})}"

        headers = {"X-Page": str(page), "X-Per-Page": str(per_page)}
        links = []
        if page < last:
            headers["X-Next-Page"] = str(page + 1)
            links.append(f'<{link(page + 1)}>; rel="next"')
        links.append(f'<{link(1)}>; rel="first"')
        if page > 1:
            headers["X-Prev-Page"] = str(page - 1)
            links.append(f'<{link(page - 1)}>; rel="prev"')
        if len(rows) <= OFFSET_TOTALS_CAP:
            headers.update({"X-Total": str(len(rows)), "X-Total-Pages": str(last)})
            links.append(f'<{link(last)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return Answer(200, rows[(page - 1) * per_page : page * per_page], headers)

    # --- routes: user, version, users, projects -----------------------------------------------

    @route("GET", API + "/user")
    def get_me(self, request):
        user = self.token_users.get(request.token, self.me)
        return Answer(200, {**self._user(user), "email": user.email, "is_admin": False})

    @route("GET", API + "/version")
    def version(self, request):
        return Answer(200, {"version": "17.5.0-ee", "revision": "fake"})

    @route("GET", API + "/users")
    def users_list(self, request):
        username = request.arg("username")
        rows = [u for u in self.users.values() if not username or u.username.lower() == username.lower()]
        return self._offset(request, [self._user(u) for u in rows])

    @route("GET", API + "/users/{user_id}")
    def get_user(self, request, user_id):
        user = next((u for u in self.users.values() if str(u.id) == user_id), None)
        if user is None:
            raise Answer(404, {"message": "404 User Not Found"})
        return Answer(200, self._user(user))

    @route("GET", API + "/projects")
    def projects_list(self, request):
        return self._offset(request, [self._project(p) for p in self.projects.values()])

    def project(self, project_id: str) -> Project:
        """By id or by URL-encoded path (``group%2Fname``) [GL-rest]."""
        for project in self.projects.values():
            if str(project.id) == project_id or project.path == project_id:
                return project
        raise Answer(404, {"message": "404 Project Not Found"})

    @route("GET", API + "/projects/{project_id}")
    def get_project(self, request, project_id):
        return Answer(200, self._project(self.project(project_id)))

    @route("GET", API + "/projects/{project_id}/labels")
    def labels(self, request, project_id):
        project = self.project(project_id)
        rows = [{"id": n, "name": name, "color": "#428BCA"} for n, name in enumerate(project.labels, 1)]
        return self._offset(request, rows)

    @route("GET", API + "/projects/{project_id}/milestones")
    def milestones(self, request, project_id):
        project = self.project(project_id)
        return self._offset(request, [self._milestone(project, m) for m in sorted(project.milestones)])

    @route("GET", API + "/projects/{project_id}/members/all")
    def members(self, request, project_id):
        project = self.project(project_id)
        return self._offset(request, [self._user(self.users[name]) for name in project.members])

    # --- routes: issues -----------------------------------------------------------------------

    def issue(self, project: Project, iid: str) -> Issue:
        found = project.issues.get(int(iid)) if is_digits(iid) else None
        if found is None or found.deleted:  # a deleted issue answers 404 [GL-issues]
            raise Answer(404, {"message": "404 Issue Not Found"})
        return found

    @route("GET", API + "/projects/{project_id}/issues")
    def list_issues(self, request, project_id):
        """``state`` opened | closed (all when absent), ``updated_after`` (on or after),
        ``order_by`` created_at (default) | updated_at | …, ``sort`` desc (default) | asc, ``search``
        in title and description; offset paging, or keyset with ``pagination=keyset`` [GL-issues,
        GL-keyset]."""
        project = self.project(project_id)
        rows = [i for i in project.issues.values() if not i.deleted]
        state = request.arg("state")
        if state in ("opened", "closed"):
            rows = [i for i in rows if i.state == state]
        for name, test in (
            ("updated_after", lambda i, t: i.updated >= t),
            ("updated_before", lambda i, t: i.updated <= t),
        ):
            value = request.arg(name)
            if value:
                try:
                    moment = parse_stamp(value)
                except ValueError:
                    raise Answer(400, {"error": f"{name} is invalid"}) from None
                rows = [i for i in rows if test(i, moment)]
        search = (request.arg("search") or "").lower()
        if search:
            rows = [i for i in rows if search in f"{i.title}\n{i.description}".lower()]
        order = request.arg("order_by", "created_at")
        keys = {
            "created_at": "created",
            "updated_at": "updated",
            "id": "id",
            "title": "title",
            "weight": "weight",
        }
        if order not in keys:
            raise Answer(400, {"error": "order_by does not have a valid value"})
        descending = request.arg("sort", "desc") == "desc"
        rows.sort(key=lambda i: (getattr(i, keys[order]) or 0, i.id), reverse=descending)
        if request.arg("pagination") == "keyset" and self.keyset and order in KEYSET_ORDERS:
            return self._keyset(request, project, rows, keys[order], descending)
        return self._offset(request, [self._issue(project, i) for i in rows])

    def _keyset(
        self, request: Request, project: Project, rows: list[Issue], attribute: str, descending: bool
    ):
        """The ``cursor`` names the last row's (order value, id); the next page starts after it, so
        rows changed meanwhile move instead of shifting the others; no ``next`` at the end [GL-keyset]."""
        per_page = min(100, max(1, int(request.arg("per_page") or 20)))
        cursor = request.arg("cursor")
        if cursor:
            try:
                value, after_id = json.loads(urllib.parse.unquote(cursor))
            except ValueError:
                raise Answer(400, {"error": "cursor is invalid"}) from None

            def position(i):
                mine = getattr(i, attribute)
                mine = stamp(mine) if isinstance(mine, dt.datetime) else mine
                return (mine, i.id)

            mark = (value, after_id)
            rows = [i for i in rows if (position(i) < mark if descending else position(i) > mark)]
        page = rows[:per_page]
        headers = {"X-Per-Page": str(per_page)}
        if len(rows) > per_page:
            last = getattr(page[-1], attribute)
            last = stamp(last) if isinstance(last, dt.datetime) else last
            query = {k: v[-1] for k, v in request.query.items() if k not in ("cursor", "page")}
            query["cursor"] = json.dumps([last, page[-1].id])
            headers["Link"] = f'<{self.url}{request.path}?{urllib.parse.urlencode(query)}>; rel="next"'
        return Answer(200, [self._issue(project, i) for i in page], headers)

    @route("GET", API + "/projects/{project_id}/issues/{iid}")
    def get_issue(self, request, project_id, iid):
        project = self.project(project_id)
        return Answer(200, self._issue(project, self.issue(project, iid)))

    def _params(self, request: Request) -> dict:
        """JSON or form parameters (python-gitlab sends JSON; curl examples use form)."""
        if "json" in (request.headers.get("Content-Type") or ""):
            data = request.json()
            if not isinstance(data, dict):
                raise Answer(400, {"error": "Bad Request"})
            return data
        return {
            k: v[-1] for k, v in urllib.parse.parse_qs(request.body.decode(), keep_blank_values=True).items()
        }

    def _apply(self, project: Project, issue: Issue, data: dict) -> None:
        """400 with ``{"message": {field: [reasons]}}`` for invalid values [GL-rest]."""
        errors = {}
        if "title" in data and not str(data["title"] or "").strip():
            errors["title"] = ["can't be blank"]
        if (
            data.get("milestone_id") not in (None, "", 0)
            and int(data["milestone_id"]) not in project.milestones
        ):
            errors["milestone"] = ["is invalid"]
        ids = data.get("assignee_ids")
        if isinstance(ids, str):
            ids = [int(v) for v in ids.split(",") if v]
        if ids:
            known = {u.id: u for u in self.users.values()}
            if any(int(i) not in known for i in ids):
                errors["assignee_ids"] = ["is invalid"]
        if errors:
            raise Answer(400, {"message": errors})
        for name in ("title", "description"):
            if name in data:
                setattr(issue, name, data[name] or "")
        if "labels" in data:
            labels = data["labels"]
            issue.labels = [v for v in (labels.split(",") if isinstance(labels, str) else labels or []) if v]
            for label in issue.labels:
                if label not in project.labels:
                    project.labels.append(label)
        if ids is not None:
            known = {u.id: u for u in self.users.values()}
            issue.assignees = [known[int(i)] for i in ids]
        if "milestone_id" in data:
            issue.milestone = int(data["milestone_id"]) if data["milestone_id"] else None
        if "weight" in data:
            issue.weight = None if data["weight"] in (None, "") else int(data["weight"])
        if "due_date" in data:
            issue.due_date = data["due_date"] or None
        if "confidential" in data:
            issue.confidential = data["confidential"] in (True, "true")
        event = data.get("state_event")
        if event == "close" and issue.state != "closed":
            issue.state, issue.closed = "closed", self.tick()
        elif event == "reopen" and issue.state != "opened":
            issue.state, issue.closed = "opened", None

    @route("POST", API + "/projects/{project_id}/issues")
    def create_issue(self, request, project_id):
        project = self.project(project_id)
        data = self._params(request)
        if not str(data.get("title") or "").strip():
            raise Answer(400, {"error": "title is missing"})
        issue = self.new_issue(
            project, data["title"], data.get("description") or "", self.token_users.get(request.token)
        )
        try:
            self._apply(project, issue, data)
        except Answer:
            del project.issues[issue.iid]
            raise
        self._fire("Issue Hook", project, issue)
        return Answer(201, self._issue(project, issue))

    @route("PUT", API + "/projects/{project_id}/issues/{iid}")
    def update_issue(self, request, project_id, iid):
        project = self.project(project_id)
        issue = self.issue(project, iid)
        self._apply(project, issue, self._params(request))
        issue.updated = self.tick()
        self._fire("Issue Hook", project, issue)
        return Answer(200, self._issue(project, issue))

    @route("DELETE", API + "/projects/{project_id}/issues/{iid}")
    def delete(self, request, project_id, iid):
        project = self.project(project_id)
        self.issue(project, iid).deleted = True
        return Answer(204)

    # --- routes: notes ------------------------------------------------------------------------

    @route("GET", API + "/projects/{project_id}/issues/{iid}/notes")
    def list_notes(self, request, project_id, iid):
        """System notes included; ``sort`` desc by default, ``order_by`` created_at | updated_at
        [GL-notes]."""
        project = self.project(project_id)
        notes = list(self.issue(project, iid).notes)
        key = "updated" if request.arg("order_by") == "updated_at" else "created"
        notes.sort(key=lambda n: (getattr(n, key), n.id), reverse=request.arg("sort", "desc") == "desc")
        return self._offset(request, [self._note(n) for n in notes])

    @route("POST", API + "/projects/{project_id}/issues/{iid}/notes")
    def add_note(self, request, project_id, iid):
        project = self.project(project_id)
        issue = self.issue(project, iid)
        data = self._params(request)
        if not str(data.get("body") or "").strip():
            raise Answer(400, {"message": {"note": ["can't be blank"]}})
        internal = data.get("internal", data.get("confidential")) in (True, "true")
        note = self.note_as(
            project, issue.iid, data["body"], self.token_users.get(request.token, self.me), internal
        )
        self._fire("Note Hook", project, issue, note)
        return Answer(201, self._note(note))

    @route("PUT", API + "/projects/{project_id}/issues/{iid}/notes/{note_id}")
    def edit_note(self, request, project_id, iid, note_id):
        project = self.project(project_id)
        issue = self.issue(project, iid)
        note = next((n for n in issue.notes if str(n.id) == note_id), None)
        if note is None:
            raise Answer(404, {"message": "404 Note Not Found"})
        note.body = self._params(request).get("body", note.body)
        note.updated = self.tick()
        return Answer(200, self._note(note))

    # --- routes: uploads ----------------------------------------------------------------------

    @route("POST", API + "/projects/{project_id}/uploads")
    def upload(self, request, project_id):
        """Multipart ``file`` → ``{id, alt, url: "/uploads/<secret>/<name>", full_path, markdown}``
        [GL-uploads]."""
        project = self.project(project_id)
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: "
            + (request.headers.get("Content-Type") or "").encode()
            + b"\r\n\r\n"
            + request.body
        )
        part = next(
            (p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"),
            None,
        )
        if part is None:
            raise Answer(400, {"error": "file is missing"})
        filename = part.get_filename() or "file"
        secret = secrets.token_hex(16)
        project.uploads[secret] = (filename, part.get_payload(decode=True) or b"")
        url = f"/uploads/{secret}/{filename}"
        return Answer(
            201,
            {
                "id": next(self.ids),
                "alt": filename,
                "url": url,
                "full_path": f"/-/project/{project.id}{url}",
                "markdown": f"[{filename}]({url})",
            },
        )

    @route("GET", API + "/projects/{project_id}/uploads/{secret}/{filename}")
    def download(self, request, project_id, secret, filename):
        """Download by secret and file name (GitLab 17.4+) [GL-uploads]."""
        project = self.project(project_id)
        stored = project.uploads.get(secret)
        if stored is None or stored[0] != filename:
            raise Answer(404, {"message": "404 Not found"})
        return Answer(200, stored[1], {"Content-Type": "application/octet-stream"})

    # --- webhooks -----------------------------------------------------------------------------

    def payload(self, event: str, project: Project, issue: Issue, note: Note | None = None) -> bytes:
        """Issue and note events: ``object_kind``, ``project``, ``object_attributes`` (and ``issue``
        for a note) [GL-hooks]."""
        body = {
            "object_kind": "note" if note else "issue",
            "event_type": "note" if note else "issue",
            "user": self._user(self.me),
            "project": {**self._project(project)},
        }
        if note is None:
            body["object_attributes"] = {**self._issue(project, issue), "action": "update"}
        else:
            body["object_attributes"] = {**self._note(note), "noteable_type": "Issue"}
            body["issue"] = self._issue(project, issue)
        return json.dumps(body).encode()

    def _fire(self, event: str, project: Project, issue: Issue, note: Note | None = None) -> None:
        for url, secret in list(self.hooks):
            body = self.payload(event, project, issue, note)
            threading.Thread(target=self._send, args=(url, body, event, secret), daemon=True).start()

    def _send(self, url: str, body: bytes, event: str, secret: str) -> None:
        answer = send_webhook(url, body, webhook_headers(event, secret))
        with self.lock:
            self.deliveries.append(answer)


def webhook_headers(event: str, secret: str) -> dict[str, str]:
    """``X-Gitlab-Event``, and the secret token as is in ``X-Gitlab-Token`` (not a signature)
    [GL-hooks]."""
    return {"Content-Type": "application/json", "X-Gitlab-Event": event, "X-Gitlab-Token": secret}
