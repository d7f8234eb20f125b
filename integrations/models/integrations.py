from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from integrations.models.collections import RepositoryCollection


class Style(models.TextChoices):
    WORK_ITEM_SYNC = "work_item_sync", "Work Item Synchronization"
    CONTAINER_WORK_ITEM = "container_work_item", "Container + Work Item Synchronization"
    ENTERPRISE_DATA_STREAM = "enterprise_data_stream", "Enterprise Data Stream"
    GATEWAY = "gateway", "Gateway"
    TIME_TRACKING = "time_tracking", "Time Tracking"


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
    gateway_collection = models.ForeignKey(
        "integrations.GatewayCollection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrations",
        help_text="Gateway style: the source; collection B is the target.",
    )
    sql_collection = models.ForeignKey(
        "integrations.SqlCollection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrations",
        help_text="Enterprise Data Stream: the target; collection A (and a gateway collection) the sources.",
    )
    more_sources = models.ManyToManyField(
        RepositoryCollection,
        verbose_name="more source repository collections",
        blank=True,
        related_name="integrations_as_more_sources",
        help_text="Enterprise Data Stream: repository collections streamed besides collection A.",
    )
    key_identifier = models.CharField(
        max_length=100,
        blank=True,
        help_text="Gateway style: the model field holding the target artifact's formatted id.",
    )
    twinless_update = models.BooleanField(
        "twinless artifact update",
        default=False,
        help_text="Gateway style: change the artifact the key identifier names instead of creating one.",
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

    def clean(self) -> None:
        """The shape of every setting, checked the same way on the screens, the API and import.
        Whether the settings fit the collections and model is ``integrations.validation``'s to say."""
        errors = {name: message for name, message in _setting_problems(self) if message}
        if self.collection_a_id is not None and self.collection_a_id == self.collection_b_id:
            errors["collection_b"] = "Collection B must differ from collection A."
        if errors:
            raise ValidationError(errors)


def _setting_problems(integration: Integration):
    from integrations.engine.schedule import InvalidCron, parse_cron

    for name in ("detection_cron", "full_scan_cron"):
        value = getattr(integration, name)
        if value:
            try:
                parse_cron(value)
            except InvalidCron as error:
                yield name, str(error)
    filters = integration.filters
    if not isinstance(filters, dict) or not isinstance(filters.get("conditions", []), list):
        yield "filters", '{"combine", "applies_to", "conditions": [...]}.'
    elif filters.get("combine", "and") not in ("and", "or"):
        yield "filters", "combine is “and” or “or”."
    elif filters.get("applies_to", "both") not in ("creation", "updates", "both"):
        yield "filters", "applies_to is creation, updates or both."
    elif not all(isinstance(condition, dict) for condition in filters.get("conditions", [])):
        yield "filters", 'Each condition is {"field", "operator", "value"}.'
    flows = integration.field_flows
    if not isinstance(flows, dict):
        yield "field_flows", "An object: model field id → flow."
    else:
        for key, value in flows.items():
            flow = value.get("flow") if isinstance(value, dict) else value
            if flow not in Flow.values:
                yield "field_flows", f"“{key}”: the flow is one of {', '.join(Flow.values)}."
                break
            unreadable = _time_entry_filter_problem(value.get("filter")) if isinstance(value, dict) else ""
            if unreadable:
                yield "field_flows", f"CCRRTT-50012E: “{key}”: the Time Entry Filtering {unreadable}."
                break
    for name in ("comment_flow", "attachment_flow"):
        value = getattr(integration, name)
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            yield name, "An object keyed by direction (a_to_b, b_to_a), each an object of settings."
        elif set(value) - {"a_to_b", "b_to_a"}:
            yield name, f"Unknown direction(s): {', '.join(sorted(set(value) - {'a_to_b', 'b_to_a'}))}."


def _time_entry_filter_problem(wanted) -> str:
    """Why a Time Tracking field flow's ``filter`` cannot be read: "" when it can (or is absent).
    ``{"a_to_b": {"activities": [ids], "since": "YYYY-MM-DD"}, "b_to_a": {...}}``."""
    from connectors.time_entries import TimeEntryFilter

    if wanted is None:
        return ""
    if not isinstance(wanted, dict) or set(wanted) - {"a_to_b", "b_to_a"}:
        return "is an object keyed by direction (a_to_b, b_to_a)"
    for direction, settings in wanted.items():
        try:
            if settings is not None and not isinstance(settings, dict):
                raise ValueError("it is {activities, since}")
            TimeEntryFilter.of(settings)
        except (ValueError, TypeError) as error:
            return f"of {direction} cannot be read: {error}"
    return ""


def repeated_route(routes) -> str:
    """Why a list of routes (dicts or Routes, in order) cannot be stored: "" when it can. Two routes
    between the same two projects would break the uniqueness of routes."""
    seen: dict[tuple[str, str], int] = {}
    for number, route in enumerate(routes, start=1):
        get = route.get if isinstance(route, dict) else lambda name, r=route: getattr(r, name)
        pair = (str(get("project_a") or ""), str(get("project_b") or ""))
        if pair in seen:
            return f"Route {number} joins the same projects as route {seen[pair]} ({pair[0]} ↔ {pair[1]})."
        seen[pair] = number
    return ""


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

    def clean(self) -> None:
        if self.condition in (None, ""):
            self.condition = {}
        if not isinstance(self.condition, dict):
            raise ValidationError({"condition": 'A condition is null or {"field", "operator", "value"}.'})
