"""Hub's external configuration: ``HUB_HOME/hub.properties`` plus environment overrides.

Settings come from one place, are validated once at start and reach the rest of the code as a
plain ``HubConfig`` object, so nothing deep in the code reads ``os.environ`` on its own.

Precedence (highest first): environment variable, ``hub.properties``, built-in default.
Every key has an environment form: upper-case, ``.`` and ``-`` become ``_``, and ``HUB_`` is
put in front unless the key already starts with ``hub.`` — ``server.port`` is
``HUB_SERVER_PORT``, ``hub.database.url`` is ``HUB_DATABASE_URL``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import javaproperties

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = REPO_ROOT / "hub-home"
PROPERTIES_FILE = "hub.properties"


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix, without a traceback."""


class StartupError(ConfigError):
    """Hub cannot start as configured (the database cannot be reached, a port is taken): one
    message and exit code 2 from manage.py, like a configuration mistake."""


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError("must be a port number from 1 to 65535")
    return port


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be zero or more")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= 600:
        raise ValueError("must be a number of seconds above 0 and at most 600")
    return number


def _megabytes(value: str) -> int:
    number = int(value)
    if not 16 <= number <= 8192:
        raise ValueError("must be a number of megabytes from 16 to 8192")
    return number


def _payload_megabytes(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 100:
        raise ValueError("must be a number of megabytes from 1 to 100")
    return number


def _environment_type(value: str) -> str:
    value = value.strip().lower()
    if value not in ("", "production", "testing", "development"):
        raise ValueError("must be production, testing or development")
    return value


def _path_list(value: str) -> tuple[str, ...]:
    paths = tuple(p.strip() for p in value.split(",") if p.strip())
    for path in paths:
        if not path.startswith("/"):
            raise ValueError(f"each path must start with '/', got {path!r}")
    return paths


_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql", "mysql", "mariadb", "oracle", "mssql")
_BROKER_SCHEMES = ("filesystem", "redis", "rediss", "amqp", "amqps", "pyamqp")


def _url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = value.strip()
        if value == "":
            return value
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            raise ValueError(f"must be a URL starting with one of {', '.join(s + '://' for s in schemes)}")
        return value

    return parse


def _text(value: str) -> str:
    return value.strip()


def _listen_address(value: str) -> str:
    """An IP address (v4 or v6) or a host name to listen on."""
    import ipaddress

    value = value.strip()
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if re.fullmatch(r"[0-9.]+", value) or not _HOST_NAME.fullmatch(value.lower()):
        raise ValueError("must be an IP address such as 0.0.0.0 or 127.0.0.1, or a host name of this machine")
    return value


def _public_keys(value: str) -> tuple[str, ...]:
    """Base64 of raw 32-byte Ed25519 public keys, comma-separated; checked here, used by licensing."""
    import base64
    import binascii

    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    for key in keys:
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(f"{key!r} is not a base64 Ed25519 public key (32 bytes)")
    return keys


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


def _host_names(value: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in value.split(",") if name.strip())
    for name in names:
        if not _HOST_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a host name (letters, digits, '-' and dots)")
    return names


def _networks(value: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (10.0.0.0/8, ::1)."""
    import ipaddress

    networks = tuple(n.strip() for n in value.split(",") if n.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{network!r} is not an IP address or network such as 10.0.0.0/8") from None
    return networks


def _log_format(value: str) -> str:
    value = value.strip().lower()
    if value not in ("text", "json"):
        raise ValueError("must be text or json")
    return value


def _log_level(value: str) -> str:
    value = value.strip().lower()
    if value not in ("normal", "troubleshooting"):
        raise ValueError("must be normal or troubleshooting")
    return value


@dataclass(frozen=True)
class Key:
    name: str
    parse: Callable[[str], Any]
    default: str
    help: str

    @property
    def env_name(self) -> str:
        base = self.name.upper().replace(".", "_").replace("-", "_")
        return base if base.startswith("HUB_") else "HUB_" + base


KEYS: tuple[Key, ...] = (
    Key("server.port", _port, "8443", "HTTPS port of the console and the REST API."),
    Key("server.redirect.port", _port, "8080", "Plain HTTP port that redirects to the HTTPS port."),
    Key(
        "server.address",
        _listen_address,
        "0.0.0.0",  # noqa: S104 — a server is reached from other hosts
        "Address the web server listens on.",
    ),
    Key(
        "server.ssl.certificate",
        _text,
        "",
        "PEM certificate (chain) for HTTPS. Empty: a self-signed one is generated in HUB_HOME/certs.",
    ),
    Key("server.ssl.certificate-key", _text, "", "PEM private key belonging to server.ssl.certificate."),
    Key(
        "server.shutdown.timeout",
        _positive_int,
        "30",
        "Seconds to let web requests and sync work finish on stop before processes are killed.",
    ),
    Key("server.web.workers", _positive_int, "2", "Web worker processes."),
    Key(
        "server.hostnames",
        _host_names,
        "",
        "Comma-separated host names the console is reached by; the HTTP port redirects only to these "
        "(and to this machine's own names). Empty: this machine's names only.",
    ),
    Key("hub.environment.name", _text, "", "Name shown in the console header, e.g. 'Staging EU'."),
    Key(
        "hub.environment.type",
        _environment_type,
        "",
        "production, testing or development: colours the header label. Empty: no label.",
    ),
    Key(
        "hub.security.cors.exclusionPaths",
        _path_list,
        "",
        "Comma-separated paths excluded from the cross-origin checks, e.g. /first-path,/second-path.",
    ),
    Key(
        "hub.database.url",
        _url(_DATABASE_SCHEMES),
        "",
        "Operational database URL (postgres://, mysql://, oracle://, mssql://), without the password "
        "(see hub.database.passwordFile). Empty: SQLite in HUB_HOME.",
    ),
    Key(
        "hub.database.passwordFile",
        _text,
        "",
        "File holding the operational database's password (first line; owner-readable only). The "
        "environment variable HUB_DATABASE_PASSWORD is the other way to give it.",
    ),
    Key(
        "hub.broker.url",
        _url(_BROKER_SCHEMES),
        "",
        "Celery broker URL (redis://, amqp://). Empty: a broker in HUB_HOME that needs no server.",
    ),
    Key("hub.workers", _positive_int, "0", "Sync worker processes started by 'make run'. 0: automatic."),
    Key("hub.log.level", _log_level, "normal", "Initial logging level: normal or troubleshooting."),
    Key(
        "hub.log.format",
        _log_format,
        "text",
        "Log lines as text, or json: one JSON object a line in every log.",
    ),
    Key(
        "hub.security.masterPasswordFile",
        _text,
        "",
        "Encrypted master password file. Empty: ~/.hub/<instance id>.key of the user running Hub.",
    ),
    Key(
        "hub.license.trustedKeys",
        _public_keys,
        "",
        "Comma-separated base64 Ed25519 public keys whose signed licenses this instance accepts.",
    ),
)
KEYS += (
    Key(
        "hub.extensions.timeLimit",
        _seconds,
        "2",
        "Seconds one extension call may run before Hub stops it (CCRRTT-17011E).",
    ),
    Key(
        "hub.extensions.heapLimit",
        _megabytes,
        "128",
        "Megabytes of JavaScript heap an extension call may use before Hub stops it (CCRRTT-17011E).",
    ),
)
KEYS += (
    Key(
        "hub.gateway.maxPayloadSize",
        _payload_megabytes,
        "1",
        "Megabytes a payload posted to a gateway collection may have; a larger one is refused with 413.",
    ),
    Key(
        "hub.gateway.rateLimit",
        _positive_int,
        "1000",
        "Payloads per second one gateway collection accepts; beyond that senders get 429 and Retry-After.",
    ),
    Key(
        "hub.metrics.tokenFile",
        _text,
        "",
        "File holding the bearer token Prometheus sends to /metrics (first line; owner-readable only). "
        "Empty, and no hub.metrics.allowedAddresses: /metrics answers nobody.",
    ),
    Key(
        "hub.metrics.allowedAddresses",
        _networks,
        "",
        "Comma-separated addresses or networks allowed to read /metrics without the token, e.g. 10.1.2.3,"
        "192.168.0.0/24.",
    ),
)
KEYS += (
    Key(
        "hub.activity.maxErrors",
        _positive_int,
        "10000",
        "Failed activities Hub keeps before it pauses change detection of every integration "
        "(CCRRTT-0002E) until fewer remain. 0: no limit.",
    ),
)
KEYS_BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}

# Variables Hub reads that are not keys of hub.properties (environment only), and why.
ENVIRONMENT_ONLY = {
    "HUB_HOME": "the data directory",
    "HUB_DATABASE_PASSWORD": "the operational database's password, never written to a file",
    "HUB_SAFE_MODE": "1: start without integration work (what --safe-mode sets for the processes)",
    "HUB_DEBUG": "1: Django's debug pages, for development only",
    "HUB_TEST_DATABASE_NAME": "the test suite's database name",
}
TEST_PREFIX = "HUB_TEST_"  # variables of the test suite, read by tests/ only


@dataclass(frozen=True)
class HubConfig:
    home: Path
    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    database_password: str = field(default="", repr=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def certs_dir(self) -> Path:
        return self.home / "certs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"


def hub_home(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("HUB_HOME") or DEFAULT_HOME).expanduser().resolve()


def read_properties(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        with path.open("r", encoding="utf-8") as handle:
            return dict(javaproperties.load(handle))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read as a properties file: {exc}") from None


def load(environ: Mapping[str, str] | None = None) -> HubConfig:
    """Read and validate the configuration; raise ``ConfigError`` naming every problem found."""
    environ = os.environ if environ is None else environ
    home = hub_home(environ)
    properties_path = home / PROPERTIES_FILE
    from_file = read_properties(properties_path)

    problems = [
        f"{properties_path}: unknown key '{name}'" + _suggestion(name)
        for name in sorted(from_file)
        if name not in KEYS_BY_NAME
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        if key.env_name in environ:
            raw, source = environ[key.env_name], f"environment variable {key.env_name}"
        elif key.name in from_file:
            raw, source = from_file[key.name], f"{properties_path}"
        else:
            raw, source = key.default, "default"
        try:
            values[key.name] = key.parse(raw)
        except ValueError as exc:
            problems.append(f"{source}: {key.name}={raw!r} is not valid: {exc}")
        sources[key.name] = source

    cert, cert_key = values.get("server.ssl.certificate"), values.get("server.ssl.certificate-key")
    if bool(cert) != bool(cert_key):
        problems.append("server.ssl.certificate and server.ssl.certificate-key must be given together")
    port = values.get("server.port")
    if port is not None and port == values.get("server.redirect.port"):
        problems.append(
            f"server.port and server.redirect.port are both {values['server.port']}; "
            "the HTTPS console and the HTTP redirect need a port each"
        )
    password, password_problems = _database_password(values, environ)
    problems += password_problems
    if problems:
        raise ConfigError("Hub cannot start; fix its configuration:\n  - " + "\n  - ".join(problems))
    warnings = [*unknown_variables(environ), *_password_warnings(values, sources, properties_path)]
    return HubConfig(
        home=home, values=values, sources=sources, warnings=tuple(warnings), database_password=password
    )


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each HUB_* variable Hub does not read: a misspelt one is otherwise silently
    ignored (HUB_LICENSE_TRUSTED_KEYS for HUB_LICENSE_TRUSTEDKEYS)."""
    import difflib

    known = {key.env_name for key in KEYS} | set(ENVIRONMENT_ONLY)
    warnings = []
    for name in sorted(environ):
        if not name.startswith("HUB_") or name in known or name.startswith(TEST_PREFIX):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"The environment variable {name} is not one Hub reads; it is ignored{hint}.")
    return warnings


def _database_password(values, environ) -> tuple[str, list[str]]:
    """The operational database's password from hub.database.passwordFile or HUB_DATABASE_PASSWORD."""
    path_text = values.get("hub.database.passwordFile") or ""
    from_environment = environ.get("HUB_DATABASE_PASSWORD", "")
    if path_text and from_environment:
        both = "give the database password in hub.database.passwordFile or HUB_DATABASE_PASSWORD, not both"
        return "", [both]
    if not path_text:
        return from_environment, []
    path = Path(path_text).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        return "", [f"hub.database.passwordFile: {path} cannot be read ({getattr(error, 'strerror', error)})"]
    return (lines[0] if lines else ""), []


def _password_warnings(values, sources, properties_path: Path) -> list[str]:
    from urllib.parse import urlsplit

    warnings = []
    url = values.get("hub.database.url") or ""
    try:
        has_password = bool(urlsplit(url).password)
    except ValueError:
        has_password = False
    if has_password and sources.get("hub.database.url") == str(properties_path):
        warnings.append(
            f"{properties_path}: hub.database.url carries the database password in clear. Take it out of "
            "the URL and put it in a file named by hub.database.passwordFile (readable by Hub's user "
            "only) or in the environment variable HUB_DATABASE_PASSWORD."
        )
    path_text = values.get("hub.database.passwordFile") or ""
    if path_text:
        path = Path(path_text).expanduser()
        try:
            if path.stat().st_mode & 0o077:
                warnings.append(f"hub.database.passwordFile: {path} is open to other users; make it 0600.")
        except OSError:
            pass
    return warnings


def path_prefix_pattern(paths: tuple[str, ...]) -> str:
    """A regular expression matching each path and everything below it (none: matches nothing)."""
    if not paths:
        return r"(?!)"
    return r"^(" + "|".join(re.escape(path.rstrip("/")) for path in paths) + r")(/.*)?$"


def _suggestion(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, KEYS_BY_NAME, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def default_template() -> str:
    """The text of ``hub.properties.default``: every key, commented out, with its default."""
    lines = [
        "# Hub configuration. Copy this file to hub.properties in HUB_HOME and uncomment what you change.",
        "# Environment variables override this file; each key's variable is named beside it.",
        "",
    ]
    for key in KEYS:
        lines += [f"# {key.help}", f"# (environment: {key.env_name})", f"#{key.name}={key.default}", ""]
    return "\n".join(lines)
