from __future__ import annotations

from django.db import models
from django.urls import reverse

from integrations.models.collections import RepositoryCollection


class Style(models.TextChoices):
    WORK_ITEM_SYNC = "work_item_sync", "Work Item Synchronization"
    CONTAINER_WORK_ITEM = "container_work_item", "Container + Work Item Synchronization"
    ENTERPRISE_DATA_STREAM = "enterprise_data_stream", "Enterprise Data Stream"
    GATEWAY = "gateway", "Gateway"


class Flow(models.TextChoices):
    A_TO_B = "a_to_b", "A → B"
    B_TO_A = "b_to_a", "B → A"
    BOTH = "both", "Both ways"
    NONE = "none", "None"


class ConflictStrategy(models.TextChoices):
    UNSET = "", "Not set"
    ERROR = "error", "Error upon conflict"
    A_WINS = "a_wins", "Collection A wins"
    B_WINS = "b_wins", "Collection B wins"


class Unmatched(models.TextChoices):
    """What happens to an artifact that meets none of the conditions of the routes leaving its
    project (a route without a condition, placed last, is the default route)."""

    ERROR = "error", "Error (CCRRTT-17008E), retried until the routes or the artifact change"
    IGNORE = "ignore", "Ignore the artifact"


class Integration(models.Model):
    """A configuration of an integration style over collections. The engine reads it; it is
    started and stopped through ``integrations.services``.

    JSON settings (validated by ``integrations.validation``):

    - ``filters``: ``{"combine": "and"|"or", "applies_to": "creation"|"updates"|"both",
      "conditions": [{"field": key, "operator": op, "value": …}]}``
    - ``field_flows``: ``{model field key: Flow}``
    - ``comment_flow``: ``{"a_to_b": {"enabled": bool, "internal": "skip"|"keep"|"make_public"},
      "b_to_a": …}``
      (``internal``: what happens to private comments; not called "private" because history
      redacts values under secret-sounding keys)
    - ``attachment_flow``: ``{"a_to_b": {"enabled": bool, "max_size_mb": int}, "b_to_a": …}``
    """

    Style = Style
    Flow = Flow
    ConflictStrategy = ConflictStrategy
    Unmatched = Unmatched

    name = models.CharField(max_length=200, unique=True)
    style = models.CharField(max_length=30, choices=Style.choices, default=Style.WORK_ITEM_SYNC)
    collection_a = models.ForeignKey(
        RepositoryCollection,
        verbose_name="collection A",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrations_as_a",
    )
    collection_b = models.ForeignKey(
        RepositoryCollection,
        verbose_name="collection B",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrations_as_b",
    )
    creation_flow = models.CharField(
        "artifact creation flow", max_length=10, choices=Flow.choices, default=Flow.A_TO_B
    )
    filters = models.JSONField(default=dict, blank=True)
    field_flows = models.JSONField(default=dict, blank=True)
    conflict_strategy = models.CharField(
        "conflict resolution strategy",
        max_length=10,
        choices=ConflictStrategy.choices,
        default=ConflictStrategy.UNSET,
        blank=True,
    )
    unmatched_routing = models.CharField(
        "artifacts that meet no route condition",
        max_length=10,
        choices=Unmatched.choices,
        default=Unmatched.ERROR,
    )
    comment_flow = models.JSONField(default=dict, blank=True)
    attachment_flow = models.JSONField(default=dict, blank=True)
    detection_interval = models.PositiveIntegerField(
        "change detection interval (seconds)", null=True, blank=True, help_text="Empty: the Settings default."
    )
    detection_cron = models.CharField("change detection schedule (cron)", max_length=100, blank=True)
    full_scan_cron = models.CharField("full scan schedule (cron)", max_length=100, blank=True)
    running = models.BooleanField(default=False)
    state_changed = models.DateTimeField(null=True, blank=True)
    last_change_detected = models.DateTimeField(null=True, blank=True)
    last_artifact_processed = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("integration-edit", args=[self.pk])

    def collections(self) -> list[RepositoryCollection]:
        return [c for c in (self.collection_a, self.collection_b) if c is not None]


class Route(models.Model):
    """Which project of collection A pairs with which project of collection B, in which direction,
    and for which artifacts.

    ``condition`` is empty (every artifact of the project takes the route) or one condition on a
    model field, shaped like an artifact filter's: ``{"field": key, "operator": op, "value": …}``.
    The routes leaving one project are tried in ``position`` order and the first whose condition
    holds gives the target project (``integrations.engine.routing``)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="routes")
    project_a = models.CharField("project in A", max_length=200, blank=True)
    project_b = models.CharField("project in B", max_length=200, blank=True)
    direction = models.CharField(max_length=10, choices=Flow.choices, default=Flow.BOTH)
    condition = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "project_a", "project_b"], name="route_unique")
        ]

    def __str__(self) -> str:
        from integrations.engine.routing import describe_condition

        arrow = {Flow.A_TO_B: "→", Flow.B_TO_A: "←"}.get(self.direction, "↔")
        when = f" {describe_condition(self.condition)}" if self.condition else ""
        return f"{self.project_a or '?'} {arrow} {self.project_b or '?'}{when}"
