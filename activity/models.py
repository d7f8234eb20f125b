"""The ledger the engine and the validator write to: blockers, artifact activities, artifact pairs
and background jobs.

Related configuration elements (integration, collections, projects, collection pair) are kept as
plain ids plus a denormalized display name. The ids become foreign keys to ``integrations`` once
those models land; the names stay, so the Activity screen lists thousands of rows without joins and
still shows what an element was called after it is deleted.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models.functions import Cast, Concat


def searchable(*names: str) -> models.GeneratedField:
    """One stored column joining the searched fields, so a search is one ``LIKE`` that a trigram
    index answers on PostgreSQL (migration 0003) instead of one ``ILIKE`` per field."""
    parts: list = []
    for name in names:
        parts += [models.F(name), models.Value("\n")]
    return models.GeneratedField(
        expression=Concat(*parts[:-1], output_field=models.TextField()),
        output_field=models.TextField(),
        db_persist=True,
    )


class CompactJSON(json.JSONEncoder):
    """JSON without the spaces after ``,`` and ``:`` that ``json.dumps`` puts in by default: the
    ledger's JSON columns are text on SQLite and MariaDB, kept for every pair and for 100,000
    completed activities (issue #19: bytes per pair). PostgreSQL's ``jsonb`` drops them anyway. The
    column is the same; only what Python writes into it changes. On MariaDB an equality lookup on a
    JSON column (``filter(comment_map={...})``) compares the stored text with MariaDB's own spaced
    form of the value, so it misses compact rows: compare in Python or with ``__contains``."""

    def __init__(self, *args, **kwargs):
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)


class Blocker(models.Model):
    """A configuration or global problem that stops all integrations, or only the affected ones.

    ``key`` names the problem itself (``license:missing``, ``integration:7:route``), so raising the
    same problem again refreshes its row instead of adding a second one, and fixing it clears it.
    """

    class Impact(models.TextChoices):
        ALL = "all", "All integrations"
        AFFECTED = "affected", "Affected integrations"

    class Kind(models.TextChoices):
        """What the administrator can do about it besides fixing the cause."""

        PLAIN = "plain", "Plain"
        MIGRATION = "migration", "Configuration migration"  # Retry re-runs the migration
        ACKNOWLEDGE = "acknowledge", "Needs acknowledgement"  # Resolve acknowledges it

    key = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=20)
    message = models.TextField()
    impact = models.CharField(max_length=10, choices=Impact.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PLAIN)
    integration_ids = models.JSONField(default=list, blank=True)
    related = models.JSONField(default=list, blank=True, help_text="Links: [{'label': …, 'url': …}]")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["impact", "created"])]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def is_blocking(self) -> bool:
        return self.impact == self.Impact.ALL


class Side(models.TextChoices):
    A = "A", "Side A"
    B = "B", "Side B"


class RelatedElements(models.Model):
    """Ids and names of the configuration elements an activity or pair belongs to."""

    integration_id = models.PositiveBigIntegerField(null=True, blank=True)
    integration_name = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True


class ArtifactActivity(RelatedElements):
    """One unit of sync work for one artifact of one integration.

    Life cycle: pending → processing → completed, or failed (retried on a schedule) / ignored /
    cancelled. At most one *waiting* (pending or failed) activity exists per integration, side and
    artifact: ``waiting_key`` is set while waiting and is unique, so change detection refreshes that
    row instead of adding a second one. A nullable unique column works the same on SQLite,
    PostgreSQL and MariaDB, where conditional unique constraints do not.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"

    class Result(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        ASSOCIATED = "associated", "Associated"

    class ConflictOutcome(models.TextChoices):
        NONE = "", "No conflict"
        A = "A", "A won"
        B = "B", "B won"
        SURFACED = "none", "No side won"

    WAITING = (Status.PENDING, Status.FAILED)

    source_side = models.CharField(max_length=1, choices=Side.choices)
    source_collection_id = models.PositiveBigIntegerField(null=True, blank=True)
    source_collection_name = models.CharField(max_length=200, blank=True)
    target_collection_id = models.PositiveBigIntegerField(null=True, blank=True)
    target_collection_name = models.CharField(max_length=200, blank=True)
    source_project = models.CharField(max_length=200, blank=True)
    target_project = models.CharField(max_length=200, blank=True)
    collection_pair_id = models.PositiveBigIntegerField(null=True, blank=True)
    collection_pair_name = models.CharField(max_length=300, blank=True)

    artifact_id = models.CharField(max_length=255, help_text="The source repository's own id.")
    formatted_id = models.CharField(max_length=255, blank=True)
    summary = models.CharField(max_length=1000, blank=True)
    url = models.URLField(max_length=1000, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    result = models.CharField(max_length=10, choices=Result.choices, blank=True)
    code = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    retry_count = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    priority = models.SmallIntegerField(default=0, help_text="Higher first; Prioritize raises it.")
    recreate = models.BooleanField(
        default=False, help_text="Create the twin anew: the administrator chose Recreate."
    )
    twin_deleted = models.BooleanField(default=False, help_text="The failure is a deleted twin.")
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    changed_fields = models.JSONField(
        default=dict,
        blank=True,
        encoder=CompactJSON,
        help_text="Completed: {field: [new]} or {field: [original, new]} (changed_values reads it)",
    )
    conflicts = models.JSONField(
        default=list,
        encoder=CompactJSON,
        blank=True,
        help_text="Conflict decisions: [{'field', 'a', 'b', 'winner': 'A'|'B'|'' (none), 'strategy'}]",
    )
    conflict = models.CharField(
        max_length=4,
        choices=ConflictOutcome.choices,
        blank=True,
        help_text="Which side won the conflicts of this activity (one strategy decides them all).",
    )
    # Unique through the constraint in Meta, not ``unique=True``: on PostgreSQL that also made a
    # ``varchar_pattern_ops`` index for LIKE, which no query of the key uses (69 B per activity).
    waiting_key = models.CharField(max_length=320, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL: not waiting
    search_text = searchable("formatted_id", "artifact_id", "code", "summary", "message")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "artifact activities"
        ordering = ["-created", "-id"]
        indexes = [
            # Each tab's first page and the banner counts.
            models.Index(fields=["status", "-created"], name="activity_status_created"),
            models.Index(fields=["integration_id", "status", "-created"], name="activity_integ_status"),
            # The engine claims by priority, then age; failed ones come due by next_retry_at.
            models.Index(fields=["status", "-priority", "created"], name="activity_claim_order"),
            models.Index(fields=["status", "next_retry_at"], name="activity_retry_due"),
            models.Index(fields=["integration_id", "source_side", "artifact_id"], name="activity_artifact"),
        ]
        constraints = [models.UniqueConstraint(fields=["waiting_key"], name="activity_one_waiting")]

    def __str__(self) -> str:
        return f"{self.formatted_id or self.artifact_id} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        self.waiting_key = (
            self.make_waiting_key(self.integration_id, self.source_side, self.artifact_id)
            if self.status in self.WAITING
            else None
        )
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "waiting_key"}
        super().save(*args, **kwargs)

    @staticmethod
    def make_waiting_key(integration_id, side: str, artifact_id: str) -> str:
        return f"{integration_id or 0}:{side}:{artifact_id}"

    @classmethod
    def waiting_key_expression(cls):
        """The same key computed in SQL, for bulk updates that move rows into a waiting status."""
        return Concat(
            Cast(models.functions.Coalesce("integration_id", 0), models.CharField(max_length=20)),
            models.Value(":"),
            "source_side",
            models.Value(":"),
            "artifact_id",
            output_field=models.CharField(max_length=320),
        )

    @property
    def can_retry(self) -> bool:
        return self.status == self.Status.FAILED

    @staticmethod
    def kept_change(original: Any, new: Any) -> list:
        """How ``changed_fields`` keeps one field: ``[new]`` where there was no original (a created
        twin), ``[original, new]`` otherwise. A list rather than ``{"original": …, "new": …}``: the
        two key names were a third of a completed activity's changed fields (issue #19)."""
        return [new] if original is None else [original, new]

    def changed_values(self) -> list[tuple[str, Any, Any]]:
        """``(field, original, new)`` for each changed field, ``None`` for an absent original; reads
        the kept form and the ``{"original": …, "new": …}`` of rows completed before it."""
        values = []
        for field, kept in (self.changed_fields or {}).items():
            if isinstance(kept, dict):
                values.append((field, kept.get("original"), kept.get("new")))
            else:
                values.append((field, *([None, *kept] if len(kept) == 1 else kept)))
        return values


class ArtifactPair(RelatedElements):
    """An artifact and its twin, with no direction implied, and what Hub last wrote to each side.

    The snapshots are the last synchronized *model* values per side; the engine compares each side
    with them field by field to find what changed and where a conflict is.
    """

    a_artifact_id = models.CharField(max_length=255)
    a_formatted_id = models.CharField(max_length=255, blank=True)
    a_summary = models.CharField(max_length=1000, blank=True)
    a_url = models.URLField(max_length=1000, blank=True)
    a_project = models.CharField(max_length=200, blank=True)
    a_snapshot = models.JSONField(default=dict, blank=True, encoder=CompactJSON)
    b_artifact_id = models.CharField(max_length=255)
    b_formatted_id = models.CharField(max_length=255, blank=True)
    b_summary = models.CharField(max_length=1000, blank=True)
    b_url = models.URLField(max_length=1000, blank=True)
    b_project = models.CharField(max_length=200, blank=True)
    b_snapshot = models.JSONField(default=dict, blank=True, encoder=CompactJSON)
    comment_map = models.JSONField(
        default=dict,
        blank=True,
        encoder=CompactJSON,
        help_text="{'A:<comment id>': 'B:<comment id>', …} both ways",
    )
    attachment_map = models.JSONField(default=dict, blank=True, encoder=CompactJSON)
    time_entry_map = models.JSONField(
        default=dict,
        blank=True,
        encoder=CompactJSON,
        help_text="Time Tracking: {'A:<entry id>': {'twin': 'B:<entry id>', 'seconds': n}, …} both ways",
    )
    # Change detection's shortcut (integrations/engine/settled.py): the side's "last changed" time
    # (ISO text) at which Hub read it and found nothing to take, long enough after that change that
    # a tool listing only that time (Redmine: ``updated_on``) can be skipped without a read.
    a_settled = models.CharField(max_length=40, blank=True)
    b_settled = models.CharField(max_length=40, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    search_text = searchable(
        "a_formatted_id", "a_artifact_id", "a_summary", "b_formatted_id", "b_artifact_id", "b_summary"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration_id", "a_artifact_id"], name="pair_unique_a"),
            models.UniqueConstraint(fields=["integration_id", "b_artifact_id"], name="pair_unique_b"),
        ]
        indexes = [
            models.Index(fields=["integration_id", "-id"], name="pair_integration"),
            models.Index(fields=["a_formatted_id"], name="pair_a_formatted"),
            models.Index(fields=["b_formatted_id"], name="pair_b_formatted"),
        ]

    def __str__(self) -> str:
        return f"{self.a_formatted_id or self.a_artifact_id} ↔ {self.b_formatted_id or self.b_artifact_id}"

    SIDE_FIELDS = ("artifact_id", "formatted_id", "summary", "url", "project")

    @classmethod
    def side_columns(cls, sides=("A", "B")) -> list[str]:
        """Column names of the artifact on each side (not the snapshots): what a list row needs."""
        return [f"{side.lower()}_{name}" for side in sides for name in cls.SIDE_FIELDS]

    def side(self, side: str) -> dict:
        return {name: getattr(self, f"{side.lower()}_{name}") for name in self.SIDE_FIELDS}


class BackgroundJob(models.Model):
    """Long-running internal work with progress, run by ``activity.jobs.JobRunner``."""

    class Kind(models.TextChoices):
        DATA_MIGRATION = "data_migration", "Data migration"
        HISTORY_MIGRATION = "history_migration", "Configuration history migration"
        CONFIGURATION_MIGRATION = "configuration_migration", "Configuration migration"
        PROJECT_REPLACEMENT = "project_replacement", "Project replacement"
        ROUTE_MOVE = "route_move", "Route move"
        PAIR_EXPORT = "pair_export", "Artifact pair export"
        PAIR_IMPORT = "pair_import", "Artifact pair import"
        DATABASE_TRANSFER = "database_transfer", "Database transfer"
        MAINTENANCE = "maintenance", "Maintenance"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        COMPLETED = "completed", "Completed"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    name = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    log = models.JSONField(default=list, blank=True, help_text="[{'time': iso, 'level': …, 'message': …}]")
    details = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="Input of the runner.")
    code = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    priority = models.SmallIntegerField(default=0)
    retry_count = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    integration_id = models.PositiveBigIntegerField(null=True, blank=True)
    integration_name = models.CharField(max_length=200, blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "-created"], name="job_status_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"


class LedgerSettings(models.Model):
    """The Activity screen's own switches; one row (``get``)."""

    auto_retry_ignored = models.BooleanField(
        default=False, help_text="Retry ignored activities automatically, like failed ones."
    )

    class Meta:
        verbose_name_plural = "ledger settings"

    def __str__(self) -> str:
        return "Activity screen settings"

    @classmethod
    def get(cls) -> LedgerSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings


class AppliedDataMigration(models.Model):
    """An integration data migration (``integrations.data_migrations``) that has rewritten one
    integration's operational data; an upgrade enqueues a job for every pair of integration and
    registered migration not recorded here. Integration id 0 stands for the configuration history's
    own migrations (``integrations.history_migrations``), which belong to no integration."""

    name = models.CharField(max_length=100)
    integration_id = models.PositiveBigIntegerField()
    applied = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "integration_id"], name="data_migration_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} on integration {self.integration_id}"
