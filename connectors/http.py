"""The one HTTP layer every HTTP connector uses (httpx), so each behaves the same on the network:

- the repository's timeout; its proxy with credentials; nothing from the environment
  (``HTTP_PROXY`` and friends are ignored: the repository's settings are the only source);
- TLS verified unless the repository allows insecure connections;
- the per-repository event rate limit shared by all workers (``connectors.ratelimit``);
- ``Retry-After`` on 429 and 503: a wait of at most ``max_inline_wait`` seconds (default 5) is
  waited out here and the request sent again (once or twice); a longer one raises RateLimited /
  Overloaded carrying ``retry_after``, so the engine reschedules the work instead of holding a
  worker. Without ``Retry-After`` the error is raised at once and the engine's backoff applies;
- every failure mapped to the error hierarchy of ``connectors.errors``; redirects are not
  followed but reported (a redirect from https to http as an insecure connection, 30014E);
- each request and response logged at DEBUG (the Troubleshooting level) with credentials
  removed: authorization headers, API keys, cookies, tokens, passwords — in headers and in the
  query string. Bodies are not logged.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx

from connectors import ratelimit
from connectors.errors import (
    ArtifactLocked,
    AuthenticationExpired,
    AuthenticationFailed,
    ConnectorError,
    CredentialsRefused,
    InsecureConnectionRefused,
    InvalidSettings,
    Overloaded,
    ProxyCredentialsRefused,
    RateLimited,
    RevisionConflict,
    Transient,
    Unreachable,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.types import RepositorySettings
from hub import prometheus
from hub.ids import is_digits

logger = logging.getLogger("hub.connectors.http")
# httpx logs every request line with its full URL at INFO, query string (and so API keys) included;
# our own DEBUG lines above replace it, with secrets removed.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.INFO)

REDACTED = "[redacted]"
SECRET_NAME = re.compile(r"auth|key|token|secret|password|passwd|cookie|session|signature", re.IGNORECASE)
MAX_ATTEMPTS = 3
CHUNK = 64 * 1024


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: (REDACTED if SECRET_NAME.search(name) else value) for name, value in headers.items()}


def redact_url(url: httpx.URL) -> str:
    """The URL without userinfo and with secret-looking query values hidden."""
    params = [(k, REDACTED if SECRET_NAME.search(k) else v) for k, v in url.params.multi_items()]
    return str(url.copy_with(username=None, password=None, params=params or None))


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if is_digits(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after_or_reset(response: httpx.Response) -> float | None:
    """``Retry-After``, else ``X-RateLimit-Reset`` as a Unix time (ServiceNow, Azure DevOps)."""
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    reset = response.headers.get("X-RateLimit-Reset", "")
    return max(0.0, float(reset) - time.time()) if is_digits(reset) else None


def limited(chunks: Iterable[bytes], max_bytes: int, filename: str) -> Iterator[bytes]:
    """Pass chunks through, raising ValuesNotAccepted (naming the file) once more than
    ``max_bytes`` have gone by. For streamed uploads and downloads."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise attachment_too_large(filename, max_bytes)
        yield chunk


