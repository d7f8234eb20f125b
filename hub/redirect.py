"""The plain-HTTP listener: a tiny WSGI app that sends every request to the HTTPS port.

It is served by its own gunicorn process on ``server.redirect.port`` and touches neither Django
nor the database, so it keeps answering even while the console is starting.
"""

from __future__ import annotations

import os
from urllib.parse import quote


def _https_port() -> int:
    return int(os.environ.get("HUB_SERVER_PORT", "8443"))


def target(host_header: str, path: str, query: str, https_port: int) -> str:
    host = host_header.strip() or "localhost"
    if host.startswith("["):  # IPv6 literal: [::1]:8080
        host = host[: host.index("]") + 1]
    else:
        host = host.rsplit(":", 1)[0]
    port = "" if https_port == 443 else f":{https_port}"
    location = f"https://{host}{port}{quote(path, safe='/%;:@&=+$,!~*()')}"
    return f"{location}?{query}" if query else location


def application(environ, start_response):
    location = target(
        environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost"),
        environ.get("PATH_INFO", "/"),
        environ.get("QUERY_STRING", ""),
        _https_port(),
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
