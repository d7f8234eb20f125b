"""Stand-in for ``connectors.http`` until it lands on the ``connectors`` branch: one httpx client
per connector with timeouts, proxy, TLS verification and the httpx error → SDK error mapping.
Both the Redmine and Roundup clients call only ``open_session`` and ``Session.request``."""

from __future__ import annotations

import datetime as dt
import email.utils
import ssl
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from connectors.errors import (
    ConnectorError,
    CredentialsRefused,
    InsecureConnectionRefused,
    Overloaded,
    ProxyCredentialsRefused,
    RateLimited,
    Transient,
    Unreachable,
)
from connectors.types import RepositorySettings


def _proxy(settings: RepositorySettings) -> str | None:
    if not settings.proxy_url:
        return None
    parts = urlsplit(settings.proxy_url)
    if settings.proxy_username:
        auth = f"{quote(settings.proxy_username, safe='')}:{quote(settings.proxy_password, safe='')}"
        parts = parts._replace(netloc=f"{auth}@{parts.hostname}:{parts.port or 80}")
    return urlunsplit(parts)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


class Session:
    def __init__(self, settings: RepositorySettings, label: str):
        self.label = label
        self.client = httpx.Client(
            timeout=settings.timeout,
            verify=not settings.allow_insecure,
            proxy=_proxy(settings),
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, *, stream: bool = False, **kwargs) -> httpx.Response:
        try:
            if stream:
                auth = kwargs.pop("auth", None)
                request = self.client.build_request(method, url, **kwargs)
                response = self.client.send(request, stream=True, auth=auth)
            else:
                response = self.client.request(method, url, **kwargs)
        except httpx.ConnectError as error:
            if isinstance(error.__context__, ssl.SSLError) or "CERTIFICATE" in str(error).upper():
                raise InsecureConnectionRefused(
                    f"The {self.label} server's certificate could not be verified ({error})."
                ) from None
            raise Unreachable(f"{self.label} could not be reached at {url}: {error}") from None
        except httpx.TimeoutException as error:
            raise Unreachable(f"{self.label} did not answer in time ({type(error).__name__}).") from None
        except httpx.TransportError as error:
            raise Transient(f"The connection to {self.label} failed: {error}") from None
        status = response.status_code
        if status == 401:
            raise CredentialsRefused(f"{self.label} did not accept the credentials.")
        if status == 407:
            raise ProxyCredentialsRefused("The proxy did not accept the proxy credentials.")
        if status == 429:
            raise RateLimited(f"{self.label} rate limit reached.", retry_after=_retry_after(response))
        if status == 503:
            raise Overloaded(f"{self.label} is overloaded (503).", retry_after=_retry_after(response))
        if status >= 500:
            raise Transient(f"{self.label} answered {status} to {method} {urlsplit(url).path}.")
        return response


def open_session(settings: RepositorySettings, label: str) -> Session:
    if not urlsplit(settings.url).scheme.startswith("http"):
        raise ConnectorError(f"{label} needs an http(s) URL, not {settings.url!r}.", code="CCRRTT-61103E")
    return Session(settings, label)


def server_time(response: httpx.Response) -> dt.datetime | None:
    """The server's clock from the Date header, when the server sends one."""
    date = response.headers.get("Date")
    return email.utils.parsedate_to_datetime(date).astimezone(dt.UTC) if date else None
