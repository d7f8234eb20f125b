"""GitLab's REST API v4 as Hub's GitLab connector uses it: the token, GitLab's answers turned into
SDK errors (its 400s name fields), and its rate limits (``Retry-After``, else ``RateLimit-Reset``,
a Unix time; GitLab.com often answers a bare 429 with neither, and then the engine's backoff
applies)."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

import httpx

from connectors.errors import ConnectorError, InvalidSettings, ValuesNotAccepted
from connectors.http import HttpSession, retry_after_seconds
from connectors.types import RepositorySettings
from hub.ids import is_digits

DEFAULT_URL = "https://gitlab.com"
PER_PAGE = 100


class NotPermitted(ConnectorError):
    """The token is valid but may not do this (403)."""


def wait_seconds(response: httpx.Response) -> float | None:
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    reset = response.headers.get("RateLimit-Reset", "")
    return max(0.0, float(reset) - time.time()) if is_digits(reset) else None


def refused_fields(response: httpx.Response) -> dict[str, str]:
    """``{"message": {"title": ["can't be blank"]}}`` or ``{"error": "title is missing"}``."""
    try:
        body = response.json()
    except ValueError:
        return {"request": response.text[:300]}
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, dict):
        return {str(k): "; ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in message.items()}
    text = str(body.get("error") or message or body) if isinstance(body, dict) else str(body)
    match = re.match(r"^(\w+) (is missing|is invalid|does not have a valid value)", text)
    return {match.group(1): text} if match else {"request": text}


class GitLabClient:
    def __init__(self, settings: RepositorySettings):
        if not settings.token:
            raise InvalidSettings("GitLab needs an access token (a personal, project or group access token).")
        self.settings = settings
        base = (settings.url or DEFAULT_URL).rstrip("/")
        self.base = base
        self.http = HttpSession(
            dataclasses.replace(settings, url=base + "/api/v4"),
            headers={"PRIVATE-TOKEN": settings.token, "Accept": "application/json"},
            refusal_fields=refused_fields,
            retry_after=wait_seconds,
        )

    def close(self) -> None:
        self.http.close()

    def call(
        self, method: str, path: str, *, missing: ConnectorError | None = None, **kwargs
    ) -> httpx.Response:
        def not_permitted(response: httpx.Response) -> ConnectorError:
            return NotPermitted(f"GitLab refused {method} {path}: the token lacks the permission (403).")

        def refused(response: httpx.Response) -> ConnectorError:
            return ValuesNotAccepted("GitLab refused the values", fields=refused_fields(response))

        return self.http.request(
            method,
            path.lstrip("/"),
            not_found=(lambda: missing) if missing else None,
            errors={400: refused, 403: not_permitted},
            **kwargs,
        )

    def get(self, path: str, *, params: dict | None = None, missing: ConnectorError | None = None) -> Any:
        return self.call("GET", path, params=params, missing=missing).json()

    def pages(self, path: str, params: dict | None = None, limit: int = 100):
        """Every row of an offset-paged listing, following ``rel="next"`` (never the totals, which
        GitLab leaves out above 10,000 rows)."""
        params = {**(params or {}), "per_page": PER_PAGE}
        for page in range(1, limit + 1):
            response = self.call("GET", path, params={**params, "page": page})
            yield from response.json()
            if "next" not in response.links:
                return
