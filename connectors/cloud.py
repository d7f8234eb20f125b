"""What the cloud tools' connectors (Jira, GitHub, GitLab, Azure DevOps, ServiceNow) share on top
of ``connectors/http.py``: one client per repository that builds the ``HttpSession`` with the
tool's credentials, maps the tool's refusals to SDK errors, and pages listings.

Each tool gives what differs: its name (for messages), how its refusals name fields
(``refusal_fields``), how it says when to come back (``retry_after``), which statuses mean
"these values are refused" (``refused_statuses``) and whether a 403 means "not allowed to do
this" (``NotPermitted``) or something of its own. Everything else — not found, rate limits,
retries, timeouts, the shared rate limit — is ``HttpSession``'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from connectors.errors import ConnectorError, ValuesNotAccepted
from connectors.http import HttpSession, default_refusal_fields, retry_after_seconds
from connectors.types import RepositorySettings
from hub.ids import is_digits

Refusal = Callable[[httpx.Response], ConnectorError]


class NotPermitted(ConnectorError):
    """The credentials are valid but their user may not do this (403)."""


def wait_seconds_or_epoch(response: httpx.Response, reset_header: str) -> float | None:
    """``Retry-After`` when sent, else ``reset_header`` as a Unix time; ``None`` for neither (the
    engine's backoff applies)."""
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    reset = response.headers.get(reset_header, "")
    return max(0.0, float(reset) - time.time()) if is_digits(reset) else None


class CloudClient:
    """A cloud tool's REST API for one repository's settings."""

    tool = "The tool"  # as messages name it
    permission_hint = "the token lacks the permission"
    refused_statuses: tuple[int, ...] = (400,)
    # What a 403 means: "permission" (NotPermitted), "values" (a refusal naming them: ServiceNow's
    # data policies), or "" (HttpSession's: the credentials are refused).
    forbidden = "permission"

    def __init__(
        self,
        settings: RepositorySettings,
        *,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: Callable[[httpx.Response], float | None] | None = None,
        rate_limited: Callable[[httpx.Response], bool] | None = None,
    ):
        self.settings = settings
        self.http = HttpSession(
            settings,
            auth=auth,
            headers={"Accept": "application/json", **(headers or {})},
            refusal_fields=self.refusal_fields,
            retry_after=retry_after,
            rate_limited=rate_limited,
        )
        self.requests = 0  # sent by this client (for the benchmarks)

    def close(self) -> None:
        self.http.close()

    def refusal_fields(self, response: httpx.Response) -> dict[str, str]:
        """The fields a refusal names, in the tool's own error format."""
        return default_refusal_fields(response)

    def refused(self, response: httpx.Response) -> ConnectorError:
        return ValuesNotAccepted(f"{self.tool} refused the values", fields=self.refusal_fields(response))

    def errors(self, method: str, path: str) -> dict[int, Refusal]:
        def not_permitted(response: httpx.Response) -> ConnectorError:
            return NotPermitted(f"{self.tool} refused {method} {path}: {self.permission_hint} (403).")

        mapped: dict[int, Refusal] = dict.fromkeys(self.refused_statuses, self.refused)
        if self.forbidden:
            mapped[403] = not_permitted if self.forbidden == "permission" else self.refused
        return mapped

    def url(self, path: str) -> str:
        """``path`` relative to the repository's URL (an absolute URL stays as it is)."""
        return path if "://" in path else path.lstrip("/")

    def call(
        self,
        method: str,
        path: str,
        *,
        missing: ConnectorError | None = None,
        refused: Mapping[int, Refusal] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request; 404 is ``missing`` (when given), the tool's refusals are SDK errors,
        ``refused`` maps further statuses for this call."""
        self.requests += 1
        return self.http.request(
            method,
            self.url(path),
            not_found=(lambda: missing) if missing else None,
            errors={**self.errors(method, path), **(refused or {})},
            **kwargs,
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs).json()

    def link_pages(self, path: str, params: Mapping[str, Any], *, per_page: int, limit: int) -> Iterator[Any]:
        """Every row of an offset-paged listing that says ``rel="next"`` in its ``Link`` header (at
        most ``limit`` pages; the totals some tools send are never needed)."""
        params = {**params, "per_page": per_page}
        for page in range(1, limit + 1):
            rows, link = self.page(path, {**params, "page": page})
            yield from rows
            if 'rel="next"' not in link:
                return

    def page(self, path: str, params: Mapping[str, Any]) -> tuple[Any, str]:
        """One page: its rows and its ``Link`` header."""
        response = self.call("GET", path, params=params)
        return response.json(), response.headers.get("Link", "")
