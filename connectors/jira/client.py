"""Jira's REST API as Hub's Jira connectors use it: authentication for Cloud (e-mail + API token, or
an OAuth 2.0 access token) and Data Center (a personal access token, or user name + password),
Jira's refusals turned into SDK errors (its 400s name fields in ``errors``), and its rate limits:
``Retry-After`` when sent, else ``X-RateLimit-Reset`` — an ISO 8601 time, not seconds — and a bare
429 falls to the engine's backoff."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx

from connectors.errors import ConnectorError, InvalidSettings, ValuesNotAccepted
from connectors.http import HttpSession, retry_after_seconds
from connectors.types import RepositorySettings

API_TOKEN, OAUTH, PAT, BASIC = "api_token", "oauth", "pat", "basic"


class NotPermitted(ConnectorError):
    """The credentials are valid but their user may not do this (403)."""


def wait_seconds(response: httpx.Response) -> float | None:
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    reset = response.headers.get("X-RateLimit-Reset", "")
    try:
        when = dt.datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - time.time())


def refused_fields(response: httpx.Response) -> dict[str, str]:
    """``{"errorMessages": [...], "errors": {field: message}}``."""
    try:
        body = response.json()
    except ValueError:
        return {"request": response.text[:300] or response.reason_phrase}
    fields = {str(k): str(v) for k, v in (body.get("errors") or {}).items()} if isinstance(body, dict) else {}
    messages = body.get("errorMessages") if isinstance(body, dict) else None
    if messages:
        fields["request"] = "; ".join(map(str, messages))
    return fields or {"request": str(body)[:300]}


class JiraClient:
    def __init__(self, settings: RepositorySettings, *, cloud: bool, version: str):
        self.cloud, self.version = cloud, version
        method = settings.auth_method or (API_TOKEN if cloud else PAT)
        auth = None
        headers = {"Accept": "application/json"}
        if method == API_TOKEN and cloud:
            if not settings.username or not settings.token:
                raise InvalidSettings("Jira Cloud needs the account's e-mail address and an API token.")
            auth = (settings.username, settings.token)
        elif method in (OAUTH, PAT):
            if not settings.token:
                raise InvalidSettings("Jira needs an access token.")
            headers["Authorization"] = f"Bearer {settings.token}"
        elif method == BASIC and not cloud:
            if not settings.username:
                raise InvalidSettings("Jira basic authentication needs a user name.")
            auth = (settings.username, settings.password)
        else:
            raise InvalidSettings(f"Jira does not know the authentication method {method!r}.")
        self.http = HttpSession(
            settings, auth=auth, headers=headers, refusal_fields=refused_fields, retry_after=wait_seconds
        )

    def close(self) -> None:
        self.http.close()

    def call(
        self, method: str, path: str, *, missing: ConnectorError | None = None, refused=None, **kwargs
    ) -> httpx.Response:
        """``path`` under ``/rest/api/<version>/`` unless it starts with ``/``."""
        full = path.lstrip("/") if path.startswith("/") else f"rest/api/{self.version}/{path}"

        def not_permitted(response: httpx.Response) -> ConnectorError:
            return NotPermitted(f"Jira refused {method} {path}: Hub's user lacks the permission (403).")

        def values(response: httpx.Response) -> ConnectorError:
            return ValuesNotAccepted("Jira refused the values", fields=refused_fields(response))

        return self.http.request(
            method,
            full,
            not_found=(lambda: missing) if missing else None,
            errors={400: values, 403: not_permitted, **(refused or {})},
            **kwargs,
        )

    def get(self, path: str, **kwargs) -> Any:
        return self.call("GET", path, **kwargs).json()
