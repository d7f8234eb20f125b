"""Tables of the connectors app: the shared event rate limit and the local tracker's tables."""

from __future__ import annotations

from django.db import models

from connectors.local.models import (  # noqa: F401 - Django finds an app's models here
    LocalAttachment,
    LocalComment,
    LocalItem,
    LocalProject,
    LocalTracker,
    LocalUser,
)


class EventRateBucket(models.Model):
    """A token bucket per repository, in the operational database so every worker on every
    machine draws from the same one (no Redis needed on the embedded default)."""

    key = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField()
    refreshed = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
