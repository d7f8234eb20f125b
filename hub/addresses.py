"""The addresses Hub is given — repository, proxy and database URLs, the mail server's host — are
checked here, by one set of rules, wherever they come from (screen, API, import).

A credential never belongs in an address: an address is shown on pages, in history, in logs and in
exports, while passwords and tokens have their own write-only, encrypted fields. So user info with
a password (``http://user:secret@host/``) is refused with a message pointing at those fields, and
``redact`` masks anything that still looks like one on its way out (logs, history, responses).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

HTTP = ("http", "https")
REPOSITORY_SCHEMES = (*HTTP, "local")  # local:// names one of Hub's built-in trackers
PROXY_SCHEMES = (*HTTP, "socks5")
MASK = "••••••"

# scheme://user:password@ — what a credential in a URL looks like, inside any text.
_CREDENTIALS = re.compile(r"(?P<start>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@'\"<>]*:)[^\s/@'\"<>]+@")
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?")


def _is_host_name(host: str) -> bool:
    try:
        ascii_host = host.encode("idna").decode("ascii")  # internationalised names as DNS has them
    except UnicodeError:
        return False
    return bool(_HOST_NAME.fullmatch(ascii_host))


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it masked."""
    if "@" not in text:
        return text
    return _CREDENTIALS.sub(lambda m: f"{m.group('start')}{MASK}@", text)


def _unprintable(value: str) -> bool:
    return any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value)


def check_url(value: object, *, schemes: tuple[str, ...], credentials_field: str) -> None:
    """Refuse what is not a URL of one of ``schemes`` with a host, or that carries user info.
    ``credentials_field`` names where the user name and password go instead."""
    if not isinstance(value, str):
        raise ValidationError("A URL is text.", code="invalid")
    if _unprintable(value):
        raise ValidationError("A URL has no spaces, line breaks or control characters.", code="invalid")
    shown = ", ".join(f"{scheme}://" for scheme in schemes)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValidationError(f"“{redact(value)}” is not a URL.", code="invalid") from None
    if parts.scheme.lower() not in schemes or not value.lower().startswith(f"{parts.scheme.lower()}://"):
        raise ValidationError(f"The URL must start with {shown}.", code="scheme")
    if "@" in parts.netloc:
        raise ValidationError(
            f"Leave the user name and password out of the URL and enter them in {credentials_field}.",
            code="credentials",
        )
    if parts.scheme.lower() == "local":
        return  # the local connector checks the tracker name itself
    host = parts.hostname or ""
    if not host or not (_is_host_name(host) or _is_ip_literal(parts.netloc)):
        raise ValidationError(f"“{value}” names no host Hub can reach.", code="host")
    if port == 0:
        raise ValidationError("The port of a URL is from 1 to 65535.", code="invalid")


def _is_ip_literal(netloc: str) -> bool:
    import ipaddress

    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        host = host[1 : host.find("]")]
    else:
        host = host.rsplit(":", 1)[0]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_database_url(value: object) -> None:
    """A database URL Hub understands, without a password (that has its own field)."""
    import dj_database_url

    if not isinstance(value, str) or _unprintable(value):
        raise ValidationError("A database URL is text without spaces or control characters.", code="invalid")
    try:
        parsed = dj_database_url.parse(value)
    except (ValueError, KeyError) as error:
        message = f"Not a database URL Hub understands: {redact(str(error))}"
        raise ValidationError(message, code="invalid") from None
    if parsed.get("PASSWORD"):
        raise ValidationError(
            "Leave the password out of the URL and enter it in the password field.", code="credentials"
        )


def check_host_name(value: object, *, credentials_field: str) -> None:
    """A bare host name or IP address (a mail server's): no scheme, no user info, no path."""
    if not isinstance(value, str) or _unprintable(value):
        raise ValidationError("A host name is text without spaces or control characters.", code="invalid")
    if "@" in value:
        raise ValidationError(
            f"Leave the user name and password out of the host and enter them in {credentials_field}.",
            code="credentials",
        )
    if not (_is_host_name(value) or _is_ip_literal(value)):
        raise ValidationError(f"“{value}” is not a host name.", code="host")


class RedactCredentialsMiddleware:
    """The last guard on the way out: a page or JSON answer never carries ``user:password@`` in a
    URL, whatever put it there (a value stored before URLs were checked, a tool's own data)."""

    TEXT_TYPES = ("text/html", "application/json", "text/plain")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith(self.TEXT_TYPES):
            return response
        charset = response.charset or "utf-8"
        try:
            text = response.content.decode(charset)
        except UnicodeDecodeError:
            return response
        if "@" in text:
            cleaned = redact(text)
            if cleaned != text:
                response.content = cleaned.encode(charset)
                if response.has_header("Content-Length"):
                    response["Content-Length"] = str(len(response.content))
        return response
