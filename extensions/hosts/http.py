"""``httpClient``: a GET through Hub's HTTP layer (``connectors/http.py``): the same timeouts and
TLS verification as repositories, an optional proxy with Basic credentials, nothing from the
environment. A response of any status is the script's to judge; a network failure throws."""

from __future__ import annotations

from urllib.parse import urlsplit

from connectors.errors import ConnectorError
from connectors.http import HttpSession
from connectors.types import RepositorySettings
from extensions.runtime import HostError

TIMEOUT = 30.0
MAX_CONTENT = 10 * 1024 * 1024


def send(spec: dict) -> dict:
    uri = str(spec.get("uri") or "")
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HostError("HostException", f"httpClient needs an http:// or https:// URI, not {uri!r}.")
    proxy = spec.get("proxy") or {}
    proxy_url = f"http://{proxy['host']}:{int(proxy['port'])}" if proxy.get("host") else ""
    settings = RepositorySettings(
        kind="extension",
        url=f"{parts.scheme}://{parts.netloc}/",
        proxy_url=proxy_url,
        proxy_username=proxy.get("username") or "",
        proxy_password=proxy.get("password") or "",
        timeout=TIMEOUT,
    )
    try:
        with HttpSession(settings, max_inline_wait=0) as session:
            response = session.fetch(
                "GET",
                uri,
                params=[tuple(p) for p in spec.get("parameters") or []],
                headers=[tuple(h) for h in spec.get("headers") or []],
            )
    except ConnectorError as error:
        raise HostError("HostException", f"The request to {parts.netloc} failed: {error}") from None
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(_title(name), []).append(value)
    return {
        "status": response.status_code,
        "content": response.content[:MAX_CONTENT].decode(response.encoding or "utf-8", errors="replace"),
        "headers": headers,
    }


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
