"""The harness every fake of a cloud tool is built on: a real HTTP server on a loopback port, with
in-memory state, fault injection and a record of every request.

This is a shared piece (issue #14): each fake in ``tests/fakes/`` subclasses ``FakeServer``, declares
its routes with ``@route(method, pattern)`` and keeps its state in plain Python objects guarded by
``self.lock``. Tests and benchmarks then drive it like the tool itself:

- ``fake.url`` — the base URL (``http://127.0.0.1:PORT``), reachable from other processes too
  (a Hub server, a Celery worker);
- ``fake.latency = 0.05`` — every answer waits that long (a realistic round trip);
- ``fake.inject(Fault(...))`` — the next matching requests get a fault instead of their answer:
  a status with or without headers (429 with ``Retry-After``, a bare 429, 503, 500), a slow answer
  (``delay``), or no answer within the client's timeout (``hang``);
- ``fake.revoke(token)`` / ``fake.tokens`` — a token that worked stops working (it expired or was
  rotated), so the tool answers as it does to wrong credentials;
- ``fake.requests`` — every request seen (method, path, query, headers, status), for tests that
  count round trips and for the benchmarks;
- ``send_webhook(url, body, headers)`` — POST a tool's documented payload to Hub.

Only the standard library serves: the fakes share no code with httpx, which the connectors use.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import fnmatch
import http.server
import json
import re
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json; charset=utf-8"


class Headers(dict):
    """Request headers, looked up without regard to case."""

    def __init__(self, items):
        super().__init__((k.lower(), v) for k, v in items)

    def get(self, key, default=None):  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(str(key).lower())


@dataclass
class Request:
    method: str
    path: str  # without the query string, still percent-encoded (route parts arrive decoded)
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    token: str = ""  # the credential the fake's ``authenticate`` recognised

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise Answer.error(400, {"message": "Problems parsing JSON"}) from None


class Answer(Exception):  # noqa: N818 - raised by handlers to answer at once
    """An answer: handlers return one, or raise one to answer from deep inside."""

    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.headers = dict(headers or {})
        if body is None:
            self.content = b""
        elif isinstance(body, bytes):
            self.content = body
        else:
            self.content = json.dumps(body).encode()
            self.headers.setdefault("Content-Type", JSON)

    @classmethod
    def error(cls, status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
        return cls(status, body, headers)


@dataclass
class Fault:
    """What the next ``times`` requests matching ``path`` (a glob on the path, ``*`` for all) and
    ``method`` get instead of their answer. ``status=None`` with ``delay`` only slows the real answer;
    ``hang`` seconds of silence make the client time out (the connection is then closed)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    hang: float = 0.0
    times: int = 1
    path: str = "*"
    method: str = "*"

    def matches(self, request: Request) -> bool:
        return (self.method in ("*", request.method)) and fnmatch.fnmatch(request.path, self.path)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0
    seconds: float = 0.0


Handler = Callable[..., Answer]


def route(method: str, pattern: str):
    """Declare a handler for ``method`` and a path pattern with ``{name}`` parts (``{name:path}``
    matches slashes too)."""

    def mark(function):
        function.route = (method, pattern)
        return function

    return mark


def _compile(pattern: str) -> re.Pattern:
    regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", pattern)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


class _Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class FakeServer:
    """A fake tool on loopback. Subclasses implement ``authenticate`` and their routes."""

    name = "fake"

    def __init__(self, *, latency: float = 0.0):
        self.lock = threading.RLock()
        self.latency = latency
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.tokens: set[str] = set()
        self.clock_offset = dt.timedelta(0)  # a tool whose clock is ahead (+) or behind (-)
        self._routes = []
        for attribute in dir(type(self)):
            function = getattr(type(self), attribute)
            if callable(function) and hasattr(function, "route"):
                method, pattern = function.route
                self._routes.append((method, _compile(pattern), getattr(self, attribute)))
        # Literal paths before patterns: /user/repos is not /user/{id}.
        self._routes.sort(key=lambda entry: entry[1].pattern.count("(?P<"))
        fake = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: tests read ``requests`` instead
                pass

            def _serve(self):
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        self.server = _Threaded(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    # --- for tests ----------------------------------------------------------------------------

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def revoke(self, token: str) -> None:
        """The token stops working: expired, or rotated by its owner."""
        with self.lock:
            self.tokens.discard(token)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.clock_offset

    def seen(self, method: str | None = None, path: str = "*") -> list[Seen]:
        with self.lock:
            return [
                s
                for s in self.requests
                if (method is None or s.method == method) and fnmatch.fnmatch(s.path, path)
            ]

    def reset_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    # --- to implement -------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Answer | None:
        """Set ``request.token`` and return None, or return the tool's refusal."""
        return None

    def decorate(self, request: Request, answer: Answer) -> None:
        """Add headers every answer of the tool carries (rate-limit headers, for example)."""

    # --- serving ------------------------------------------------------------------------------

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        parts = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(handler.rfile)
        request = Request(
            method=handler.command,
            path=parts.path,  # still percent-encoded: GitLab's "group%2Fname" is one segment
            query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
            headers=Headers(handler.headers.items()),
            body=body,
        )
        seen = Seen(request.method, request.path, request.query, dict(request.headers))
        with self.lock:
            self.requests.append(seen)
        if self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(request)
        if fault and fault.hang:
            time.sleep(fault.hang)
            handler.close_connection = True
            seen.seconds = time.monotonic() - started
            return
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.status:
            answer = Answer(fault.status, fault.body, fault.headers)
        else:
            answer = self._answer(request)
        answer.headers.setdefault("Date", email.utils.format_datetime(self.now(), usegmt=True))
        seen.status, seen.seconds = answer.status, time.monotonic() - started
        handler.send_response_only(answer.status)  # the fake's own Date below (its clock may be off)
        handler.send_header("Server", f"hub-fake-{self.name}")
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.content)))
        handler.end_headers()
        if request.method != "HEAD":
            handler.wfile.write(answer.content)

    def _answer(self, request: Request) -> Answer:
        try:
            refused = self.authenticate(request)
            if refused is not None:
                return refused
            for method, pattern, function in self._routes:
                match = pattern.match(request.path)
                if match and method == request.method:
                    parts = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                    with self.lock:
                        answer = function(request, **parts)
                    break
            else:
                answer = Answer(404, {"message": "Not Found"})
        except Answer as raised:
            answer = raised
        self.decorate(request, answer)
        return answer


def _read_chunked(stream) -> bytes:
    body = b""
    while True:
        size = int(stream.readline().strip().split(b";")[0], 16)
        if size == 0:
            stream.readline()
            return body
        body += stream.read(size)
        stream.readline()


def link_header(base: str, path: str, query: dict[str, str], page: int, last: int) -> str:
    """An RFC 8288 ``Link`` header with next/last/first/prev page links (GitHub and GitLab style)."""

    def url(number: int) -> str:
        return f"{base}{path}?{urllib.parse.urlencode({**query, 'page': number})}"

    links = []
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    return ", ".join(links)


def send_webhook(url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> tuple[int, bytes]:
    """POST a webhook payload as the tool would; returns (status, body)."""
    import ssl
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    # Hub's test servers have self-signed certificates; only loopback addresses are ever posted to.
    context = ssl._create_unverified_context() if url.startswith("https:") else None  # noqa: S323
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
