"""The figures of the Metrics dashboard, computed afresh from the engine's counters on every load.

The Basic edition looks at every integration over the last 30 days, split by integration; the
Advanced edition chooses the range (7, 30, 90 days or its own), filters by integration, repository
and model, and splits by any of the three. Every query is one aggregate over ``DailyCount`` (whose
unique constraint leads with ``day``, so a range reads only its days) or ``PersonSighting``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from hub.ids import parse_ids
from metrics.models import CountKeys, CountTotal, DailyCount, MonthlyCount, PersonSeen, PersonSighting

MINUTES_SAVED_PER_TRANSACTION = 3
RANGES = {"7": 7, "30": 30, "90": 90}
DEFAULT_RANGE = "30"
CHART_BY = ("integration", "repository", "model")
MAX_CUSTOM_DAYS = 3 * 366


@dataclass
class Filters:
    start: date
    end: date
    range: str = DEFAULT_RANGE
    integration_ids: list[int] = field(default_factory=list)
    repository_ids: list[int] = field(default_factory=list)
    model_ids: list[int] = field(default_factory=list)
    chart_by: str = "integration"

    def counts(self, start: date | None = None, before: date | None = None):
        """The range's days (or those from ``start`` and before ``before`` within it). Each bound
        is given once: SQLite plans a range scan of the index on one lower and one upper bound, so
        a second upper bound would be a filter over every day up to ``end``."""
        start = max(start or self.start, self.start)
        days = DailyCount.objects.filter(day__gte=start)
        days = (
            days.filter(day__lt=before) if before and before <= self.end else days.filter(day__lte=self.end)
        )
        return self.narrowed(days)

    def whole_months(self) -> tuple[date, date]:
        """The first day of the first whole month of the range and the first day after its last
        whole month (equal when the range has no whole month)."""
        first = self.start if self.start.day == 1 else _next_month(self.start)
        after = (self.end + timedelta(days=1)).replace(day=1)
        return (first, after) if first < after else (self.start, self.start)

    def split(self, by: str) -> dict[int | None, int]:
        """Creates + updates per ``by`` over the range: its whole months from the monthly rollup,
        the days before and after them from the days."""
        first, after = self.whole_months()
        parts = [self.counts()]
        if first < after:
            months = MonthlyCount.objects.filter(month__gte=first, month__lt=after)
            parts = [
                self.narrowed(months),
                self.counts(before=first),
                self.counts(start=after),
            ]
        totals: dict[int | None, int] = {}
        for rows in parts:
            for key, n in (
                rows.values(by).annotate(n=Sum("created") + Sum("updated")).values_list(by, "n").order_by()
            ):
                totals[key] = totals.get(key, 0) + (n or 0)
        return totals

    def narrowed(self, rows):
        if self.integration_ids:
            rows = rows.filter(integration_id__in=self.integration_ids)
        if self.repository_ids:
            rows = rows.filter(repository_id__in=self.repository_ids)
        if self.model_ids:
            rows = rows.filter(model_id__in=self.model_ids)
        return rows

    def sightings(self):
        rows = PersonSighting.objects.filter(month__gte=self.start.replace(day=1), month__lte=self.end)
        if self.integration_ids:
            rows = rows.filter(integration_id__in=self.integration_ids)
        if self.repository_ids:
            rows = rows.filter(repository_id__in=self.repository_ids)
        if self.model_ids:
            from integrations.models import RepositoryCollection

            collections = RepositoryCollection.objects.filter(model_id__in=self.model_ids).values("pk")
            rows = rows.filter(collection_id__in=collections)
        return rows


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _ids(values: list[str]) -> list[int]:
    return sorted(parse_ids(values))  # ASCII digits only: "²" passes str.isdigit, then int() raises


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"The {what} date must be a date such as 2026-11-30.") from None


def filters_from(query, advanced: bool, today: date | None = None) -> tuple[Filters, list[str]]:
    """The filters a request asks for, and what was wrong with it (the defaults are used instead).
    The Basic edition ignores every filter."""
    today = today or timezone.localdate()
    basic = Filters(start=today - timedelta(days=RANGES[DEFAULT_RANGE] - 1), end=today)
    if not advanced:
        return basic, []
    errors: list[str] = []
    chosen = query.get("range", DEFAULT_RANGE)
    filters = Filters(
        start=basic.start,
        end=today,
        integration_ids=_ids(query.getlist("integration")),
        repository_ids=_ids(query.getlist("repository")),
        model_ids=_ids(query.getlist("model")),
        chart_by=query.get("chart_by") if query.get("chart_by") in CHART_BY else "integration",
    )
    if chosen in RANGES:
        filters.range, filters.start = chosen, today - timedelta(days=RANGES[chosen] - 1)
    elif chosen == "custom":
        try:
            start, end = _date(query.get("start", ""), "start"), _date(query.get("end", ""), "end")
            if start > end:
                raise ValueError("The start date must not be after the end date.")
            if (end - start).days > MAX_CUSTOM_DAYS:
                raise ValueError(f"A custom range covers at most {MAX_CUSTOM_DAYS} days.")
            filters.range, filters.start, filters.end = "custom", start, end
        except ValueError as error:
            errors.append(str(error))
    else:
        errors.append("Choose a date range: the last 7, 30 or 90 days, or a custom range.")
    return filters, errors


@dataclass
class Figures:
    created: int
    updated: int
    users: int
    distribution: list[tuple[str, int]]
    daily: list[tuple[date, int, int]]

    @property
    def transactions(self) -> int:
        return self.created + self.updated

    @property
    def hours_saved(self) -> float:
        return round(self.transactions * MINUTES_SAVED_PER_TRANSACTION / 60, 1)


def names() -> dict[str, dict[int, str]]:
    from integrations.models import Integration, Model, Repository

    return {
        "integration": dict(Integration.objects.values_list("pk", "name")),
        "repository": dict(Repository.objects.values_list("pk", "label")),
        "model": dict(Model.objects.values_list("pk", "name")),
    }


def _name(of: dict[int, str], key: int | None, what: str) -> str:
    if key is None:
        return f"(no {what})"
    return of.get(key, f"(deleted {what} {key})")


def figures(filters: Filters, named: dict[str, dict[int, str]] | None = None) -> Figures:
    """``named``: ``names()`` when the caller has it already (the page's filter choices)."""
    counts = filters.counts()
    by = f"{filters.chart_by}_id"
    labels = (named or names())[filters.chart_by]
    split = sorted(filters.split(by).items(), key=lambda item: (-item[1], item[0] is None, item[0] or 0))
    daily = {
        row["day"]: (row["created"], row["updated"])
        for row in counts.values("day").annotate(created=Sum("created"), updated=Sum("updated"))
    }
    days = (filters.end - filters.start).days + 1
    return Figures(  # the totals are the days' sums: one scan of the range fewer
        created=sum(created or 0 for created, _ in daily.values()),
        updated=sum(updated or 0 for _, updated in daily.values()),
        users=filters.sightings().values("repository_id", "person_id").distinct().count(),
        distribution=[(_name(labels, key, filters.chart_by), n) for key, n in split if n],
        daily=[
            (day, *daily.get(day, (0, 0))) for day in (filters.start + timedelta(days=n) for n in range(days))
        ],
    )


@dataclass(frozen=True)
class CumulativeRow:
    name: str
    style: str
    created: int
    updated: int
    user_ids: int


def _user_ids(key: str) -> dict[int, int]:
    """Distinct people (repository and person id) per integration: the rollup has one row each."""
    rows = PersonSeen.objects.filter(person_id__gt="").values(key).annotate(n=Count("id")).order_by()
    return {row[key]: row["n"] for row in rows}


def _people_by_repository() -> dict[int, int]:
    rows = (
        PersonSeen.objects.filter(person_id__gt="")
        .values("repository_id")
        .annotate(n=Count("person_id", distinct=True))
        .order_by()
    )
    return {row["repository_id"]: row["n"] for row in rows}


def rebuild_people_seen() -> int:
    """Recompute the ``PersonSeen`` rollup from the sightings (after rows were written around the
    engine, as ``rebuild_totals``)."""
    keys = ("integration_id", "repository_id", "person_id")
    PersonSeen.objects.all().delete()
    made = PersonSeen.objects.bulk_create(
        [PersonSeen(**row) for row in PersonSighting.objects.values(*keys).distinct().order_by(*keys)],
        batch_size=1000,
    )
    return len(made)


def cumulative_by_integration() -> list[CumulativeRow]:
    """Every integration with what Hub created and updated for it since counting began."""
    from integrations.models import Integration

    totals = {
        row["integration_id"]: row
        for row in CountTotal.objects.values("integration_id").annotate(c=Sum("created"), u=Sum("updated"))
    }
    users = _user_ids("integration_id")
    styles = dict(Integration.Style.choices)  # get_style_display() rebuilds the choices each call
    out = []
    for integration in Integration.objects.order_by("name").only("pk", "name", "style"):
        row = totals.get(integration.pk, {})
        out.append(
            CumulativeRow(
                integration.name,
                styles.get(integration.style, integration.style),
                row.get("c") or 0,
                row.get("u") or 0,
                users.get(integration.pk, 0),
            )
        )
    return out


def cumulative_by_repository() -> list[CumulativeRow]:
    from integrations.models import Repository

    totals = {
        row["repository_id"]: row
        for row in CountTotal.objects.values("repository_id").annotate(c=Sum("created"), u=Sum("updated"))
    }
    users = _people_by_repository()
    return [
        CumulativeRow(
            r.label,
            "",
            (totals.get(r.pk) or {}).get("c") or 0,
            (totals.get(r.pk) or {}).get("u") or 0,
            users.get(r.pk, 0),
        )
        for r in Repository.objects.order_by("label")
    ]


def roll_up_months(daily=DailyCount, monthly=MonthlyCount) -> int:
    """Recompute the monthly rollup from the days (the models are arguments for the migration that
    fills it)."""
    keys = CountKeys.KEYS
    rows = (
        daily.objects.annotate(month=TruncMonth("day"))
        .values("month", *keys)
        .annotate(c=Sum("created"), u=Sum("updated"))
        .order_by("month", *keys)
    )
    monthly.objects.all().delete()
    made = monthly.objects.bulk_create(
        [
            monthly(
                month=row["month"], **{k: row[k] for k in keys}, created=row["c"] or 0, updated=row["u"] or 0
            )
            for row in rows
        ],
        batch_size=1000,
    )
    return len(made)


def rebuild_totals() -> int:
    """Recompute the running totals and the monthly rollup from the days (after rows were written
    around the engine: a bulk load, a repair). The engine keeps them current itself."""
    roll_up_months()
    keys = CountKeys.KEYS
    rows = DailyCount.objects.values(*keys).annotate(c=Sum("created"), u=Sum("updated")).order_by(*keys)
    CountTotal.objects.all().delete()
    made = CountTotal.objects.bulk_create(
        [
            CountTotal(**{k: row[k] for k in keys}, created=row["c"] or 0, updated=row["u"] or 0)
            for row in rows
        ],
        batch_size=1000,
    )
    return len(made)
