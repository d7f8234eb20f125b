"""The environment label (type and name) in force: what Settings → General set, else
``hub.environment.type`` / ``hub.environment.name`` from ``hub.properties``.

Every process reads the row when it renders a screen, so a change takes effect at once, in every
web process, without a restart."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError


def current() -> dict[str, str]:
    """``{"type": …, "name": …, "type_source": "screen"|"hub.properties", "name_source": …}``."""
    from settings_app.models import EnvironmentLabel

    try:
        row = EnvironmentLabel.objects.filter(pk=1).values("type", "name").first() or {}
    except DatabaseError:  # the database is down or not migrated yet: the file still labels the screen
        row = {}
    label = {}
    for field in ("type", "name"):
        chosen = row.get(field) or ""
        label[field] = chosen or settings.HUB[f"hub.environment.{field}"]
        label[f"{field}_source"] = "screen" if chosen else "hub.properties"
    return label
