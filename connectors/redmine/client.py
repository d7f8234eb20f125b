"""Redmine's REST API as Hub's Redmine connector uses it: authentication, paths, status codes and
Redmine's validation messages turned into SDK errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from connectors.errors import ArtifactNotFound, ConnectorError, InvalidSettings, ValuesNotAccepted
from connectors.redmine._interim_http import open_session, server_time  # noqa: F401 - re-exported
from connectors.types import RepositorySettings

API_KEY = "api_key"
BASIC = "basic"
MAX_LIMIT = 100  # Redmine clamps larger limits to 100


class RedmineClient:
    def __init__(self, settings: RepositorySettings):
        self.base = settings.url.rstrip("/")
        method = settings.auth_method or API_KEY
        if method == API_KEY:
            if not settings.token:
                raise InvalidSettings("Redmine needs an API key (My account → API access key).")
            self.headers = {"X-Redmine-API-Key": settings.token}
            self.auth: tuple[str, str] | None = None
        elif method == BASIC:
            if not settings.username:
                raise InvalidSettings("Redmine basic authentication needs a user name.")
            self.headers = {}
            self.auth = (settings.username, settings.password)
        else:
            raise InvalidSettings(f"Redmine does not know the authentication method {method!r}.")
        self.headers["Accept"] = "application/json"
        self.session = open_session(settings, "Redmine")
        self.user: dict | None = None  # whom the credentials belong to, once checked

    def whoami(self) -> httpx.Response:
        """Check the credentials. Redmine answers requests with wrong credentials as the anonymous
        user wherever anonymous may look (public projects and their issues), so every connector
        checks them once before its first request rather than act as someone else."""
        response = self.session.request(
            "GET", f"{self.base}/users/current.json", headers=self.headers, auth=self.auth
        )
        if response.status_code != 200:
            raise ConnectorError(f"Redmine answered {response.status_code} when Hub asked who it is.")
        self.user = response.json()["user"]
        return response

    def close(self) -> None:
        self.session.close()

    def send(self, method: str, path: str, *, stream: bool = False, **kwargs) -> httpx.Response:
        if self.user is None:
            self.whoami()
        headers = {**self.headers, **kwargs.pop("headers", {})}
        url = path if path.startswith("http") else f"{self.base}{path}"
        return self.session.request(method, url, headers=headers, auth=self.auth, stream=stream, **kwargs)

    def call(
        self,
        method: str,
        path: str,
        *,
        missing: ConnectorError | None = None,
        labels: Mapping[str, str] | None = None,
        **kwargs,
    ) -> httpx.Response:
        """Send and check: 404 raises ``missing`` (or a generic error), 422 raises ValuesNotAccepted
        naming each field whose label (``labels``: label → field id) starts one of Redmine's
        messages."""
        response = self.send(method, path, **kwargs)
        status = response.status_code
        if status < 300:
            return response
        if status == 404:
            raise missing or ConnectorError(f"Redmine has nothing at {path} (404).")
        if status == 403:
            raise ConnectorError(
                f"Redmine refused {method} {path}: the credentials lack the permission (403)."
            )
        if status == 422:
            raise refused_values(response, labels or {})
        raise ConnectorError(f"Redmine answered {status} to {method} {path}: {response.text[:300]}")

    def get(self, path: str, **kwargs) -> Any:
        return self.call("GET", path, **kwargs).json()

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
