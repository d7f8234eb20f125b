"""One definition per Activity list: its filter set (search, filters), its tabs, the columns of its CSV
download. Views, paging, bulk actions "within the filters" and the download all read these, so
what a filter selects is the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from activity import services
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from hub.sorting import Column


def _contains_any(fields: tuple[str, ...], text: str) -> Q:
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": text})
    return condition


class _SearchMixin:
    search_fields: tuple[str, ...] = ()

    def search(self, queryset, name, value):
        return queryset.filter(_contains_any(self.search_fields, value)) if value else queryset


class _IntegrationChoice(django_filters.ChoiceFilter):
    """Choices read when the form is built, so new integrations appear without a restart."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, field_name="integration_id", label="Integration", **kwargs)

    @property
    def field(self):
        self.extra["choices"] = list(services.known_integrations().items())
        return super().field


class BlockerFilter(_SearchMixin, django_filters.FilterSet):
    search_fields = ("code", "message")
    q = django_filters.CharFilter(method="search", label="Search")
    impact = django_filters.ChoiceFilter(choices=Blocker.Impact.choices, empty_label="Any impact")

    class Meta:
        model = Blocker
        fields: list[str] = []


class JobFilter(_SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "message", "code", "integration_name")
    q = django_filters.CharFilter(method="search", label="Search")
    kind = django_filters.ChoiceFilter(
        choices=BackgroundJob.Kind.choices, label="Job type", empty_label="Any type"
    )

    class Meta:
        model = BackgroundJob
        fields: list[str] = []


class ActivityFilter(_SearchMixin, django_filters.FilterSet):
    search_fields = ("search_text",)  # formatted id, artifact id, code, summary, message
    q = django_filters.CharFilter(method="search", label="Search")
    without = django_filters.CharFilter(method="exclude_text", label="Without this text")
    integration_state = django_filters.ChoiceFilter(
        method="by_integration_state",
        label="Integration status",
        choices=[(services.RUNNING, "Running"), (services.STOPPED, "Stopped")],
        empty_label="Running or stopped",
    )
    integration = _IntegrationChoice(empty_label="Any integration")
    created_from = django_filters.DateFilter(
        field_name="created",
        lookup_expr="date__gte",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        field_name="created",
        lookup_expr="date__lte",
        label="Created to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    last_days = django_filters.NumberFilter(
        method="in_last_days", label="Or in the last … days", min_value=1, max_value=3650
    )
    conflict = django_filters.ChoiceFilter(
        method="by_conflict",
        label="Conflicts",
        choices=[("any", "With a conflict"), *ArtifactActivity.ConflictOutcome.choices[1:]],
        empty_label="With or without",
    )

    class Meta:
        model = ArtifactActivity
        fields: list[str] = []

    def exclude_text(self, queryset, name, value):
        return queryset.exclude(_contains_any(self.search_fields, value)) if value else queryset

    def by_integration_state(self, queryset, name, value):
        ids = [i for i in services.known_integrations() if services.integration_state(i) == value]
        return queryset.filter(integration_id__in=ids)

    def in_last_days(self, queryset, name, value):
        return queryset.filter(created__gte=timezone.now() - timedelta(days=int(value)))

    def by_conflict(self, queryset, name, value):
        if value == "any":
            return queryset.exclude(conflict="")
        return queryset.filter(conflict=value)


class PairFilter(_SearchMixin, django_filters.FilterSet):
    search_fields = ("search_text",)  # both sides' formatted id, artifact id and summary
    q = django_filters.CharFilter(method="search", label="Search by id or summary")
    integration = _IntegrationChoice(empty_label="Any integration")

    class Meta:
        model = ArtifactPair
        fields: list[str] = []


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListDefinition:
    key: str
    label: str
    model: type
    filterset: type[django_filters.FilterSet]
    csv_columns: tuple[tuple[str, str], ...]
    tabs: tuple[Tab, ...] = ()
    row_template: str = ""
    page_fields: tuple[str, ...] = field(default=())  # columns a page needs; the rest stay in the DB
    # What ?sort= may order the list by (hub.sorting); the first is the default order, newest first.
    sort_columns: tuple[Column, ...] = (Column("created", "Created", ("created",)),)

    def tab(self, key: str | None) -> Tab | None:
        if not self.tabs:
            return None
        return next((tab for tab in self.tabs if tab.key == key), self.tabs[0])

    def queryset(self, tab: Tab | None) -> QuerySet:
        queryset = self.model.objects.all()
        if tab and tab.statuses:
            queryset = queryset.filter(status__in=tab.statuses)
        return queryset

    def filtered(self, data, tab: Tab | None) -> tuple[django_filters.FilterSet, QuerySet]:
        filterset = self.filterset(data, queryset=self.queryset(tab))
        return filterset, filterset.qs

    @staticmethod
    def is_filtered(filterset) -> bool:
        return filterset.is_bound and any(filterset.form.cleaned_data.get(name) for name in filterset.filters)


Activity = ArtifactActivity.Status
Job = BackgroundJob.Status

