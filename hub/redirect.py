"""The plain-HTTP listener: a tiny WSGI app that sends every request to the HTTPS port.

It is served by its own gunicorn process on ``server.redirect.port`` and touches neither Django
nor the database, so it keeps answering even while the console is starting.

The target host is never simply the request's ``Host`` header — that would make Hub an open
redirect (``Host: evil.example`` → ``https://evil.example:8443/``). A request's host is kept only
when it is one of ``server.hostnames`` or one of this machine's own names; any other goes to the
first configured name (or this machine's name).
"""

from __future__ import annotations

import contextlib
import functools
import socket
from urllib.parse import quote

from hub import config

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
QUERY_SAFE = "=&%+;/?:@,!~*'()$"


@functools.cache
def _settings() -> tuple[int, tuple[str, ...]]:
    """The HTTPS port and the host names a redirect may go to, read once per process."""
    hub = config.load()
    return hub["server.port"], allowed_hosts(hub["server.hostnames"])


def allowed_hosts(configured: tuple[str, ...]) -> tuple[str, ...]:
    """Configured names first (the first is where unknown hosts are sent), then this machine's."""
    own = [socket.gethostname().lower()]
    with contextlib.suppress(OSError):
        own.append(socket.getfqdn().lower())
    names: list[str] = []
    for name in (*configured, *own, *LOOPBACK):
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _host_of(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):  # IPv6 literal: [::1]:8080
        return host[: host.index("]") + 1] if "]" in host else ""
    return host.rsplit(":", 1)[0]


def target(host_header: str, path: str, query: str, https_port: int, allowed: tuple[str, ...]) -> str:
    host = _host_of(host_header)
    if host not in allowed:
        host = allowed[0]
    port = "" if https_port == 443 else f":{https_port}"
    location = f"https://{host}{port}{quote(path, safe='/%;:@&=+$,!~*()')}"
    return f"{location}?{quote(query, safe=QUERY_SAFE)}" if query else location


def application(environ, start_response):
    https_port, allowed = _settings()
    location = target(
        environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
        environ.get("PATH_INFO", "/"),
        environ.get("QUERY_STRING", ""),
        https_port,
        allowed,
    )
    body = f"Hub is served over HTTPS: {location}\n".encode()
    start_response(
        "301 Moved Permanently",
        [
            ("Location", location),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
