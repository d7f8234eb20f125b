"""The Metrics dashboard: each figure on counters with known answers, the Basic and Advanced
editions, the charts' accessible fallbacks, and the cumulative tables."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from hub import licensing
from integrations.models import Integration
from metrics import charts, dashboard
from metrics.models import DailyCount, MonthlyCount, PersonSighting

TODAY = timezone.localdate()


@pytest.fixture
def counted(integration):
    """Two integrations over two repositories: known creates and updates today, 10 days, 40 days
    and 100 days ago, and people seen this month."""
    a = integration
    repository_a, repository_b = a.collection_a.repository, a.collection_b.repository
    b = Integration.objects.create(
        name="Beta → Alpha", collection_a=a.collection_b, collection_b=a.collection_a
    )
    model = a.collection_a.model_id
    for days_ago, integration_, repository, created, updated in (
        (0, a, repository_b, 2, 5),
        (10, a, repository_b, 1, 1),
        (10, b, repository_a, 3, 0),
        (40, a, repository_b, 7, 7),
        (100, b, repository_a, 50, 50),
    ):
        DailyCount.objects.create(
            day=TODAY - timedelta(days=days_ago),
            integration_id=integration_.pk,
            repository_id=repository.pk,
            model_id=model,
            created=created,
            updated=updated,
        )
    dashboard.rebuild_totals()
    for person, integration_ in (("1", a), ("2", a), ("1", b)):
        PersonSighting.objects.create(
            month=TODAY.replace(day=1),
            repository_id=repository_a.pk,
            person_id=person,
            integration_id=integration_.pk,
            project="DEMO",
            field="owner",
        )
    dashboard.rebuild_people_seen()  # the engine writes the rollup with the sighting
    return a, b


def query(**values) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in values.items():
        q.setlist(key, value if isinstance(value, list) else [value])
    return q


def test_basic_shows_the_last_30_days_of_every_integration_whatever_is_asked(counted):
    filters, errors = dashboard.filters_from(query(range="90", integration="1"), advanced=False)
    assert errors == [] and (filters.start, filters.end) == (TODAY - timedelta(days=29), TODAY)
    figures = dashboard.figures(filters)
    assert (figures.created, figures.updated) == (6, 6)
    assert figures.transactions == 12 and figures.hours_saved == 0.6  # 12 × 3 min = 36 min
    assert figures.users == 2
    assert figures.distribution == [("Alpha ↔ Beta", 9), ("Beta → Alpha", 3)]


def test_advanced_ranges_filters_and_chart_by(counted):
    a, b = counted
    filters, _ = dashboard.filters_from(query(range="90"), advanced=True)
    assert dashboard.figures(filters).transactions == 26
    filters, _ = dashboard.filters_from(query(range="90", integration=str(b.pk)), advanced=True)
    assert dashboard.figures(filters).transactions == 3
    filters, _ = dashboard.filters_from(
        query(range="custom", start=(TODAY - timedelta(days=120)).isoformat(), end=TODAY.isoformat(),
              chart_by="repository"),
        advanced=True,
    )  # fmt: skip
    figures = dashboard.figures(filters)
    assert figures.transactions == 126
    assert figures.distribution == [("Alpha", 103), ("Beta", 23)]
    filters, _ = dashboard.filters_from(query(range="7", repository=str(a.collection_b.repository_id)), True)
    assert dashboard.figures(filters).transactions == 7


def test_the_model_filter_and_the_chart_by_model(counted):
    a, _ = counted
    model = a.collection_a.model
    filters, _ = dashboard.filters_from(query(range="90", model=str(model.pk), chart_by="model"), True)
    figures = dashboard.figures(filters)
    assert figures.transactions == 26 and figures.distribution == [(model.name, 26)]
    filters, _ = dashboard.filters_from(query(range="90", model=str(model.pk + 1000)), advanced=True)
    assert dashboard.figures(filters).transactions == 0


def test_the_daily_series_has_every_day_of_the_range(counted):
    filters, _ = dashboard.filters_from(query(range="30"), advanced=True)
    daily = dashboard.figures(filters).daily
    assert len(daily) == 30 and daily[-1] == (TODAY, 2, 5)
    assert daily[-11] == (TODAY - timedelta(days=10), 4, 1)
    assert sum(created for _, created, _ in daily) == 6


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"range": "custom", "start": "yesterday", "end": "2026-11-30"}, "start date must be a date"),
        ({"range": "custom", "start": "2026-11-30", "end": "2026-11-01"}, "must not be after"),
        ({"range": "365"}, "Choose a date range"),
    ],
)
def test_a_bad_range_says_why_and_falls_back_to_30_days(db, values, message):
    filters, errors = dashboard.filters_from(query(**values), advanced=True)
    assert len(errors) == 1 and message in errors[0]
    assert filters.start == TODAY - timedelta(days=29)


def test_the_template_column_names_each_style(integration):
    """The "Template" column (cumulative per integration) says each integration's style by its
    documented name, an Enterprise Data Stream and a Gateway integration too, counted or not."""
    Integration.objects.create(
        name="Defects → reporting", style=Integration.Style.ENTERPRISE_DATA_STREAM,
        collection_a=integration.collection_a,
    )  # fmt: skip
    Integration.objects.create(
        name="CI → Alpha", style=Integration.Style.GATEWAY, collection_b=integration.collection_a
    )
    styles = {row.name: row.style for row in dashboard.cumulative_by_integration()}
    assert styles["Defects → reporting"] == "Enterprise Data Stream"
    assert styles["CI → Alpha"] == "Gateway"
    assert styles[integration.name] == "Work Item Synchronization"


def test_cumulative_tables_count_since_counting_began(counted):
    a, b = counted
    rows = {row.name: row for row in dashboard.cumulative_by_integration()}
    assert (rows["Alpha ↔ Beta"].created, rows["Alpha ↔ Beta"].updated, rows["Alpha ↔ Beta"].user_ids) == (
        10,
        13,
        2,
    )
    assert rows["Beta → Alpha"].style == "Work Item Synchronization"
    assert (rows["Beta → Alpha"].created, rows["Beta → Alpha"].user_ids) == (53, 1)
    repositories = {row.name: row for row in dashboard.cumulative_by_repository()}
    assert (repositories["Alpha"].created, repositories["Alpha"].user_ids) == (53, 2)
    assert (repositories["Beta"].created, repositories["Beta"].user_ids) == (10, 0)


def test_the_engine_keeps_the_totals_with_the_days(db):
    """What the sync writes lands in the day's row and the running total alike."""
    from types import SimpleNamespace as Row

    from integrations.engine import counters
    from metrics.models import CountTotal

    target = Row(repository=Row(pk=7), collection=Row(model_id=3))
    processor = Row(
        integration=Row(pk=5), target=target, source=target, persons=Row(fields=set(), seen={}), activity=None
    )
    counters.record([(processor, True), (processor, False), (processor, False)])
    counters.record([(processor, True)])
    day = DailyCount.objects.get()
    total = CountTotal.objects.get()
    month = MonthlyCount.objects.get()
    assert (day.created, day.updated) == (total.created, total.updated) == (month.created, month.updated)
    assert (day.created, day.updated, month.month) == (2, 2, day.day.replace(day=1))


