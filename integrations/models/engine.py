"""The sync engine's own records: where change detection stopped on each side, and creations in
flight (so a retry after a crash finds the twin instead of making a second one)."""

from __future__ import annotations

from django.db import models


class ChangeWatermark(models.Model):
    """How far change detection has read one project of one side of an integration, by the tool's
    own clock. It moves only after the activities for what was found are committed."""

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="watermarks"
    )
    side = models.CharField(
        max_length=12, help_text="A or B; an Enterprise Data Stream's further source: S<collection id>."
    )
    project = models.CharField(max_length=200)
    position = models.DateTimeField(null=True, blank=True, help_text="Empty: never scanned.")
    last_full_scan = models.DateTimeField(null=True, blank=True)
    last_full_scan_seconds = models.FloatField(
        null=True,
        blank=True,
        help_text="How long the last full scan of this project took (reading and recording).",
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "side", "project"], name="watermark_unique")
        ]

    def __str__(self) -> str:
        return f"{self.integration_id}:{self.side}:{self.project} @ {self.position}"


class CreationIntent(models.Model):
    """Written (and committed) before a twin is created remotely; removed with the pair record in
    one transaction. An intent still present on a retry means a create may have happened: look for
    the twin by its marker before creating anything."""

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="creation_intents"
    )
    source_side = models.CharField(max_length=1)
    source_artifact_id = models.CharField(max_length=255)
    target_project = models.CharField(max_length=200)
    target_type = models.CharField(max_length=100)
    marker = models.CharField(max_length=100, unique=True)
    source_values = models.JSONField(
        default=dict, blank=True, help_text="The source's model values the twin is created from."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "source_side", "source_artifact_id"], name="creation_intent_unique"
            )
        ]

    def __str__(self) -> str:
        return self.marker


class SyncLock(models.Model):
    """A short-lived lock on one artifact of an integration while a worker synchronizes it, so the
    activities of both artifacts of a pair never run at once (CCRRTT-17004W for the second)."""

    key = models.CharField(max_length=320, unique=True)
    holder = models.CharField(max_length=200)
    acquired = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} ({self.holder})"


class WorkerHeartbeat(models.Model):
    """A worker process's sign of life (``integrations.engine.heartbeat``), the one table of them: the
    claims and locks of a process whose beat is older than the timeout are released by the next claim
    round, and System Information, health and ``/metrics`` read the same rows. One row per process
    incarnation, so a pid the system hands out again never passes for the dead one; ``name`` is the
    Celery node the process belongs to (a prefork pool's children and their parent share it)."""

    worker = models.CharField(max_length=200, unique=True, help_text="host:pid:nonce")
    name = models.CharField(max_length=255, blank=True, help_text="Celery's name of the worker node.")
    pid = models.PositiveIntegerField(default=0)
    started = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker} @ {self.beat_at}"

    @property
    def node(self) -> str:
        """What screens and ``/metrics`` call the worker: its Celery node, else the process."""
        return self.name or self.worker


class ChangeDetectionSettings(models.Model):
    """Settings → General → Change Detection: the default schedule of every integration that sets
    none of its own. One row (``get``)."""

    interval = models.PositiveIntegerField(
        "interval (seconds)", default=60, help_text="Used when no cron expression is set."
    )
    cron = models.CharField("cron expression", max_length=100, blank=True)
    full_scan_cron = models.CharField(
        "full scan (cron)", max_length=100, default="0 3 * * *", help_text="Re-read everything in scope."
    )

    class Meta:
        verbose_name_plural = "change detection settings"

    def __str__(self) -> str:
        return "Change detection"

    @classmethod
    def get(cls) -> ChangeDetectionSettings:
        found, _ = cls.objects.get_or_create(pk=1)
        return found
