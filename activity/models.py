"""The ledger the engine and the validator write to. Blockers first; activities, pairs and
background jobs join them here."""

from django.db import models


class Blocker(models.Model):
    """A configuration or global problem that stops all integrations, or only the affected ones.

    ``key`` names the problem itself (``license:missing``, ``integration:7:route``), so raising the
    same problem again refreshes its row instead of adding a second one, and fixing it clears it.
    """

    class Impact(models.TextChoices):
        ALL = "all", "All integrations"
        AFFECTED = "affected", "Affected integrations"

    key = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=20)
    message = models.TextField()
    impact = models.CharField(max_length=10, choices=Impact.choices)
    integration_ids = models.JSONField(default=list, blank=True)
    related = models.JSONField(default=list, blank=True, help_text="Links: [{'label': …, 'url': …}]")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["impact", "created"])]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
