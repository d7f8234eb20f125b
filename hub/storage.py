"""Storage Settings: which operational database Hub uses, how it connects, and the backoff after a
failed connection (docs/operations.md, "Storage settings and database transfer").

The connection settings an administrator saves with a database transfer live in
``HUB_HOME/database.json``: kind, location (URL), username, TLS options, backoff interval and the
password *sealed* — encrypted under the vault's data key, with a copy of the wrapped data key beside
it, so the file alone, like the database alone, reveals nothing; the master password file unseals
it (``hub.vault``). The file wins over ``hub.database.url``. It is read when settings load, without
the ORM, so this module imports nothing of Django's that needs configured settings.

Backoff: after a failed connection to an external database (a wrong password where the database
locks accounts), every process of this instance refuses to connect until the interval has passed,
without touching the server; the state is a small file in ``HUB_HOME/run`` shared by all of them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from hub import jsonload

log = logging.getLogger("hub.storage")
FILE_NAME = "database.json"
BACKOFF_FILE = "database-backoff.json"
PASSWORD_CONTEXT = "hub.database.password"  # noqa: S105 — the vault context, not a password
DEFAULT_BACKOFF_SECONDS = 3600.0
UNREADABLE_CODE = "CCRRTT-30020E"
INVALID_CODE = "CCRRTT-30010E"
UNREACHABLE_CODE = "CCRRTT-30009E"
LOCKED_CODE = "CCRRTT-30011E"

UNITS = {"hours": 3600.0, "minutes": 60.0, "seconds": 1.0, "milliseconds": 0.001}


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    schemes: tuple[str, ...]
    engine: str
    driver_module: str
    example: str
    tls_help: str
    tls_options: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (option, label, choices)


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            "postgresql",
            "PostgreSQL",
            ("postgres", "postgresql"),
            "django.db.backends.postgresql",
            "psycopg2",
            "postgres://db.example.com:5432/hub",
            "sslmode=verify-full checks the server's certificate and name (give the CA file as sslrootcert); "
            "require encrypts without checking. The server must offer TLS 1.2 or later.",
            (
                ("sslmode", "sslmode", ("", "disable", "prefer", "require", "verify-ca", "verify-full")),
                ("sslrootcert", "CA certificate file (sslrootcert)", ()),
            ),
        ),
        Kind(
            "mysql",
            "MySQL / MariaDB",
            ("mysql", "mariadb"),
            "django.db.backends.mysql",
            "MySQLdb",
            "mysql://db.example.com:3306/hub",
            "ssl_mode=VERIFY_IDENTITY checks the server's certificate and name (give the CA file); REQUIRED "
            "encrypts without checking. The server must offer TLS 1.2 or later.",
            (
                (
                    "ssl_mode",
                    "ssl_mode",
                    ("", "DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"),
                ),
                ("ssl_ca", "CA certificate file (ssl ca)", ()),
            ),
        ),
        Kind(
            "oracle",
            "Oracle",
            ("oracle",),
            "django.db.backends.oracle",
            "oracledb",
            "oracle://db.example.com:1521/HUBPDB",
            "TLS with Oracle is TCPS, usually on port 2484: choose protocol tcps and give the port in the "
            "location. The listener must offer TLS 1.2 or later.",
            (("protocol", "Protocol", ("", "tcp", "tcps")),),
        ),
        Kind(
            "mssql",
            "SQL Server",
            ("mssql",),
            "mssql",
            "pyodbc",
            "mssql://db.example.com:1433/hub",
            "SQL Server authentication only (no Windows authentication). Encrypt=yes with "
            "TrustServerCertificate=no checks the server's certificate. TLS 1.2 or later.",
            (
                ("Encrypt", "Encrypt", ("", "yes", "no", "strict")),
                ("TrustServerCertificate", "TrustServerCertificate", ("", "no", "yes")),
            ),
        ),
    )
}
ODBC_DRIVER = "ODBC Driver 18 for SQL Server"


class StorageError(Exception):
    """Storage settings cannot be used; ``code`` is the catalog code, the message never has a secret."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def driver_problem(kind_key: str) -> str | None:
    """Why this kind's Python driver (and ODBC driver for SQL Server) is missing, or ``None``."""
    kind = KINDS[kind_key]
    if importlib.util.find_spec(kind.driver_module) is None:
        return f"The Python driver for {kind.label} ({kind.driver_module}) is not installed."
    if kind.key == "mssql":
        import pyodbc

        if not any("SQL Server" in name for name in pyodbc.drivers()):
            return f"SQL Server needs Microsoft's ODBC driver ({ODBC_DRIVER}); none is installed."
    return None


