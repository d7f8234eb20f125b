"""Connector kinds Hub knows: kind → connector class (with its label, capabilities and declared
settings fields, which the Repositories screen renders).

Adding a connector is one package under ``connectors/`` and one line in ``BUILT_IN``. The modules
are imported on first use, not at start, so a connector may use the ORM (the local tracker does).
"""

from __future__ import annotations

import importlib
import threading

from connectors.base import Connector
from connectors.errors import InvalidSettings, RepositoryDisabled
from connectors.types import RepositorySettings, SettingField

BUILT_IN = (
    "connectors.local.connector",
    "connectors.redmine.connector",
    "connectors.roundup.connector",
    "connectors.github.connector",
    "connectors.gitlab.connector",
    "connectors.jira.connector",
    "connectors.servicenow.connector",
    "connectors.azure_devops.connector",
)

# Fields every network connector has; the Repositories screen shows them after the kind's own.
NETWORK_SETTINGS_FIELDS = (
    SettingField("proxy_url", "Proxy location", "url", help="http://host:port of an HTTP proxy, if needed."),
    SettingField("proxy_username", "Proxy user"),
    SettingField("proxy_password", "Proxy password", "password", secret=True),
    SettingField(
        "allow_insecure",
        "Allow insecure connections",
        "boolean",
        help="Accept certificates that cannot be verified (self-signed, expired). Only for tests.",
    ),
    SettingField("timeout", "Timeout (seconds)", "integer", default="30"),
)
# Fields of every kind.
COMMON_SETTINGS_FIELDS = (
    SettingField(
        "events_per_minute",
        "Event rate limit (per minute)",
        "integer",
        default="0",
        help="Most requests Hub sends to this repository per minute, across all workers. 0: no limit.",
    ),
)

_kinds: dict[str, type[Connector]] = {}
_loaded = False
_lock = threading.Lock()


def register(connector_class: type[Connector]) -> type[Connector]:
    """Class decorator: ``@register class RedmineConnector(Connector): kind = "redmine"``."""
    existing = _kinds.get(connector_class.kind)
    if existing is not None and existing is not connector_class:
        raise ValueError(f"connector kind {connector_class.kind!r} is registered twice")
    _kinds[connector_class.kind] = connector_class
    return connector_class


def _load() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            for module in BUILT_IN:
                importlib.import_module(module)
            _loaded = True


def kinds() -> dict[str, type[Connector]]:
    """All kinds, ordered by label."""
    _load()
    return dict(sorted(_kinds.items(), key=lambda item: item[1].label.lower()))


def connector_class(kind: str) -> type[Connector]:
    _load()
    try:
        return _kinds[kind]
    except KeyError:
        raise InvalidSettings(f"Hub has no connector of kind {kind!r}.") from None


def settings_fields(kind: str) -> tuple[SettingField, ...]:
    """The fields the Repositories screen renders for a kind: its own, then the common ones."""
    cls = connector_class(kind)
    network = NETWORK_SETTINGS_FIELDS if cls.network else ()
    return (*cls.settings_fields, *network, *COMMON_SETTINGS_FIELDS)


def connect(settings: RepositorySettings) -> Connector:
    """A connector for these settings. Use it as a context manager so its session is closed.
    Every use of a repository comes through here, so a disabled one is refused here, once."""
    if not settings.enabled:
        raise RepositoryDisabled(
            "The repository is disabled: Hub does not connect to it until it is enabled again on its page."
        )
    return connector_class(settings.kind)(settings)
