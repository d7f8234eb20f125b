"""Configuration history: one function every change goes through, from the console, the API, a
command or an import. Each change becomes a ``ConfigurationChange`` row and a line in
``logs/configuration-changes.log``; secrets are redacted before either is written."""

from __future__ import annotations

import json
import logging
from typing import Any

from hub.addresses import redact as redact_credentials
from hub.fields import MASK, Secret
from hub.models import ConfigurationChange

log = logging.getLogger("hub.configuration_changes")

_SECRET_WORDS = ("password", "secret", "token", "apikey", "api_key", "credential", "private")


def _is_secret_name(name: str) -> bool:
    lowered = name.lower().replace("-", "_")
    return any(word in lowered for word in _SECRET_WORDS)


def redact(value: Any) -> Any:
    """A copy of ``value`` safe to keep: secrets and values under secret-sounding keys are masked."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {
            key: (MASK if _is_secret_name(str(key)) and item not in (None, "") else redact(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_credentials(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    return redact_credentials(str(value))


def record_change(
    user,
    action: str,
    element_type: str,
    name: str,
    before: Any = None,
    after: Any = None,
    *,
    source: str = ConfigurationChange.Source.CONSOLE,
    element_id: str | int = "",
    request_id: str = "",
) -> ConfigurationChange:
    if action not in ConfigurationChange.Action.values:
        raise ValueError(f"unknown action {action!r}")
    if source not in ConfigurationChange.Source.values:
        raise ValueError(f"unknown source {source!r}")
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    change = ConfigurationChange.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        source=source,
        action=action,
        element_type=element_type,
        element_name=name,
        element_id=str(element_id),
        before=redact(before),
        after=redact(after),
        request_id=request_id,
    )
    log.info(
        json.dumps(
            {
                "user": change.username,
                "source": change.source,
                "action": change.action,
                "element_type": change.element_type,
                "element_name": change.element_name,
                "element_id": change.element_id,
                "before": change.before,
                "after": change.after,
                "request_id": change.request_id,
            },
            ensure_ascii=False,
        )
    )
    return change