@dataclass
class StorageSettings:
    kind: str
    location: str
    username: str
    tls: dict = field(default_factory=dict)
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS

    def validate(self) -> None:
        """Raise 30010E for settings that cannot work, whatever the server says."""
        if self.kind not in KINDS:
            raise StorageError(INVALID_CODE, f"Unknown database kind {self.kind!r}.")
        kind = KINDS[self.kind]
        parts = urlsplit(self.location)
        if parts.scheme not in kind.schemes or not parts.hostname or not parts.path.strip("/"):
            raise StorageError(INVALID_CODE, f"The location must look like {kind.example}.")
        if parts.username or parts.password:
            raise StorageError(INVALID_CODE, "Put the username and password in their fields, not the URL.")
        if not self.username:
            raise StorageError(INVALID_CODE, "A username is required.")
        if self.kind == "mssql" and "\\" in self.username:
            raise StorageError(INVALID_CODE, "SQL Server needs SQL authentication, not a Windows account.")
        allowed = {option: choices for option, _label, choices in kind.tls_options}
        for option, value in self.tls.items():
            if option not in allowed or (allowed[option] and value not in allowed[option]):
                raise StorageError(INVALID_CODE, f"{option}={value!r} is not a TLS option of {kind.label}.")
        if not 0 < self.backoff_seconds <= 7 * 24 * 3600:
            raise StorageError(INVALID_CODE, "The backoff interval must be more than 0 and at most a week.")

    def database(self, password: str) -> dict:
        """The Django ``DATABASES`` entry for these settings."""
        kind = KINDS[self.kind]
        parts = urlsplit(self.location)
        options: dict = {}
        tls = {k: v for k, v in self.tls.items() if v}
        database = {
            "ENGINE": kind.engine,
            "NAME": parts.path.strip("/"),
            "USER": self.username,
            "PASSWORD": password,
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
        if self.kind == "postgresql":
            # libpq refuses a server that offers less than TLS 1.2 (Test Connection reports the
            # protocol each session uses, for every kind: settings_app.transfer.session_tls).
            options.update({"connect_timeout": 5, "ssl_min_protocol_version": "TLSv1.2", **tls})
        elif self.kind == "mysql":
            options.update({"connect_timeout": 5, "charset": "utf8mb4"})
            if tls.get("ssl_mode"):
                options["ssl_mode"] = tls["ssl_mode"]
            if tls.get("ssl_ca"):
                options["ssl"] = {"ca": tls["ssl_ca"]}
            database["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
        elif self.kind == "oracle":
            if tls.get("protocol") == "tcps":
                port = parts.port or 2484
                database["NAME"] = (
                    f"(DESCRIPTION=(ADDRESS=(PROTOCOL=tcps)(HOST={parts.hostname})(PORT={port}))"
                    f"(CONNECT_DATA=(SERVICE_NAME={parts.path.strip('/')})))"
                )
                database["HOST"], database["PORT"] = "", ""
        elif self.kind == "mssql":
            extra = ";".join(f"{k}={v}" for k, v in tls.items())
            options.update({"driver": ODBC_DRIVER, **({"extra_params": extra} if extra else {})})
        return database

    @classmethod
    def from_dict(cls, body: dict) -> StorageSettings:
        """From ``as_public_dict``'s shape; KeyError, TypeError or ValueError when it is not that."""
        return cls(
            kind=body["kind"],
            location=body["location"],
            username=body["username"],
            tls=dict(body.get("tls") or {}),
            backoff_seconds=float(body.get("backoff_seconds", DEFAULT_BACKOFF_SECONDS)),
        )

    def as_public_dict(self) -> dict:
        return {
            "kind": self.kind,
            "location": self.location,
            "username": self.username,
            "tls": dict(self.tls),
            "backoff_seconds": self.backoff_seconds,
        }


def settings_path(home: Path) -> Path:
    return Path(home) / FILE_NAME


def read_file(home: Path) -> tuple[StorageSettings, dict] | None:
    """The saved storage settings and the sealed password, ``None`` when Hub uses hub.properties.

    Raises 30020E when the file exists but cannot be read or parsed, 30010E when its content is
    not valid settings."""
    path = settings_path(home)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StorageError(UNREADABLE_CODE, f"{path} cannot be read ({error.strerror}).") from None
    try:
        body = jsonload.loads(text)
        stored = StorageSettings.from_dict(body)
        sealed = dict(body["password"])
    except (ValueError, KeyError, TypeError):
        raise StorageError(UNREADABLE_CODE, f"{path} is not a well-formed database settings file.") from None
    stored.validate()
    return stored, sealed


def write_file(home: Path, stored: StorageSettings, sealed: dict) -> Path:
    """Write the settings atomically, owner-readable only."""
    path = settings_path(home)
    body = json.dumps({"format": 1, **stored.as_public_dict(), "password": sealed}, indent=2)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    os.replace(tmp, path)
    return path


# --- backoff -------------------------------------------------------------------------------------


def run_dir() -> Path:
    """``HUB_HOME/run``, where every process of this instance finds the backoff state."""
    from django.conf import settings

    return Path(settings.HUB_HOME) / "run"


def _backoff_path(run_dir: Path) -> Path:
    return Path(run_dir) / BACKOFF_FILE


def backoff_state(run_dir: Path) -> dict | None:
    """``{"failed": epoch, "until": epoch, "reason": str}`` while a backoff lasts, else ``None``."""
    try:
        state = jsonload.loads(_backoff_path(run_dir).read_text())
        until = float(state["until"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if until > time.time() else None


def start_backoff(run_dir: Path, seconds: float, reason: str) -> dict:
    now = time.time()
    state = {"failed": now, "until": now + seconds, "reason": reason}
    path = _backoff_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)
    return state


def clear_backoff(run_dir: Path) -> None:
    _backoff_path(run_dir).unlink(missing_ok=True)


def backoff_message(state: dict) -> str:
    until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(state["until"]))
    return (
        f"{UNREACHABLE_CODE}: connecting to the operational database failed ({state.get('reason', '')}); "
        f"Hub waits until {until} (the Backoff Interval of Storage Settings) before it tries again."
    )


def install_backoff() -> None:
    """Make every connection of the default alias to an external database honour the backoff."""
    from django.conf import settings
    from django.db import DEFAULT_DB_ALIAS, OperationalError
    from django.db.backends.base.base import BaseDatabaseWrapper

    if getattr(BaseDatabaseWrapper.connect, "hub_backoff", False):
        return
    original = BaseDatabaseWrapper.connect

    class DatabaseBackoff(OperationalError):
        pass

    def connect(self):
        seconds = getattr(settings, "HUB_DATABASE_BACKOFF_SECONDS", None)
        if self.alias != DEFAULT_DB_ALIAS or self.vendor == "sqlite" or not seconds:
            return original(self)
        state = backoff_state(run_dir())
        if state is not None:
            raise DatabaseBackoff(backoff_message(state))
        try:
            return original(self)
        except Exception as error:
            start_backoff(run_dir(), seconds, type(error).__name__)
            log.error("%s", backoff_message(backoff_state(run_dir()) or {"until": 0}))
            raise

    connect.hub_backoff = True
    BaseDatabaseWrapper.connect = connect


def unavailable_message(error: Exception) -> str:
    """What a page or API answer says while the operational database cannot be reached (no secret:
    the driver's message can hold the address, so only its kind is named)."""
    from django.conf import settings

    state = backoff_state(run_dir()) if getattr(settings, "HUB_DATABASE_BACKOFF_SECONDS", None) else None
    if state is not None:
        return backoff_message(state)
    return (
        f"{UNREACHABLE_CODE}: The database is not available ({type(error).__name__}). Make sure the "
        "operational database is online and reachable, and that Hub's database settings are right."
    )


def unavailable_response(request, error: Exception, *, api: bool):
    """The 503 answer for a request that failed because the database is down: a page that needs no
    database (no sign-in, no context processors), or the API's error body."""
    from django.http import HttpResponse
    from django.template import loader

    from hub import api as hub_api

    message = unavailable_message(error)
    if api:
        return hub_api.error_response(503, message, code=UNREACHABLE_CODE)
    context = {"code": UNREACHABLE_CODE, "message": message}
    return HttpResponse(loader.get_template("hub/database_unavailable.html").render(context), status=503)
