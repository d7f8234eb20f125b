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
    ValuesNotAccepted,
)
from connectors.http import HttpSession, server_time  # noqa: F401 - server_time re-exported
from connectors.redmine.client import NotPermitted
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
        self.username = settings.username
        # Roundup's CSRF checks on every change: Origin must be the tracker's own (scheme://host:port)
        # or one of its allowed_api_origins, and X-Requested-With must be present; Referer, when
        # sent, must match too. Reads go without them: Roundup checks an Origin whenever one is sent,
        # and reading needs none.
        self.csrf_headers = {
            "Origin": f"{parts.scheme}://{parts.netloc}",
            "Referer": url,
            "X-Requested-With": "Hub",
        }
        headers = {"Accept": "application/json"}
        self.http = HttpSession(settings, auth=(settings.username, settings.password), headers=headers)

    def close(self) -> None:
        self.http.close()

    def call(
        self, method: str, path: str, *, missing: ConnectorError | None = None, **kwargs
    ) -> httpx.Response:
        """404 raises ``missing``; 400 ValuesNotAccepted naming the property Roundup names; 403
        NotPermitted; 409 (Roundup's answer when it fails to apply a change) a plain error."""

        def refused(response: httpx.Response) -> ConnectorError:
            message = error_message(response)
            if "not allowed to use Rest" in message or "Required Header Missing" in message:
                return InvalidSettings(
                    f"The Roundup tracker refused Hub's request as cross-site ({message}). The location in "
                    "Hub must be the tracker's own web address ([tracker] web in its config.ini), or the "
                    "tracker must list Hub's origin in allowed_api_origins."
                )
            match = PROPERTY_ERROR.search(message)
            return ValuesNotAccepted(
                "Roundup refused the values", fields={match.group(1) if match else "issue": message}
            )

        def not_permitted(response: httpx.Response) -> ConnectorError:
            return NotPermitted(f"Roundup refused {method} {path}: {error_message(response)} (403).")

        def failed(response: httpx.Response) -> ConnectorError:
            return ConnectorError(f"Roundup could not apply {method} {path}: {error_message(response)}")

        if method != "GET":
            kwargs["headers"] = {**self.csrf_headers, **kwargs.get("headers", {})}
        return self.http.request(
            method,
            "rest/" + path,
            not_found=(lambda: missing) if missing else None,
            errors={400: refused, 403: not_permitted, 409: failed},
            **kwargs,
        )

    def get(self, path: str, **kwargs) -> Any:
        return self.call("GET", path, **kwargs).json()["data"]

    def not_found(self, issue_id: str) -> ArtifactNotFound:
        return ArtifactNotFound(f"Roundup issue{issue_id} does not exist (or was retired).")


def error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["msg"])
    except (ValueError, KeyError, TypeError):
        return response.text[:300] or f"HTTP {response.status_code}"
