"""The Metrics screens: the dashboard and its cumulative tables. Figures come from
``metrics.dashboard``; the edition of the license decides which filters exist."""

from __future__ import annotations

from django.shortcuts import render

from hub import licensing
from metrics import charts, dashboard

RANGE_LABELS = [
    ("7", "Last 7 Days"),
    ("30", "Last 30 Days"),
    ("90", "Last 90 Days"),
    ("custom", "Custom Range"),
]


def advanced_edition() -> bool:
    license = licensing.current().license
    return bool(license) and license.edition == licensing.Edition.ADVANCED


def metrics_page(request):
    advanced = advanced_edition()
    filters, errors = dashboard.filters_from(request.GET, advanced)
    figures = dashboard.figures(filters)
    context = {
        "advanced": advanced,
        "filters": filters,
        "errors": errors,
        "figures": figures,
        "pie": charts.pie(figures.distribution),
        "line": charts.daily_lines(figures.daily),
        "by_integration": dashboard.cumulative_by_integration(),
        "by_repository": dashboard.cumulative_by_repository(),
        "choices": dashboard.names() if advanced else {},
        "ranges": [
            ("7", "Last 7 Days"),
            ("30", "Last 30 Days"),
            ("90", "Last 90 Days"),
            ("custom", "Custom Range"),
        ],
        "minutes": dashboard.MINUTES_SAVED_PER_TRANSACTION,
    }
    template = "metrics/_dashboard.html" if request.htmx else "metrics/dashboard.html"
    return render(request, template, context)
