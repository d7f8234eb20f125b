"""GitLab's REST API v4 as Hub's GitLab connector uses it: the token, GitLab's answers turned into
SDK errors (its 400s name fields), and its rate limits (``Retry-After``, else ``RateLimit-Reset``,
a Unix time; GitLab.com often answers a bare 429 with neither, and then the engine's backoff
applies)."""

from __future__ import annotations

import dataclasses
import re

import httpx

from connectors.cloud import CloudClient, NotPermitted, wait_seconds_or_epoch
from connectors.errors import InvalidSettings
from connectors.types import RepositorySettings

DEFAULT_URL = "https://gitlab.com"
PER_PAGE = 100


def wait_seconds(response: httpx.Response) -> float | None:
    return wait_seconds_or_epoch(response, "RateLimit-Reset")


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


class GitLabClient(CloudClient):
    tool = "GitLab"

    def __init__(self, settings: RepositorySettings):
        if not settings.token:
            raise InvalidSettings("GitLab needs an access token (a personal, project or group access token).")
        self.base = (settings.url or DEFAULT_URL).rstrip("/")
        super().__init__(
            dataclasses.replace(settings, url=self.base + "/api/v4"),
            headers={"PRIVATE-TOKEN": settings.token},
            retry_after=wait_seconds,
        )
        self.settings = settings

    def refusal_fields(self, response: httpx.Response) -> dict[str, str]:
        return refused_fields(response)

    def pages(self, path: str, params: dict | None = None, limit: int = 100):
        """Every row of an offset-paged listing, following ``rel="next"`` (never the totals, which
        GitLab leaves out above 10,000 rows)."""
        return self.link_pages(path, params or {}, per_page=PER_PAGE, limit=limit)


__all__ = ["GitLabClient", "NotPermitted"]
