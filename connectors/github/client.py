"""GitHub's REST API as Hub's GitHub connector uses it: the token, GitHub's answers turned into SDK
errors, its rate limits, conditional requests, and the pacing of content-creating requests.

- **Rate limits.** GitHub refuses with 403 *or* 429 when the primary limit is used up
  (``x-ratelimit-remaining: 0``; wait until ``x-ratelimit-reset``, a UTC epoch) and for its
  secondary limits (a message, sometimes ``retry-after``; otherwise wait at least a minute). Both are
  rate limits, not refused credentials.
- **Conditional requests.** Every GET remembers the answer's ETag; asking again with
  ``If-None-Match`` gets a 304 that does not count against the primary limit. ETags differ per
  token, so the cache is keyed by a digest of the token (never the token itself), and a 304
  replays the remembered body: the caller sees exactly what a 200 would have said.
- **Pacing.** GitHub allows about 80 content-creating requests a minute and 500 an hour per
  token. Creates and comments take a token from a bucket shared by every worker (the event rate
  bucket of ``connectors.ratelimit``, keyed by the token's digest) holding 80, refilled at 420 an
  hour, so no hour sends more than 500; a wait longer than a few seconds hands the work back to the
  engine (1115I, retried later) instead of tripping GitHub's limit.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

import httpx

from connectors import ratelimit
from connectors.cloud import CloudClient, NotPermitted
from connectors.errors import ConnectorError, InvalidSettings, ValuesNotAccepted
from connectors.http import retry_after_seconds
from connectors.types import RepositorySettings
from hub.ids import is_digits

DEFAULT_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100  # GitHub's maximum
CONTENT_BURST = 80  # content-creating requests a minute
CONTENT_PER_HOUR = 500
SECONDARY_WAIT = 60.0  # a secondary limit without retry-after: wait at least a minute
CACHE_SIZE = 1024


def is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    if response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers:
        return True
    return "rate limit" in response.text.lower()


def wait_seconds(response: httpx.Response) -> float | None:
    """``retry-after`` first; then the primary reset (epoch) when none remain; then a minute for a
    secondary limit; nothing for a bare 429 (the engine's backoff applies)."""
    wait = retry_after_seconds(response.headers.get("retry-after"))
    if wait is not None:
        return wait
    reset = response.headers.get("x-ratelimit-reset", "")
    if response.headers.get("x-ratelimit-remaining") == "0" and is_digits(reset):
        return max(0.0, float(reset) - time.time())
    if response.status_code == 403:
        return SECONDARY_WAIT
    return None


def refused_fields(response: httpx.Response) -> dict[str, str]:
    """422 "Validation Failed" names fields in ``errors: [{resource, field, code}]``."""
    try:
        body = response.json()
    except ValueError:
        return {"request": response.text[:300]}
    fields = {}
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            name = error.get("field") or "request"
            reason = error.get("message") or error.get("code") or "invalid"
            fields[name] = f"{fields[name]}; {reason}" if name in fields else reason
        else:
            fields["request"] = str(error)
    return fields or {"request": body.get("message") or "refused"}


class ConditionalCache:
    """ETag → body of GET answers, per token digest and URL, for this process (bounded)."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self.entries: OrderedDict[tuple[str, str], tuple[str, Any, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str]):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], etag: str, body: Any, link: str) -> None:
        with self.lock:
            self.entries[key] = (etag, body, link)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


CACHE = ConditionalCache()


class GitHubClient(CloudClient):
    tool = "GitHub"
    refused_statuses = ()  # GitHub refuses values with 422 (HttpSession's, named by refusal_fields)

    def __init__(self, settings: RepositorySettings):
        if not settings.token:
            raise InvalidSettings("GitHub needs an access token (a personal access token or an app token).")
        self.base = (settings.url or DEFAULT_URL).rstrip("/")
        self.fingerprint = hashlib.sha256(settings.token.encode()).hexdigest()[:24]
        super().__init__(
            settings,
            headers={
                "Authorization": f"Bearer {settings.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            retry_after=wait_seconds,
            rate_limited=is_rate_limited,
        )

    def refusal_fields(self, response: httpx.Response) -> dict[str, str]:
        return refused_fields(response)

    def call(
        self, method: str, path: str, *, missing: ConnectorError | None = None, **kwargs
    ) -> httpx.Response:
        """A deleted issue answers 410 Gone: ``missing`` too."""
        gone = {410: lambda response: missing} if missing is not None else {}
        return super().call(method, path, missing=missing, refused=gone, **kwargs)

    def get(
        self, path: str, *, params: dict | None = None, missing: ConnectorError | None = None
    ) -> tuple[Any, str]:
        """The JSON body and the ``Link`` header of a GET, asked conditionally (unlike the other
        tools' ``get``, which returns the body alone: GitHub's callers page by the header)."""
        url = str(self.http.client.build_request("GET", self.url(path), params=params).url)
        key = (self.fingerprint, url)
        cached = CACHE.get(key)
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = self.call("GET", path, params=params, missing=missing, headers=headers)
        if response.status_code == 304 and cached:
            return cached[1], cached[2]
        try:
            body = response.json()
        except ValueError:
            raise ConnectorError(f"GitHub answered {path} with something that is not JSON.") from None
        link = response.headers.get("Link", "")
        if response.headers.get("ETag"):
            CACHE.put(key, response.headers["ETag"], body, link)
        return body, link

    def page(self, path: str, params) -> tuple[Any, str]:
        return self.get(path, params=dict(params))

    def create(self, method: str, path: str, **kwargs) -> Any:
        """A content-creating request (new issue, new comment), paced per token."""
        if ratelimit_available():
            ratelimit.acquire(
                f"github-content:{self.fingerprint}",
                (CONTENT_PER_HOUR - CONTENT_BURST) / 60.0,
                capacity=CONTENT_BURST,
                max_wait=min(self.http.max_inline_wait, self.settings.timeout),
            )
        return self.call(method, path, **kwargs).json()

    def pages(self, path: str, params: dict | None = None, limit: int = 100):
        """Every row of a listing, following ``rel="next"`` (at most ``limit`` pages)."""
        return self.link_pages(path, params or {}, per_page=PER_PAGE, limit=limit)


def ratelimit_available() -> bool:
    """The pacing bucket lives in Hub's database; without Django (a plain script) there is none."""
    try:
        from django.conf import settings

        return settings.configured
    except ImportError:  # pragma: no cover - Hub always has Django
        return False


__all__ = ["CACHE", "GitHubClient", "NotPermitted", "ValuesNotAccepted"]
