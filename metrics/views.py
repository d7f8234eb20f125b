"""The Metrics screens: the dashboard and its cumulative tables. Figures come from
``metrics.dashboard``; the edition of the license decides which filters exist."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub import licensing
from hub.roles import is_administrator
from metrics import charts, dashboard, usage, usercount, usercount_config

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
    named = dashboard.names()
    figures = dashboard.figures(filters, named)
    context = {
        "advanced": advanced,
        "filters": filters,
        "errors": errors,
        "figures": figures,
        "pie": charts.pie(figures.distribution),
        "line": charts.daily_lines(figures.daily),
        "daily_rows": charts.daily_rows(figures.daily),
        "by_integration": dashboard.cumulative_by_integration(),
        "by_repository": dashboard.cumulative_by_repository(),
        "choices": named if advanced else {},
        "ranges": RANGE_LABELS,
        "minutes": dashboard.MINUTES_SAVED_PER_TRANSACTION,
        "is_administrator": is_administrator(request.user),
    }
    template = "metrics/_dashboard.html" if request.htmx else "metrics/dashboard.html"
    return render(request, template, context)


@require_POST  # a POST: only administrators get personal data (the roles middleware, with CSRF)
def customer_usage_report(request):
    response = HttpResponse(usage.report_csv(personal=True), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="hub-customer-usage-report-{stamp}.csv"'
    return response


def user_count_page(request):
    result = usercount.figures()
    return render(
        request,
        "metrics/user_count.html",
        {
            "result": result,
            "bars": charts.bars(result.monthly),
            "is_administrator": is_administrator(request.user),
        },
    )


@require_POST  # the report names people (usernames, emails): administrators only, with CSRF
def user_count_report(request):
    response = HttpResponse(usercount.report_zip(), content_type="application/zip")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="hub-user-count-report-{stamp}.zip"'
    return response


def user_count_configuration(request):
    """Every signed-in user may look; Save (a POST) is for administrators (the roles middleware)."""
    tab = request.GET.get("tab") or request.POST.get("tab") or "integrations"
    if tab not in dict(usercount_config.TABS):
        tab = "integrations"
    messages: list[str] = []
    errors: list[str] = []
    if request.method == "POST":
        errors, messages = usercount_config.save(request, tab)
        if not errors:
            return redirect(f"{reverse('user-count-configuration')}?tab={tab}&saved=1")
    elif request.GET.get("saved"):
        messages.append("Saved.")
    context = {
        "tab": tab,
        "tabs": usercount_config.TABS,
        "errors": errors,
        "messages": messages,
        "is_administrator": is_administrator(request.user),
        **usercount_config.context(tab, request),
    }
    return render(request, "metrics/user_count_configuration.html", context)