BLOCKERS = ListDefinition(
    key="blockers",
    label="Blockers",
    model=Blocker,
    filterset=BlockerFilter,
    sort_columns=(Column("created", "Created", ("created",)), Column("code", "Code", ("code", "created"))),
    row_template="activity/_blocker_row.html",
    csv_columns=(
        ("code", "Code"),
        ("message", "Message"),
        ("impact", "Impact"),
        ("kind", "Kind"),
        ("integration_ids", "Integrations"),
        ("created", "Created"),
    ),
)
JOBS = ListDefinition(
    key="jobs",
    label="Background jobs",
    model=BackgroundJob,
    filterset=JobFilter,
    sort_columns=(
        Column("created", "Created", ("created",)),
        Column("name", "Name", ("name", "created")),
        Column("kind", "Type", ("kind", "created")),
    ),
    row_template="activity/_job_row.html",
    tabs=(
        Tab("processing", "Processing", (Job.PENDING, Job.PROCESSING)),
        Tab("failed", "Failed", (Job.FAILED,)),
        Tab("completed", "Completed", (Job.COMPLETED,)),
    ),
    csv_columns=(
        ("id", "Id"),
        ("kind", "Type"),
        ("name", "Name"),
        ("status", "Status"),
        ("progress", "Progress"),
        ("code", "Code"),
        ("message", "Message"),
        ("retry_count", "Retries"),
        ("next_retry_at", "Next retry"),
        ("created", "Created"),
        ("finished", "Finished"),
    ),
)
ACTIVITIES = ListDefinition(
    key="activities",
    label="Artifact activities",
    model=ArtifactActivity,
    filterset=ActivityFilter,
    sort_columns=(
        Column("created", "Created", ("created",)),
        Column("updated", "Updated", ("updated",)),
        Column("integration", "Integration", ("integration_name", "created")),
        Column("artifact", "Artifact", ("formatted_id", "created")),
        Column("code", "Code", ("code", "created")),
        Column("retries", "Retries", ("retry_count", "created")),
        Column("next_retry", "Next retry", ("next_retry_at", "created")),
    ),
    row_template="activity/_activity_row.html",
    tabs=(
        Tab("pending", "Pending", (Activity.PENDING,)),
        Tab("processing", "Processing", (Activity.PROCESSING,)),
        Tab("failed", "Failed", (Activity.FAILED,)),
        Tab("ignored", "Ignored", (Activity.IGNORED,)),
        Tab("completed", "Completed", (Activity.COMPLETED,)),
    ),
    csv_columns=(
        ("id", "Id"),
        ("status", "Status"),
        ("result", "Result"),
        ("integration_name", "Integration"),
        ("source_side", "Source side"),
        ("formatted_id", "Artifact"),
        ("summary", "Summary"),
        ("url", "URL"),
        ("code", "Code"),
        ("message", "Message"),
        ("retry_count", "Retries"),
        ("next_retry_at", "Next retry"),
        ("source_collection_name", "Source collection"),
        ("target_collection_name", "Target collection"),
        ("source_project", "Source project"),
        ("target_project", "Target project"),
        ("collection_pair_name", "Collection pair"),
        ("conflicts", "Conflict decisions"),
        ("created", "Created"),
        ("updated", "Updated"),
    ),
    page_fields=(
        "id",
        "integration_id",
        "integration_name",
        "source_side",
        "source_collection_name",
        "target_collection_name",
        "source_project",
        "target_project",
        "collection_pair_name",
        "artifact_id",
        "formatted_id",
        "summary",
        "url",
        "status",
        "result",
        "code",
        "message",
        "retry_count",
        "next_retry_at",
        "priority",
        "recreate",
        "twin_deleted",
        "changed_fields",
        "conflicts",
        "created",
        "updated",
    ),
)
PAIRS = ListDefinition(
    key="pairs",
    label="Artifact pairs",
    model=ArtifactPair,
    filterset=PairFilter,
    sort_columns=(
        # Pairs are numbered as they are made, so the id is their creation order: ordering by it
        # lets the primary key (and ``pair_integration``, integration then id) serve the default
        # list at any size. Ordering by the unindexed ``created`` sorted the whole table: 2 s at
        # 1,000,000 pairs instead of 23 ms (docs/performance.md).
        Column("created", "Created", ("id",)),
        Column("synchronized", "Last synchronized", ("last_synced_at",)),
        Column("integration", "Integration", ("integration_name", "created")),
        Column("artifact_a", "Artifact A", ("a_formatted_id",)),
        Column("artifact_b", "Artifact B", ("b_formatted_id",)),
    ),
    row_template="activity/_pair_row.html",
    csv_columns=(
        ("id", "Id"),
        ("integration_name", "Integration"),
        ("a_formatted_id", "Artifact A"),
        ("a_summary", "Summary A"),
        ("a_url", "URL A"),
        ("b_formatted_id", "Artifact B"),
        ("b_summary", "Summary B"),
        ("b_url", "URL B"),
        ("last_synced_at", "Last synchronized"),
        ("created", "Created"),
    ),
    page_fields=(
        "id",
        "integration_id",
        "integration_name",
        *ArtifactPair.side_columns(),
        "last_synced_at",
        "created",
    ),
)
LISTS = {definition.key: definition for definition in (BLOCKERS, JOBS, ACTIVITIES, PAIRS)}