def default_refusal_fields(response: httpx.Response) -> dict[str, str]:
    """Field → reason from a 422 body: ``{"errors": [...]}`` (Redmine) or ``{"errors": {field: …}}``."""
    try:
        body = response.json()
    except ValueError:
        return {"request": response.text[:300] or response.reason_phrase}
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):
        return {str(k): "; ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in errors.items()}
    if isinstance(errors, list) and errors:
        return {"request": "; ".join(map(str, errors))}
    return {"request": str(body)[:300]}


class HttpSession:
    """An HTTP session to one repository. Connectors call ``request`` with paths relative to the
    repository URL and get the response back only when it succeeded (2xx/3xx)."""

    def __init__(
        self,
        settings: RepositorySettings,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_inline_wait: float = 5.0,
        refusal_fields: Callable[[httpx.Response], dict[str, str]] = default_refusal_fields,
        retry_after: Callable[[httpx.Response], float | None] | None = None,
        rate_limited: Callable[[httpx.Response], bool] | None = None,
    ):
        if not settings.url.lower().startswith(("http://", "https://")):
            raise InvalidSettings("The repository URL must start with http:// or https://.")
        self.settings = settings
        self.authenticated = False  # a request succeeded: a later 401 means the state expired
        self.max_inline_wait = max_inline_wait
        self.refusal_fields = refusal_fields
        # Tools that say "wait" in headers of their own (GitHub's x-ratelimit-reset, Jira's ISO
        # X-RateLimit-Reset) or limit with another status (GitHub's 403 secondary limit) plug in here.
        self.retry_after = retry_after or (
            lambda response: retry_after_seconds(response.headers.get("Retry-After"))
        )
        self.rate_limited = rate_limited or (lambda response: response.status_code == 429)
        proxy = None
        if settings.proxy_url:
            if not settings.proxy_url.lower().startswith(("http://", "https://")):
                raise InvalidSettings(
                    "The proxy location must be a URL such as http://proxy.example.org:3128."
                )
            proxy_auth = (
                (settings.proxy_username, settings.proxy_password) if settings.proxy_username else None
            )
            proxy = httpx.Proxy(settings.proxy_url, auth=proxy_auth)
        base_url = settings.url if settings.url.endswith("/") else settings.url + "/"
        try:
            self.client = httpx.Client(
                base_url=base_url,
                auth=auth,
                headers=headers,
                proxy=proxy,
                verify=not settings.allow_insecure,
                timeout=httpx.Timeout(settings.timeout),
                trust_env=False,
                follow_redirects=False,
                event_hooks={"request": [self._log_request], "response": [self._log_response]},
            )
        except (ValueError, httpx.InvalidURL) as error:
            raise InvalidSettings(f"The connection settings are not valid: {error}") from None

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- logging ------------------------------------------------------------------------------

    @staticmethod
    def _log_request(request: httpx.Request) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "→ %s %s headers=%s", request.method, redact_url(request.url), redact_headers(request.headers)
            )

    @staticmethod
    def _log_response(response: httpx.Response) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "← %s %s %s headers=%s",
                response.status_code,
                response.request.method,
                redact_url(response.request.url),
                redact_headers(response.headers),
            )

    # --- requests -----------------------------------------------------------------------------

    def _take_event(self) -> None:
        if self.settings.events_per_minute > 0 and self.settings.rate_limit_key:
            ratelimit.acquire(
                self.settings.rate_limit_key,
                self.settings.events_per_minute,
                max_wait=min(self.max_inline_wait, self.settings.timeout),
            )

    def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            return self.client.send(request, stream=stream)
        except httpx.ProxyError as error:
            if "407" in str(error):
                raise ProxyCredentialsRefused(
                    "The proxy did not accept Hub's proxy credentials (407)."
                ) from None
            raise Unreachable(f"The proxy could not connect to the repository: {error}") from None
        except httpx.ConnectError as error:
            if _is_certificate_failure(error):
                raise InsecureConnectionRefused(
                    f"The repository's TLS certificate could not be verified ({_reason(error)}). Install a "
                    "trusted certificate, or allow insecure connections for this repository."
                ) from None
            raise Unreachable(f"Hub could not connect to {self.settings.url}: {_reason(error)}") from None
        except httpx.TimeoutException:
            raise Unreachable(
                f"The repository did not answer within {self.settings.timeout:g} seconds."
            ) from None
        except httpx.UnsupportedProtocol as error:
            raise InvalidSettings(f"The repository URL is not usable: {error}") from None
        except httpx.TransportError as error:
            raise Transient(f"The connection to the repository failed: {_reason(error)}") from None

    def request(
        self,
        method: str,
        path: str,
        *,
        not_found: Callable[[], ConnectorError] | None = None,
        errors: Mapping[int, Callable[[httpx.Response], ConnectorError]] | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request; return the response if it succeeded (2xx), raise the mapped error if not.
        ``not_found`` makes the error for a 404 (ProjectNotFound, ArtifactNotFound, …); ``errors``
        overrides the mapping of other statuses for this call (e.g. a tool whose 403 means "not
        allowed to do this" rather than "wrong credentials")."""
        replayable = not isinstance(kwargs.get("content"), Iterator)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self._take_event()
            try:
                request = self.client.build_request(method, path, **kwargs)
            except (httpx.InvalidURL, TypeError, ValueError) as error:
                raise InvalidSettings(f"Hub could not build the request: {error}") from None
            response = self._send(request, stream=stream)
            prometheus.CONNECTOR_REQUESTS.labels(self.settings.kind, str(response.status_code)).inc()
            if response.status_code < 300 or (response.status_code == 304 and _conditional(request)):
                self.authenticated = True
                return response  # 304: "as you have it", the answer to a conditional request
            if stream:
                response.read()
                response.close()
            limited = self.rate_limited(response)
            wait = self.retry_after(response) if limited or response.status_code == 503 else None
            waits_briefly = wait is not None and wait <= self.max_inline_wait
            if (
                (limited or response.status_code == 503)
                and waits_briefly
                and replayable
                and attempt < MAX_ATTEMPTS
            ):
                logger.info("Repository asked to retry after %.1f s (HTTP %s).", wait, response.status_code)
                prometheus.RATE_LIMIT_WAITS.labels(self.settings.kind).inc()
                prometheus.RATE_LIMIT_WAIT_SECONDS.labels(self.settings.kind).inc(wait)
                time.sleep(wait)
                continue
            if limited:
                raise RateLimited(
                    f"The repository's rate limit was exceeded (HTTP {response.status_code} for "
                    f"{response.request.method} {redact_url(response.request.url)}).",
                    retry_after=wait,
                )
            if errors and response.status_code in errors:
                raise errors[response.status_code](response)
            raise self._error_for(response, wait, not_found)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def fetch(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request whose response, of any status, is the caller's to judge (the extension
        ``httpClient``); only a failure to get an answer raises. Credentials and TLS as ``request``."""
        self._take_event()
        try:
            request = self.client.build_request(method, url, **kwargs)
        except (httpx.InvalidURL, TypeError, ValueError) as error:
            raise InvalidSettings(f"Hub could not build the request: {error}") from None
        response = self._send(request, stream=False)
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"The repository answered {path} with something that is not JSON "
                f"({response.headers.get('content-type', 'no content type')})."
            ) from None

    def download(
        self,
        path: str,
        *,
        filename: str,
        max_bytes: int,
        not_found: Callable[[], ConnectorError] | None = None,
    ) -> Iterator[bytes]:
        """Stream a file. Refuses at once when the announced length is over ``max_bytes``, and
        stops as soon as more than that arrives."""
        response = self.request("GET", path, stream=True, not_found=not_found)
        length = response.headers.get("Content-Length")
        if length and is_digits(length) and int(length) > max_bytes:
            response.close()
            raise attachment_too_large(filename, max_bytes)

        def chunks() -> Iterator[bytes]:
            try:
                yield from limited(response.iter_bytes(CHUNK), max_bytes, filename)
            except httpx.TransportError as error:
                raise Transient(f"The download of {filename} broke off: {_reason(error)}") from None
            finally:
                response.close()

        return chunks()

    def _error_for(
        self, response: httpx.Response, wait: float | None, not_found: Callable[[], ConnectorError] | None
    ) -> ConnectorError:
        status = response.status_code
        what = f"HTTP {status} for {response.request.method} {redact_url(response.request.url)}"
        if status < 400:
            # Redirects are not followed: a wrong base URL often leads to a login page, and
            # https → http would send credentials in clear text.
            location = response.headers.get("Location", "")
            if response.request.url.scheme == "https" and location.lower().startswith("http://"):
                return InsecureConnectionRefused(
                    f"The repository redirected Hub from https to an insecure address ({what}).",
                    code="CCRRTT-30014E",
                )
            return InvalidSettings(
                f"The repository answered with a redirect to {location or 'another address'} ({what}); "
                "check the repository URL."
            )
        if status == 401 and self.authenticated:
            return AuthenticationExpired(
                f"The repository no longer accepts the authentication it accepted earlier ({what}); "
                "Hub authenticates again when it retries. If this persists, check the repository's "
                "credentials."
            )
        if status in (401, 403):
            return CredentialsRefused(f"The repository refused Hub's credentials ({what}).")
        if status == 407:
            return ProxyCredentialsRefused(f"The proxy did not accept Hub's proxy credentials ({what}).")
        if status == 404:
            return (
                not_found() if not_found else ConnectorError(f"The repository has no such resource ({what}).")
            )
        if status in (409, 412):
            return RevisionConflict(f"The artifact changed since Hub read it ({what}).")
        if status == 423:
            return ArtifactLocked(f"The artifact is locked ({what}).")
        if status == 422:
            return ValuesNotAccepted(
                "The repository refused the values", fields=self.refusal_fields(response)
            )
        if status == 429:
            return RateLimited(f"The repository's rate limit was exceeded ({what}).", retry_after=wait)
        if status == 503:
            return Overloaded(f"The repository is overloaded ({what}).", retry_after=wait)
        if status >= 500:
            return Transient(f"The repository failed to answer ({what}).")
        return ConnectorError(f"The repository refused the request ({what}): {response.text[:300]}")


def identity(response: httpx.Response, *path: str, required: str = "") -> dict:
    """The user an authentication check ("who am I") answered with: the JSON object at ``path``
    in the body, holding ``required``. Anything else is CCRRTT-1107E, naming what came back."""
    what = response.headers.get("content-type", "no content type").split(";")[0]
    try:
        user = response.json()
        for key in path:
            user = user[key]
    except (ValueError, KeyError, TypeError, IndexError):
        user = None
    if not isinstance(user, dict) or (required and not user.get(required)):
        raise AuthenticationFailed(
            f"Authentication failed: the repository answered {response.request.url.path} with {what} "
            "that names no user (a single sign-on page or a proxy in front of the tool?)."
        )
    return user


def server_time(response: httpx.Response) -> dt.datetime | None:
    """The tool's clock from the response's ``Date`` header (for ``ChangePage.server_time``)."""
    try:
        return email.utils.parsedate_to_datetime(response.headers["Date"]).astimezone(dt.UTC)
    except (KeyError, TypeError, ValueError):
        return None


def _conditional(request: httpx.Request) -> bool:
    return "If-None-Match" in request.headers or "If-Modified-Since" in request.headers


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__


def _is_certificate_failure(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
