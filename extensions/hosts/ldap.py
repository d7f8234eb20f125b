"""``ldap.connect`` / ``ldap.search`` / ``ldap.escape`` on ldap3, for LDAP and Active Directory.

Scripts never close connections: Hub keeps one bound connection per (URL, principal, password) in
each process and reuses it; one that broke is opened again once. A connection or bind failure is
CCRRTT-1004E, a failure while searching CCRRTT-1005E; both fail the artifact's activity.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading

import ldap3
from ldap3.core import exceptions as ldap_errors
from ldap3.protocol.formatters.formatters import format_sid, format_uuid_le

from extensions.errors import HostFailed
from extensions.runtime import HostError

MAX_RESULTS = 1024
CONNECT_TIMEOUT = 10
RECEIVE_TIMEOUT = 30
_pool: dict[tuple[str, str, str], ldap3.Connection] = {}
_lock = threading.Lock()


def _key(connection: dict) -> tuple[str, str, str]:
    password = hashlib.sha256(str(connection.get("password", "")).encode()).hexdigest()
    return str(connection.get("url", "")), str(connection.get("principal", "")), password


def _open(connection: dict) -> ldap3.Connection:
    url = str(connection.get("url") or "")
    if not url.lower().startswith(("ldap://", "ldaps://")):
        raise HostError("HostException", f"ldap.connect needs an ldap:// or ldaps:// URL, not {url!r}.")
    try:
        server = ldap3.Server(url, connect_timeout=CONNECT_TIMEOUT, get_info=ldap3.NONE)
        bound = ldap3.Connection(
            server,
            user=connection.get("principal") or None,
            password=connection.get("password") or None,
            receive_timeout=RECEIVE_TIMEOUT,
            raise_exceptions=True,
            read_only=True,
        )
        bound.bind()
    except ldap_errors.LDAPException as error:
        raise HostFailed(
            f"Hub could not connect to the LDAP server {url} as {connection.get('principal')!r}: "
            f"{type(error).__name__}: {error}",
            code="CCRRTT-1004E",
        ) from None
    return bound


def _connection(connection: dict, fresh: bool = False) -> ldap3.Connection:
    key = _key(connection)
    with _lock:
        found = _pool.get(key)
        if found is not None and not fresh and found.bound and not found.closed:
            return found
        if found is not None:
            _pool.pop(key, None)
            with contextlib.suppress(ldap_errors.LDAPException):
                found.unbind()
    opened = _open(connection)
    with _lock:
        _pool[key] = opened
    return opened


# Active Directory's binary identifiers, given to scripts as AD's own tools print them.
BINARY_TEXT = {"objectguid": format_uuid_le, "objectsid": format_sid}
PAGE_SIZE = 500  # below AD's MaxPageSize (1,000), the most entries it sends in one answer
PAGED_RESULTS = "1.2.840.113556.1.4.319"  # RFC 2696 simple paged results
SIZE_LIMIT_EXCEEDED = 4


def _text(name: str, value) -> str:
    if not isinstance(value, bytes):
        return str(value)
    readable = BINARY_TEXT.get(name.lower())
    if readable is not None:
        with contextlib.suppress(ValueError, TypeError, IndexError):
            return readable(value)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii")  # other binary values (photos, certificates)


def _value(name: str, values):
    if isinstance(values, list):
        values = [_text(name, v) for v in values]
        return values[0] if len(values) == 1 else values
    return _text(name, values)


def _entries(bound: ldap3.Connection, connection: dict, base: str, query: str, attributes) -> list[dict]:
    """Every matching entry, page by page: Active Directory answers at most 1,000 entries to a
    search that does not page (and says so with sizeLimitExceeded, which ldap3 does not raise).
    More than MAX_RESULTS entries fail the search instead of being cut silently."""
    entries: list[dict] = []
    cookie = None
    while True:
        bound.search(base, query, attributes=attributes, paged_size=PAGE_SIZE, paged_cookie=cookie)
        entries += [e for e in bound.response or [] if e.get("type") == "searchResEntry"]
        control = ((bound.result or {}).get("controls") or {}).get(PAGED_RESULTS) or {}
        cookie = (control.get("value") or {}).get("cookie")
        if len(entries) > MAX_RESULTS:
            if cookie:  # tell the server to drop the rest of the search
                with contextlib.suppress(ldap_errors.LDAPException):
                    bound.search(base, query, attributes=["1.1"], paged_size=0, paged_cookie=cookie)
            raise HostFailed(
                f"The LDAP search in {base!r} for {query} matches more than {MAX_RESULTS:,} entries; "
                "narrow the filter.",
                code="CCRRTT-1005E",
            )
        if (bound.result or {}).get("result") == SIZE_LIMIT_EXCEEDED:
            raise HostFailed(
                f"The LDAP server {connection.get('url')} stopped the search in {base!r} for {query} "
                f"at its size limit ({len(entries):,} entries); narrow the filter.",
                code="CCRRTT-1005E",
            )
        if not cookie:
            return entries


def search(connection: dict, base: str, query: str, fields) -> list[dict]:
    query = query.strip()
    if not query.startswith("("):
        query = f"({query})"
    attributes = [str(f) for f in fields] if fields else ldap3.ALL_ATTRIBUTES
    for attempt in (1, 2):
        bound = _connection(connection, fresh=attempt == 2)
        try:
            entries = _entries(bound, connection, base, query, attributes)
            break
        except ldap_errors.LDAPInvalidFilterError as error:
            raise HostError("HostException", f"The LDAP filter {query!r} is not valid: {error}") from None
        except (
            ldap_errors.LDAPSocketOpenError,
            ldap_errors.LDAPSocketReceiveError,
            ldap_errors.LDAPSocketSendError,
            ldap_errors.LDAPSessionTerminatedByServerError,
        ):
            if attempt == 2:
                raise HostFailed(
                    f"The LDAP server {connection.get('url')} broke off the search.", code="CCRRTT-1005E"
                ) from None
        except ldap_errors.LDAPNoSuchObjectResult:
            return []
        except ldap_errors.LDAPException as error:
            raise HostFailed(
                f"The LDAP search in {base!r} failed: {type(error).__name__}: {error}", code="CCRRTT-1005E"
            ) from None
    results = []
    for entry in entries:
        item = {"dn": entry.get("dn", "")}
        for name, values in (entry.get("raw_attributes") or {}).items():
            if values not in ([], None):  # ldap3 lists a requested attribute the entry lacks as []
                item[name] = _value(name, values)
        results.append(item)
    return results


def close_all() -> None:
    with _lock:
        connections = list(_pool.values())
        _pool.clear()
    for each in connections:
        with contextlib.suppress(ldap_errors.LDAPException):
            each.unbind()
