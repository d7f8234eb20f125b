"""Jira's REST API as Hub's Jira connectors use it: authentication for Cloud (e-mail + API token, or
an OAuth 2.0 access token) and Data Center (a personal access token, or user name + password),
Jira's refusals turned into SDK errors (its 400s name fields in ``errors``), and its rate limits:
``Retry-After`` when sent, else ``X-RateLimit-Reset`` — an ISO 8601 time, not seconds — and a bare
429 falls to the engine's backoff."""

from __future__ import annotations

import datetime as dt
import time

import httpx

from connectors.cloud import CloudClient, NotPermitted
from connectors.errors import InvalidSettings
from connectors.http import retry_after_seconds
from connectors.types import RepositorySettings

API_TOKEN, OAUTH, PAT, BASIC = "api_token", "oauth", "pat", "basic"


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


class JiraClient(CloudClient):
    tool, permission_hint = "Jira", "Hub's user lacks the permission"

    def __init__(self, settings: RepositorySettings, *, cloud: bool, version: str):
        self.cloud, self.version = cloud, version
        method = settings.auth_method or (API_TOKEN if cloud else PAT)
        auth, headers = None, {}
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
        super().__init__(settings, auth=auth, headers=headers, retry_after=wait_seconds)

    def refusal_fields(self, response: httpx.Response) -> dict[str, str]:
        return refused_fields(response)

    def url(self, path: str) -> str:
        """``path`` under ``/rest/api/<version>/`` unless it starts with ``/``."""
        return path.lstrip("/") if path.startswith("/") else f"rest/api/{self.version}/{path}"


__all__ = ["NotPermitted", "JiraClient"]
