"""Roundup's REST interface (``<tracker>/rest/``) as Hub's Roundup connector uses it: basic
authentication, the headers its CSRF protection requires on every change, ETags, and Roundup's
error answers turned into SDK errors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from connectors.errors import (
    ArtifactNotFound,
    ConnectorError,
    InvalidSettings,
    RevisionConflict,
    ValuesNotAccepted,
)
from connectors.redmine._interim_http import open_session, server_time  # noqa: F401 - re-exported
from connectors.types import RepositorySettings

PROPERTY_ERROR = re.compile(r"property (\w+):")
ETAG_SUFFIX = re.compile(r'-(gzip|br|deflate|zstd)"$')


def parse_date(value: str | None) -> dt.datetime | None:
    """Roundup's ``2026-11-29.02:41:38`` (UTC in REST answers)."""
    if not value:
        return None
    day, _, time = value.partition(".")
    return dt.datetime.fromisoformat(f"{day}T{time or '00:00:00'}").replace(tzinfo=dt.UTC)


def format_date(value: dt.datetime, zone: dt.tzinfo) -> str:
    """A filter value: Roundup reads dates typed into a filter in the user's timezone."""
    return value.astimezone(zone).strftime("%Y-%m-%d.%H:%M:%S")


def user_zone(name: str | None) -> dt.tzinfo:
    """A Roundup user's ``timezone`` property: empty (the tracker's default, UTC in the classic
    template), an hour offset such as ``2`` or ``-5``, or a zone name such as ``Europe/Berlin``."""
    if not name:
        return dt.UTC
    try:
        return dt.timezone(dt.timedelta(hours=float(name)))
    except ValueError:
        pass
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSettings(f"Roundup user timezone {name!r} is not one Hub knows.") from None


def normal_etag(value: str) -> str:
    """The ETag without the content-encoding suffix Roundup adds to the header (``"…-gzip"``)."""
    return ETAG_SUFFIX.sub('"', value.strip())


class RoundupClient:
    def __init__(self, settings: RepositorySettings):
        url = settings.url.strip()
        if not url.endswith("/"):
            url += "/"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidSettings(f"Roundup needs the tracker's http(s) location, not {settings.url!r}.")
        if (settings.auth_method or "basic") != "basic" or not settings.username:
            raise InvalidSettings("Roundup needs a user name and password (HTTP basic authentication).")
        self.tracker_url = url
        self.tracker_name = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.hostname or "tracker"
        self.base = url + "rest/"
        self.auth = (settings.username, settings.password)
        # Roundup's CSRF checks: Origin must be the tracker's own (scheme://host:port) and
        # X-Requested-With must be present on every change; Referer, when sent, must match too.
        self.headers = {
            "Accept": "application/json",
            "Origin": f"{parts.scheme}://{parts.netloc}",
            "Referer": url,
            "X-Requested-With": "Hub",
        }
        self.session = open_session(settings, "Roundup")

    def close(self) -> None:
        self.session.close()

    def send(self, method: str, path: str, *, stream: bool = False, **kwargs) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.session.request(
            method, self.base + path, headers=headers, auth=self.auth, stream=stream, **kwargs
        )

    def call(
        self, method: str, path: str, *, missing: ConnectorError | None = None, **kwargs
    ) -> httpx.Response:
        response = self.send(method, path, **kwargs)
        status = response.status_code
        if status < 300:
            return response
        message = error_message(response)
        if status == 404:
            raise missing or ConnectorError(f"Roundup has nothing at {path} (404).")
        if status == 412:
            raise RevisionConflict(f"The Roundup item changed since Hub read it ({message}).")
        if status == 403:
            raise ConnectorError(
                f"Roundup refused {method} {path}: the user lacks the permission ({message})."
            )
        if status == 400:
            match = PROPERTY_ERROR.search(message)
            raise ValuesNotAccepted(
                "Roundup refused the values", fields={match.group(1) if match else "issue": message}
            )
        raise ConnectorError(f"Roundup answered {status} to {method} {path}: {message}")

    def get(self, path: str, **kwargs) -> Any:
        return self.call("GET", path, **kwargs).json()["data"]

    def not_found(self, issue_id: str) -> ArtifactNotFound:
        return ArtifactNotFound(f"Roundup issue{issue_id} does not exist (or was retired).")


def error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["msg"])
    except (ValueError, KeyError, TypeError):
        return response.text[:300] or f"HTTP {response.status_code}"