@pytest.mark.parametrize(
    "start, end",
    [
        (date(2026, 1, 1), date(2026, 3, 31)),  # whole months only
        (date(2026, 1, 15), date(2026, 3, 10)),  # a part, a whole month, a part
        (date(2026, 1, 15), date(2026, 2, 10)),  # no whole month
        (date(2025, 12, 31), date(2026, 2, 1)),  # a day on each side of a whole month
        (date(2026, 2, 1), date(2026, 3, 15)),  # a whole month, then a part
    ],
)
def test_the_distribution_from_the_monthly_rollup_equals_the_days(db, start, end):
    """Whole months come from ``MonthlyCount``, the days around them from ``DailyCount``: the sum
    is what summing every day of the range gives."""
    day = date(2025, 12, 1)
    while day <= date(2026, 4, 30):
        for integration_id in (1, 2):
            DailyCount.objects.create(
                day=day,
                integration_id=integration_id,
                repository_id=9,
                created=day.day,
                updated=integration_id,
            )
        day += timedelta(days=1)
    dashboard.rebuild_totals()
    assert MonthlyCount.objects.count() == 5 * 2
    filters = dashboard.Filters(start=start, end=end)
    expected = {
        integration_id: sum(
            d.created + d.updated
            for d in DailyCount.objects.filter(integration_id=integration_id, day__gte=start, day__lte=end)
        )
        for integration_id in (1, 2)
    }
    assert filters.split("integration_id") == expected
    figures = dashboard.figures(filters)
    assert figures.created + figures.updated == sum(expected.values())


