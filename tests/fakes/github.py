"""A fake of GitHub's REST API (issues, comments, labels, milestones, users, search) on the harness.

Each rule cites where it comes from. [GH-issues] is https://docs.github.com/rest/issues/issues,
[GH-comments] https://docs.github.com/enterprise-server@3.14/rest/issues/comments, [GH-rate]
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api, [GH-cond]
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate,
[GH-errors] https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api and
[GH-pagination] https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field

from hub.ids import is_digits
from tests.fakes.harness import Answer, FakeServer, Request, link_header, route, send_webhook

CONTENT_PER_MINUTE = 80  # content-creating requests per minute [GH-rate, secondary limits]
CONTENT_PER_HOUR = 500  # and per hour [GH-rate]
PRIMARY_PER_HOUR = 5000  # with a token [GH-rate]


def stamp(when: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: GitHub's timestamps have one-second precision [GH-issues]."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class User:
    id: int
    login: str
    name: str = ""
    email: str | None = None  # public e-mail only, often null


@dataclass
class Comment:
    id: int
    number: int
    body: str
    user: User
    created: dt.datetime
    updated: dt.datetime


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: User
    created: dt.datetime
    updated: dt.datetime
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    milestone: int | None = None
    closed: dt.datetime | None = None
    pull_request: bool = False
    deleted: bool = False
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: list[str] = field(default_factory=lambda: ["bug", "enhancement", "priority: high"])
    milestones: dict[int, str] = field(default_factory=lambda: {1: "v1.0", 2: "v2.0"})
    collaborators: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class GitHubFake(FakeServer):
    name = "github"

    def __init__(self, *, token: str = "ghp-hub-token", **kwargs):  # noqa: S107 - a fake's token
        super().__init__(**kwargs)
        self.token = token
        self.tokens = {token}
        self.ids = itertools.count(1000)
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.me = self.add_user("hub-bot", "Hub Bot")
        self.token_users = {token: self.me}
        self.used: dict[str, int] = {}  # primary-limit requests per token
        self.content: dict[str, list[float]] = {}  # content-creating request times per token
        self.hooks: list[tuple[str, str]] = []  # (url, secret) that receive issues events
        self.deliveries: list[tuple[int, bytes]] = []  # what the receivers answered

    # --- state for tests ----------------------------------------------------------------------

    def add_user(self, login: str, name: str = "", email: str | None = None, token: str = "") -> User:
        with self.lock:
            user = User(next(self.ids), login, name, email)
            self.users[login] = user
            if token:
                self.tokens.add(token)
                self.token_users[token] = user
            return user

    def add_repo(self, full_name: str) -> Repo:
        owner, name = full_name.split("/")
        with self.lock:
            repo = Repo(next(self.ids), owner, name, collaborators=list(self.users))
            self.repos[full_name] = repo
            return repo

    def tick(self) -> dt.datetime:
        return self.now().replace(microsecond=0)

    def new_issue(
        self, repo: Repo, title: str, body: str | None = "", user: User | None = None, **attrs
    ) -> Issue:
        with self.lock:
            now = self.tick()
            number = max(repo.issues, default=0) + 1
            issue = Issue(next(self.ids), number, title, body, user or self.me, now, now, **attrs)
            repo.issues[number] = issue
            return issue

    def touch(self, repo: Repo, number: int, **attrs) -> Issue:
        """Someone else changes the issue (any attribute of ``Issue``)."""
        with self.lock:
            issue = repo.issues[number]
            for name, value in attrs.items():
                setattr(issue, name, value)
            issue.updated = self.tick()
            return issue

    def comment_as(self, repo: Repo, number: int, body: str, user: User) -> Comment:
        with self.lock:
            issue = repo.issues[number]
            now = self.tick()
            comment = Comment(next(self.ids), number, body, user, now, now)
            issue.comments.append(comment)
            issue.updated = now  # a new comment moves the issue's updated_at [GH-issues]
            return comment

    def delete_issue(self, repo: Repo, number: int) -> None:
        with self.lock:
            repo.issues[number].deleted = True

    # --- authentication and limits ------------------------------------------------------------

    def authenticate(self, request: Request) -> Answer | None:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        # "Authorization: Bearer" or "token" [GH-auth: docs.github.com/rest/authentication]
        if scheme.lower() not in ("bearer", "token") or credential not in self.tokens:
            return Answer(
                401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            )
        request.token = credential
        etag = request.headers.get("If-None-Match")
        if request.method == "GET" and etag:
            answer = self._answer_get(request)
            if answer.headers.get("ETag") == etag:
                # 304 does not count against the primary limit when authorised [GH-cond]
                return Answer(304, None, {"ETag": etag, **self._limit_headers(request.token)})
            self._count(request)
            return answer
        if request.method in ("POST",) and self._creates_content(request):
            refused = self._secondary_limit(request.token)
            if refused:
                return refused
        return self._count(request)

    def _count(self, request: Request) -> Answer | None:
        with self.lock:
            used = self.used.get(request.token, 0) + 1
            self.used[request.token] = used
        if used > PRIMARY_PER_HOUR:
            # 403 or 429 with x-ratelimit-remaining: 0 [GH-rate]
            return Answer(403, {"message": "API rate limit exceeded"}, self._limit_headers(request.token))
        return None

    def _limit_headers(self, token: str) -> dict[str, str]:
        used = self.used.get(token, 0)
        reset = int(self.now().timestamp()) + 3600
        # x-ratelimit-* on every answer; reset is UTC epoch seconds [GH-rate]
        return {
            "x-ratelimit-limit": str(PRIMARY_PER_HOUR),
            "x-ratelimit-remaining": str(max(0, PRIMARY_PER_HOUR - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }

    @staticmethod
    def _creates_content(request: Request) -> bool:
        return bool(re.search(r"/issues(/\d+/comments)?$", request.path))

    def _secondary_limit(self, token: str) -> Answer | None:
        """At most 80 content-creating requests a minute and 500 an hour [GH-rate]; beyond, 403 with
        a message (and sometimes ``retry-after``) [GH-rate]."""
        now = self.now().timestamp()
        with self.lock:
            times = [t for t in self.content.get(token, []) if now - t < 3600]
            last_minute = [t for t in times if now - t < 60]
            if len(last_minute) >= CONTENT_PER_MINUTE or len(times) >= CONTENT_PER_HOUR:
                wait = int(60 - (now - last_minute[0])) + 1 if last_minute else 60
                return Answer(
                    403,
                    {
                        "message": "You have exceeded a secondary rate limit. "
                        "Please wait a few minutes before you try again."
                    },
                    {"retry-after": str(wait)},
                )
            times.append(now)
            self.content[token] = times
        return None

    def decorate(self, request: Request, answer: Answer) -> None:
        if request.token:
            for name, value in self._limit_headers(request.token).items():
                answer.headers.setdefault(name, value)

    def _answer_get(self, request: Request) -> Answer:
        """The answer to a GET, for the ETag comparison of a conditional request."""
        for method, pattern, function in self._routes:
            match = pattern.match(request.path)
            if match and method == "GET":
                try:
                    with self.lock:
                        return function(
                            request, **{k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                        )
                except Answer as raised:
                    return raised
        return Answer(404, {"message": "Not Found"})

    # --- representations ----------------------------------------------------------------------

    def _user(self, user: User | None) -> dict | None:
        if user is None:
            return None
        return {
            "login": user.login,
            "id": user.id,
            "node_id": f"U_{user.id}",
            "type": "User",
            "site_admin": False,
            "url": f"{self.url}/users/{user.login}",
            "html_url": f"{self.url}/{user.login}",
            "avatar_url": "",
        }

    def _full_user(self, user: User) -> dict:
        return {**self._user(user), "name": user.name or None, "email": user.email}

    def _label(self, repo: Repo, name: str) -> dict:
        label_id = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)  # noqa: S324 - an id, not security
        return {
            "id": label_id,
            "node_id": f"LA_{label_id}",
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
            "url": f"{self.url}/repos/{repo.full_name}/labels/{name}",
        }

    def _milestone(self, repo: Repo, number: int | None) -> dict | None:
        if number is None:
            return None
        return {
            "id": 5000 + number,
            "number": number,
            "title": repo.milestones[number],
            "state": "open",
            "url": f"{self.url}/repos/{repo.full_name}/milestones/{number}",
        }

    def _repo(self, repo: Repo) -> dict:
        base = f"{self.url}/repos/{repo.full_name}"
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": True,
            "owner": self._user(self.users.get(repo.owner) or self.me),
            "url": base,
            "html_url": f"{self.url}/{repo.full_name}",
            "issues_url": base + "/issues{/number}",
            "has_issues": True,
            "permissions": {"admin": True, "push": True, "pull": True},
        }

    def _issue(self, repo: Repo, issue: Issue) -> dict:
        base = f"{self.url}/repos/{repo.full_name}/issues/{issue.number}"
        body = {
            "id": issue.id,
            "node_id": f"I_{issue.id}",
            "url": base,
            "repository_url": f"{self.url}/repos/{repo.full_name}",
            "labels_url": base + "/labels{/name}",
            "comments_url": base + "/comments",
            "events_url": base + "/events",
            "html_url": f"{self.url}/{repo.full_name}/issues/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self._user(issue.user),
            "labels": [self._label(repo, name) for name in issue.labels],
            "assignee": self._user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self._user(u) for u in issue.assignees],
            "milestone": self._milestone(repo, issue.milestone),
            "locked": False,
            "comments": len(issue.comments),
            "created_at": stamp(issue.created),
            "updated_at": stamp(issue.updated),
            "closed_at": stamp(issue.closed) if issue.closed else None,
            "author_association": "OWNER",
        }
        if issue.pull_request:  # pull requests are issues too, with this key [GH-issues]
            body["pull_request"] = {"url": f"{self.url}/repos/{repo.full_name}/pulls/{issue.number}"}
        return body

    def _comment(self, repo: Repo, comment: Comment) -> dict:
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": f"{self.url}/repos/{repo.full_name}/issues/comments/{comment.id}",
            "html_url": f"{self.url}/{repo.full_name}/issues/{comment.number}#issuecomment-{comment.id}",
            "issue_url": f"{self.url}/repos/{repo.full_name}/issues/{comment.number}",
            "body": comment.body,
            "user": self._user(comment.user),
            "created_at": stamp(comment.created),
            "updated_at": stamp(comment.updated),
            "author_association": "OWNER",
        }

    # --- paging and conditional answers -------------------------------------------------------

    def _paged(self, request: Request, rows: list, default: int = 30) -> Answer:
        """``per_page`` at most 100 (default 30), ``page`` from 1, a ``Link`` header with
        next/last/first/prev [GH-pagination]; an ETag over the answer [GH-cond]."""
        try:
            per_page = min(100, max(1, int(request.arg("per_page") or default)))
            page = max(1, int(request.arg("page") or 1))
        except ValueError:
            raise Answer(422, {"message": "Validation Failed"}) from None
        last = max(1, -(-len(rows) // per_page))
        chunk = rows[(page - 1) * per_page : page * per_page]
        query = {k: v[-1] for k, v in request.query.items() if k != "page"}
        headers = {}
        link = link_header(self.url, request.path, query, page, last)
        if link:
            headers["Link"] = link
        return self._etagged(request, chunk, headers)

    def _etagged(self, request: Request, body, headers: dict[str, str] | None = None) -> Answer:
        content = json.dumps(body)
        # ETags differ per access token [https://github.com/github/docs/issues/34689]
        digest = hashlib.sha256(f"{request.token}\0{content}".encode()).hexdigest()[:32]
        return Answer(200, body, {**(headers or {}), "ETag": f'W/"{digest}"'})

    # --- routes: the authenticated user, users, repositories ----------------------------------

    @route("GET", "/user")
    def get_me(self, request):
        return self._etagged(request, self._full_user(self.token_users.get(request.token, self.me)))

    @route("GET", "/user/{user_id}")
    def get_user_by_id(self, request, user_id):
        for user in self.users.values():
            if str(user.id) == user_id:
                return self._etagged(request, self._full_user(user))
        raise Answer(404, {"message": "Not Found"})

    @route("GET", "/users/{login}")
    def get_user(self, request, login):
        user = next((u for u in self.users.values() if u.login.lower() == login.lower()), None)
        if user is None:
            raise Answer(404, {"message": "Not Found"})
        return self._etagged(request, self._full_user(user))

    @route("GET", "/user/repos")
    def my_repos(self, request):
        return self._paged(request, [self._repo(r) for r in self.repos.values()])

    def repo(self, owner: str, name: str) -> Repo:
        repo = self.repos.get(f"{owner}/{name}")
        if repo is None:
            raise Answer(404, {"message": "Not Found"})
        return repo

    @route("GET", "/repos/{owner}/{name}")
    def get_repo(self, request, owner, name):
        return self._etagged(request, self._repo(self.repo(owner, name)))

    @route("GET", "/repos/{owner}/{name}/labels")
    def labels(self, request, owner, name):
        repo = self.repo(owner, name)
        return self._paged(request, [self._label(repo, label) for label in repo.labels])

    @route("GET", "/repos/{owner}/{name}/milestones")
    def milestones(self, request, owner, name):
        repo = self.repo(owner, name)
        return self._paged(request, [self._milestone(repo, number) for number in sorted(repo.milestones)])

    @route("GET", "/repos/{owner}/{name}/assignees")
    def assignees(self, request, owner, name):
        repo = self.repo(owner, name)
        return self._paged(request, [self._user(self.users[login]) for login in repo.collaborators])

    # --- routes: issues -----------------------------------------------------------------------

    def _visible(self, repo: Repo) -> list[Issue]:
        return [issue for issue in repo.issues.values() if not issue.deleted]

    @route("GET", "/repos/{owner}/{name}/issues")
    def list_issues(self, request, owner, name):
        """``state`` open (default) | closed | all; ``sort`` created (default) | updated | comments;
        ``direction`` desc (default) | asc; ``since`` = updated at or after; pull requests included
        [GH-issues]."""
        repo = self.repo(owner, name)
        state = request.arg("state", "open")
        if state not in ("open", "closed", "all"):
            raise Answer(
                422, {"message": "Validation Failed", "errors": [{"field": "state", "code": "invalid"}]}
            )
        rows = [i for i in self._visible(repo) if state == "all" or i.state == state]
        since = request.arg("since")
        if since:
            try:
                moment = parse_stamp(since)
            except ValueError:
                raise Answer(
                    422, {"message": "Validation Failed", "errors": [{"field": "since", "code": "invalid"}]}
                ) from None
            rows = [i for i in rows if i.updated >= moment]
        for filter_name, attribute in (("labels", "labels"),):
            wanted = request.arg(filter_name)
            if wanted:
                rows = [i for i in rows if set(wanted.split(",")) <= set(getattr(i, attribute))]
        sort = request.arg("sort", "created")
        key = {
            "created": lambda i: (i.created, i.number),
            "updated": lambda i: (i.updated, i.number),
            "comments": lambda i: (len(i.comments), i.number),
        }.get(sort)
        if key is None:
            raise Answer(
                422, {"message": "Validation Failed", "errors": [{"field": "sort", "code": "invalid"}]}
            )
        rows.sort(key=key, reverse=request.arg("direction", "desc") != "asc")
        return self._paged(request, [self._issue(repo, i) for i in rows])

    def issue(self, repo: Repo, number: str) -> Issue:
        found = repo.issues.get(int(number)) if is_digits(number) else None
        if found is None:
            raise Answer(404, {"message": "Not Found"})
        if found.deleted:  # a deleted issue answers 410 Gone [GH-issues, "Get an issue"]
            raise Answer(410, {"message": "This issue was deleted"})
        return found

    @route("GET", "/repos/{owner}/{name}/issues/{number}")
    def get_issue(self, request, owner, name, number):
        repo = self.repo(owner, name)
        return self._etagged(request, self._issue(repo, self.issue(repo, number)))

    def _validate(self, repo: Repo, data: dict, creating: bool) -> None:
        """422 "Validation Failed" with ``errors: [{resource, field, code}]`` [GH-errors]."""
        errors = []
        if not isinstance(data, dict):
            raise Answer(400, {"message": "Problems parsing JSON"})
        if creating and not data.get("title") or "title" in data and not str(data.get("title") or "").strip():
            errors.append({"resource": "Issue", "field": "title", "code": "missing_field"})
        if "state" in data and data["state"] not in ("open", "closed"):
            errors.append({"resource": "Issue", "field": "state", "code": "invalid"})
        if data.get("state_reason") not in (None, "completed", "not_planned", "reopened", "duplicate"):
            errors.append({"resource": "Issue", "field": "state_reason", "code": "invalid"})
        if data.get("milestone") is not None and data["milestone"] not in repo.milestones:
            errors.append({"resource": "Issue", "field": "milestone", "code": "invalid"})
        for login in data.get("assignees") or []:
            if login not in repo.collaborators:
                errors.append({"resource": "Issue", "field": "assignees", "code": "invalid", "value": login})
        if errors:
            raise Answer(422, {"message": "Validation Failed", "errors": errors})

    def _apply(self, repo: Repo, issue: Issue, data: dict) -> None:
        for key in ("title", "body"):
            if key in data:
                setattr(issue, key, data[key])
        if "labels" in data:
            names = [label if isinstance(label, str) else label["name"] for label in data["labels"] or []]
            for label in names:  # unknown labels are created [GH-issues]
                if label not in repo.labels:
                    repo.labels.append(label)
            issue.labels = names
        if "assignees" in data:
            issue.assignees = [self.users[login] for login in data["assignees"] or []]
        elif "assignee" in data:
            issue.assignees = [self.users[data["assignee"]]] if data["assignee"] else []
        if "milestone" in data:
            issue.milestone = data["milestone"]
        if "state" in data and data["state"] != issue.state:
            issue.state = data["state"]
            issue.closed = self.tick() if issue.state == "closed" else None
            issue.state_reason = data.get("state_reason") or (
                "completed" if issue.state == "closed" else "reopened"
            )
        elif "state_reason" in data:
            issue.state_reason = data["state_reason"]

    @route("POST", "/repos/{owner}/{name}/issues")
    def create_issue(self, request, owner, name):
        repo = self.repo(owner, name)
        data = request.json()
        self._validate(repo, data, creating=True)
        issue = self.new_issue(
            repo, data["title"], data.get("body"), user=self.token_users.get(request.token)
        )
        self._apply(repo, issue, {k: v for k, v in data.items() if k not in ("title", "body")})
        self._fire("issues", "opened", repo, issue)
        return Answer(
            201,
            self._issue(repo, issue),
            {"Location": f"{self.url}/repos/{repo.full_name}/issues/{issue.number}"},
        )

    @route("PATCH", "/repos/{owner}/{name}/issues/{number}")
    def update_issue(self, request, owner, name, number):
        repo = self.repo(owner, name)
        issue = self.issue(repo, number)
        data = request.json()
        self._validate(repo, data, creating=False)
        self._apply(repo, issue, data)
        issue.updated = self.tick()
        self._fire("issues", "edited", repo, issue)
        return Answer(200, self._issue(repo, issue))

    # --- routes: comments ---------------------------------------------------------------------

    @route("GET", "/repos/{owner}/{name}/issues/{number}/comments")
    def list_comments(self, request, owner, name, number):
        repo = self.repo(owner, name)
        issue = self.issue(repo, number)
        rows = list(issue.comments)
        since = request.arg("since")
        if since:
            rows = [c for c in rows if c.updated >= parse_stamp(since)]
        return self._paged(request, [self._comment(repo, c) for c in rows])

    @route("GET", "/repos/{owner}/{name}/issues/comments")
    def repo_comments(self, request, owner, name):
        """Ascending id by default; ``sort`` created | updated; ``direction`` is ignored without
        ``sort``; ``since`` = updated at or after [GH-comments]."""
        repo = self.repo(owner, name)
        rows = [c for i in self._visible(repo) for c in i.comments]
        since = request.arg("since")
        if since:
            rows = [c for c in rows if c.updated >= parse_stamp(since)]
        sort = request.arg("sort")
        if sort:
            rows.sort(key=lambda c: (c.created if sort == "created" else c.updated, c.id))
            if request.arg("direction", "desc") == "desc":
                rows.reverse()
        else:
            rows.sort(key=lambda c: c.id)
        return self._paged(request, [self._comment(repo, c) for c in rows])

    @route("POST", "/repos/{owner}/{name}/issues/{number}/comments")
    def add_comment(self, request, owner, name, number):
        repo = self.repo(owner, name)
        self.issue(repo, number)
        data = request.json()
        if not isinstance(data, dict) or not str(data.get("body") or "").strip():
            raise Answer(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "IssueComment", "field": "body", "code": "missing_field"}],
                },
            )
        comment = self.comment_as(
            repo, int(number), data["body"], self.token_users.get(request.token, self.me)
        )
        self._fire("issue_comment", "created", repo, repo.issues[int(number)], comment)
        return Answer(201, self._comment(repo, comment))

    def _find_comment(self, repo: Repo, comment_id: str) -> tuple[Issue, Comment]:
        for issue in self._visible(repo):
            for comment in issue.comments:
                if str(comment.id) == comment_id:
                    return issue, comment
        raise Answer(404, {"message": "Not Found"})

    @route("GET", "/repos/{owner}/{name}/issues/comments/{comment_id}")
    def get_comment(self, request, owner, name, comment_id):
        repo = self.repo(owner, name)
        return self._etagged(request, self._comment(repo, self._find_comment(repo, comment_id)[1]))

    @route("PATCH", "/repos/{owner}/{name}/issues/comments/{comment_id}")
    def edit_comment(self, request, owner, name, comment_id):
        repo = self.repo(owner, name)
        _, comment = self._find_comment(repo, comment_id)
        comment.body = request.json()["body"]
        comment.updated = self.tick()
        return Answer(200, self._comment(repo, comment))

    @route("DELETE", "/repos/{owner}/{name}/issues/comments/{comment_id}")
    def delete_comment(self, request, owner, name, comment_id):
        """204; the issue's ``comments`` count drops, and the repository-wide feed, which lists
        only existing comments, has nothing to say about it [GH-comments]."""
        repo = self.repo(owner, name)
        issue, comment = self._find_comment(repo, comment_id)
        issue.comments.remove(comment)
        return Answer(204)

    # --- routes: search -----------------------------------------------------------------------

    @route("GET", "/search/issues")
    def search(self, request):
        """``q`` with qualifiers ``repo:``, ``is:issue``/``is:pr``, ``state:`` and free words or
        quoted phrases matched in title and body [https://docs.github.com/search-github/searching-on-github/searching-issues-and-pull-requests]."""
        q = request.arg("q", "")
        terms = re.findall(r'"([^"]+)"|(\S+)', q)
        words, repos, kind, state = [], [], None, None
        for phrase, word in terms:
            token = phrase or word
            if word.startswith("repo:"):
                repos.append(word[5:])
            elif word in ("is:issue", "is:pr"):
                kind = word[3:]
            elif word.startswith("state:") or word in ("is:open", "is:closed"):
                state = word.split(":")[1]
            elif word.startswith("in:"):
                continue
            else:
                words.append(token.lower())
        rows = []
        for repo in self.repos.values():
            if repos and repo.full_name not in repos:
                continue
            for issue in self._visible(repo):
                if kind == "issue" and issue.pull_request or kind == "pr" and not issue.pull_request:
                    continue
                if state and issue.state != state:
                    continue
                text = f"{issue.title}\n{issue.body or ''}".lower()
                if all(w in text for w in words):
                    rows.append(self._issue(repo, issue))
        answer = self._paged(request, rows)
        body = json.loads(answer.content)
        return Answer(
            200,
            {"total_count": len(rows), "incomplete_results": False, "items": body},
            {k: v for k, v in answer.headers.items() if k != "Content-Type"},
        )

    # --- webhooks -----------------------------------------------------------------------------

    def _fire(
        self, event: str, action: str, repo: Repo, issue: Issue, comment: Comment | None = None
    ) -> None:
        """Deliveries leave after the answer, as GitHub's do (it does not wait for the receiver)."""
        for url, secret in list(self.hooks):
            body = self.payload(event, action, repo, issue, comment)
            threading.Thread(target=self._send, args=(url, body, event, secret), daemon=True).start()

    def _send(self, url: str, body: bytes, event: str, secret: str) -> None:
        answer = send_webhook(url, body, webhook_headers(event, body, secret))
        with self.lock:
            self.deliveries.append(answer)

    def payload(
        self, event: str, action: str, repo: Repo, issue: Issue, comment: Comment | None = None
    ) -> bytes:
        """The ``issues`` / ``issue_comment`` event payload [https://docs.github.com/webhooks/webhook-events-and-payloads]."""
        body = {
            "action": action,
            "issue": self._issue(repo, issue),
            "repository": self._repo(repo),
            "sender": self._user(self.me),
        }
        if comment is not None:
            body["comment"] = self._comment(repo, comment)
        return json.dumps(body).encode()

    def deliver(
        self, url: str, secret: str, event: str, action: str, repo: Repo, issue: Issue, comment=None, **kw
    ):
        body = self.payload(event, action, repo, issue, comment)
        return send_webhook(url, body, webhook_headers(event, body, secret), **kw)


def webhook_headers(event: str, body: bytes, secret: str) -> dict[str, str]:
    """``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the secret>`` when a secret is
    set [https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries]."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": hashlib.sha1(body).hexdigest(),  # noqa: S324 - an id, not security
        "X-Hub-Signature-256": f"sha256={signature}",
        "User-Agent": "GitHub-Hookshot/fake",
    }
