"""Redmine's REST API as Hub's Redmine connector uses it: authentication, the credential check,
and Redmine's answers (404, 403, 422 with its messages) turned into SDK errors. The network itself
(timeouts, proxy, TLS, rate limits, Retry-After) is ``connectors.http``."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from connectors.errors import ArtifactNotFound, ConnectorError, InvalidSettings, ValuesNotAccepted
from connectors.http import HttpSession, identity, server_time  # noqa: F401 - server_time re-exported
from connectors.types import RepositorySettings

API_KEY = "api_key"
BASIC = "basic"
MAX_LIMIT = 100  # Redmine clamps larger limits to 100


# What Redmine says about the credentials and the structure (who Hub is, the custom fields)
# changes rarely, while the engine makes a connector per batch and per
# detection: asking again each time cost two requests before the first useful one — against a
# Redmine at a second per request, a large part of Hub's requests (issue #20: requests per issue). Kept
# per server and credentials, for SHARED_FOR seconds.
SHARED_FOR = 60.0
_shared: dict[tuple[str, str, str], tuple[float, Any]] = {}
_shared_lock = threading.Lock()


class NotPermitted(ConnectorError):
    """The credentials are right but their user may not do this (HTTP 403 on a later request)."""


class RedmineClient:
    def __init__(self, settings: RepositorySettings):
        self.base = settings.url.rstrip("/")
        self.writes = 0  # requests other than GET sent so far
        method = settings.auth_method or API_KEY
        headers = {"Accept": "application/json"}
        auth: tuple[str, str] | None = None
        if method == API_KEY:
            if not settings.token:
                raise InvalidSettings("Redmine needs an API key (My account → API access key).")
            headers["X-Redmine-API-Key"] = settings.token
        elif method == BASIC:
            if not settings.username:
                raise InvalidSettings("Redmine basic authentication needs a user name.")
            auth = (settings.username, settings.password)
        else:
            raise InvalidSettings(f"Redmine does not know the authentication method {method!r}.")
        self.http = HttpSession(settings, auth=auth, headers=headers)
        self.user: dict | None = None  # whom the credentials belong to, once checked
        secret = f"{method}\0{settings.token}\0{settings.username}\0{settings.password}"
        self.credentials = (self.base, hashlib.sha256(secret.encode()).hexdigest())

    def shared(self, what: str, read: Callable[[], Any]) -> Any:
        """``read()``'s answer as this server gave it to these credentials within ``SHARED_FOR``
        seconds (in this process), else read now."""
        key = (*self.credentials, what)
        now = time.monotonic()
        with _shared_lock:
            kept = _shared.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        value = read()
        with _shared_lock:
            _shared[key] = (now + SHARED_FOR, value)
        return value

    def check_user(self) -> None:
        """The credential check before a connector's first request (a recent one of another
        connector with the same credentials counts)."""
        if self.user is None:
            self.user = self.shared("user", lambda: (self.whoami(), self.user)[1])

    def close(self) -> None:
        self.http.close()

    def whoami(self) -> httpx.Response:
        """Check the credentials. Redmine answers requests with wrong credentials as the anonymous
        user wherever anonymous may look (public projects and their issues), so every connector
        checks them once before its first request rather than act as someone else."""
        response = self.http.request("GET", "users/current.json")
        self.user = identity(response, "user", required="login")
        return response

    def call(
        self,
        method: str,
        path: str,
        *,
        missing: ConnectorError | None = None,
        labels: Mapping[str, str] | None = None,
        refused: dict[int, Any] | None = None,
        **kwargs,
    ) -> httpx.Response:
        """404 raises ``missing``, 403 NotPermitted, and 422 ValuesNotAccepted naming each field
        whose label (``labels``: label → field id) starts one of Redmine's messages."""
        if method != "GET":
            self.writes += 1  # what the connector read after a write holds until the next one
        self.check_user()

        def not_permitted(response: httpx.Response) -> ConnectorError:
            return NotPermitted(f"Redmine refused {method} {path}: Hub's user lacks the permission (403).")

        errors = {403: not_permitted, 422: lambda response: refused_values(response, labels or {})}
        return self.http.request(
            method,
            path.lstrip("/"),
            not_found=(lambda: missing) if missing else None,
            errors={**errors, **(refused or {})},
            **kwargs,
        )

    def get(self, path: str, **kwargs) -> Any:
        return self.call("GET", path, **kwargs).json()

    def download(self, path: str, *, filename: str, max_bytes: int):
        self.check_user()
        return self.http.download(path.lstrip("/"), filename=filename, max_bytes=max_bytes)

    def not_found(self, issue_id: str) -> ArtifactNotFound:
        return ArtifactNotFound(f"Redmine issue #{issue_id} does not exist or is not visible to Hub's user.")


def refused_values(response: httpx.Response, labels: Mapping[str, str]) -> ValuesNotAccepted:
    try:
        messages = [str(m) for m in response.json().get("errors", [])]
    except ValueError:
        messages = [response.text[:300]]
    by_length = sorted(labels.items(), key=lambda item: -len(item[0]))
    fields: dict[str, str] = {}
    for message in messages:
        field = next((fid for label, fid in by_length if message.startswith(label + " ")), "issue")
        fields[field] = f"{fields[field]}; {message}" if field in fields else message
    return ValuesNotAccepted("Redmine refused the values", fields=fields)


def error_text(response: httpx.Response) -> str:
    try:
        return "; ".join(response.json().get("errors", [])) or response.text[:200]
    except ValueError:
        return response.text[:200] or f"HTTP {response.status_code}"