def test_pie_slices_share_the_whole_and_a_single_slice_is_a_circle():
    slices = charts.pie([("a", 3), ("b", 1)])
    assert [s.share for s in slices] == [75.0, 25.0]
    assert " A 90 90 0 1 1 " in slices[0].path  # the larger arc
    assert charts.pie([("only", 5)])[0].path.count(" a ") == 2
    assert charts.pie([]) == []


def test_the_page_for_a_viewer_shows_figures_charts_and_their_tables(counted, viewer_client, licensed):
    page = viewer_client.get("/metrics/?range=90").content.decode()
    assert 'data-testid="metrics-filters"' in page  # the test license is Advanced
    assert 'data-testid="total-created">63<' not in page
    assert 'data-testid="total-created">13<' in page and 'data-testid="total-updated">13<' in page
    assert "<title>Alpha ↔ Beta: 23 (88.5 %)</title>" in page
    assert 'data-testid="distribution"' in page and 'data-testid="daily-table"' in page
    assert 'data-testid="cumulative-integrations"' in page


def test_a_superscript_digit_in_a_filter_is_left_out_not_a_server_error(counted, viewer_client, licensed):
    response = viewer_client.get("/metrics/", {"integration": "²", "repository": ["1²", "٣"], "range": "90"})
    assert response.status_code == 200
    assert 'data-testid="total-created">13<' in response.content.decode()  # as if nothing was chosen


def test_the_basic_edition_page_has_no_filters(counted, viewer_client, issue):
    licensing.apply(issue(edition="basic"))
    page = viewer_client.get("/metrics/?range=90").content.decode()
    assert 'data-testid="basic-edition"' in page and 'data-testid="metrics-filters"' not in page
    assert 'data-testid="total-created">6<' in page


def test_a_tool_supplied_name_is_escaped(counted, viewer_client, licensed):
    a, _ = counted
    a.name = "<script>alert(1)</script>"
    a.save()
    page = viewer_client.get("/metrics/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_an_htmx_request_gets_only_the_figures(counted, viewer_client, licensed):
    partial = viewer_client.get("/metrics/?range=7", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="dashboard"') and "<html" not in partial
    assert date.today().isoformat()[:4] in partial


def test_viewers_cannot_download_the_customer_usage_report(counted, viewer_client):
    assert viewer_client.post("/metrics/customer-usage-report/").status_code == 403


def test_the_customer_usage_report_has_personal_details(counted, admin_client):
    from metrics.models import RepositoryPerson

    a, _ = counted
    RepositoryPerson.objects.create(
        repository_id=a.collection_a.repository_id,
        person_id="1",
        username="grace",
        email="grace@example.com",
        display_name="Grace Hopper",
    )
    response = admin_client.post("/metrics/customer-usage-report/")
    text = response.content.decode()
    header = text.splitlines()[0].split(",")
    assert header[-6:] == [
        "First Name",
        "Last Name",
        "Display Name",
        "Email",
        "Username",
        "Repository Person ID",
    ]
    assert "Grace,Hopper,Grace Hopper,grace@example.com,grace,1" in text
