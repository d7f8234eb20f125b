"""The Activity screen: the banner, the four lists with their tabs, filters, paging and download, and
the actions. Views are thin: lists come from ``activity.lists``, actions from ``activity.services``.

Actions answer HTMX with the affected rows swapped out of band (``id="<list>-<pk>"``), so the row
under the user's pointer changes in place and nothing else on the page moves; the banner is told to
refresh through the ``activity-changed`` event. Without HTMX they redirect back to the list.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST

from activity import services
from activity.lists import LISTS, ListDefinition, Tab
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker, LedgerSettings
from hub.ids import parse_ids
from hub.sorting import Sorting

logger = logging.getLogger("hub.activity")

PAGE_SIZE = 25
A = ArtifactActivity.Status
J = BackgroundJob.Status

# list key → action → (service, word for the result message). Every action takes (queryset, user).
ACTIONS = {
    "blockers": {
        "retry": (services.retry_blockers, "{n} blocker{s} retried."),
        "resolve": (services.resolve_blockers, "{n} blocker{s} resolved."),
        "remove": (services.remove_blockers, "{n} blocker{s} removed."),
    },
    "jobs": {
        "prioritize": (services.prioritize_jobs, "{n} job{s} prioritized."),
        "remove": (services.remove_completed_jobs, "{n} completed job{s} removed."),
    },
    "activities": {
        "prioritize": (services.prioritize_activities, "{n} activit{s} prioritized."),
        "cancel": (services.cancel_activities, "{n} activit{s} cancelled."),
        "ignore": (services.ignore_activities, "{n} activit{s} ignored."),
        "retry": (services.retry_activities, "{n} activit{s} scheduled for retry now."),
        "recreate": (services.recreate_activities, "{n} activit{s} will recreate the deleted twin."),
        "stop-ignoring": (services.stop_ignoring_activities, "{n} activit{s} moved back to Failed."),
        "remove": (services.remove_completed_activities, "{n} completed activit{s} removed."),
    },
    "pairs": {
        "sync": (
            None,
            "Synchronization requested for {n} artifact{s}.",
        ),  # needs the chosen side: see _run_action
        "delete": (services.delete_pairs, "{n} pair{s} deleted."),
    },
}
# Bulk forms that would touch everything unless the user narrowed the list first.
NEEDS_FILTER = {("activities", "stop-ignoring"), ("pairs", "sync")}


@require_GET
def index(request):
    """The Activity entry of the main navigation: the failed artifact activities, where most
    problems show first (served here rather than redirected, so the navigation marks it current)."""
    return listing(request, "activities", "failed")


def _definition(list_key: str) -> ListDefinition:
    try:
        return LISTS[list_key]
    except KeyError:
        raise Http404("No such list.") from None


@require_GET
def banner(request):
    current = request.GET.get("current", "")
    return render(request, "activity/_banner.html", {"counts": banner_counts(), "current": current})


def banner_counts() -> dict:
    """Every number of the summary banner, in four grouped queries (one per ledger table).

    The Blockers part also counts the integration data migration and configuration migration jobs
    by state, because a migration that is pending, processing or has failed is what keeps their
    blockers (66003W) up."""
    # Blocking (all integrations) + affecting some = the total: every blocker has one impact.
    blockers = Blocker.objects.aggregate(
        total=Count("id"),
        blocking=Count("id", filter=Q(impact=Blocker.Impact.ALL)),
        affecting=Count("id", filter=Q(impact=Blocker.Impact.AFFECTED)),
    )
    jobs = {J.PENDING: 0, J.PROCESSING: 0, J.FAILED: 0, J.COMPLETED: 0}
    migrations = dict(jobs)
    for kind, status, n in (
        BackgroundJob.objects.order_by().values_list("kind", "status").annotate(n=Count("id"))
    ):
        jobs[status] += n
        if kind in (BackgroundJob.Kind.DATA_MIGRATION, BackgroundJob.Kind.CONFIGURATION_MIGRATION):
            migrations[status] += n
    activities, about = count_activities()
    return {
        "blockers": {**blockers, "migrations": _job_buckets(migrations)},
        "jobs": _job_buckets(jobs),
        "activities": activities,
        "activities_about": about,
        "pairs": count_pairs(),
    }


def count_activities() -> tuple[dict, dict]:
    """Activities per status, and which of them are estimates. On a huge ledger (a large initial
    sync's backlog: a million pending) a status the planner puts above ``EXACT_UP_TO`` rows comes
    from its statistics; the others are counted exactly, in one query limited to those statuses
    (an index range scan on ``activity_status_created``, not a scan of the whole table)."""
    counts = dict.fromkeys(A.values, 0)
    estimates = estimated_by_status()
    large = {status for status, n in (estimates or {}).items() if n > EXACT_UP_TO and status in counts}
    exact = ArtifactActivity.objects.order_by()
    if large:
        exact = exact.filter(status__in=[status for status in counts if status not in large])
        counts.update({status: estimates[status] for status in large})
    counts.update(exact.values_list("status").annotate(n=Count("id")))
    return counts, {status: status in large for status in counts}


# Above this many rows an unfiltered count of a table on PostgreSQL comes from the planner's own
# estimate (kept current by autovacuum) instead of counting a million index entries every few
# seconds; the screen says "about" when it does.
ESTIMATE_ABOVE = 200_000


def estimated_rows(model) -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] > ESTIMATE_ABOVE else None


# A status of that many rows or fewer is counted exactly even on a huge ledger (failed, ignored: the
# ones a user acts on, and an index range scan of at most this many entries).
EXACT_UP_TO = 50_000


def estimated_by_status() -> dict[str, int] | None:
    """The planner's rows per activity status (its most common values × the table's rows, both
    kept current by autovacuum's ANALYZE), when the table holds more than ``ESTIMATE_ABOVE`` rows;
    else None (count exactly)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples::bigint, s.most_common_vals::text::text[], s.most_common_freqs"
            " FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema()"
            " AND s.tablename = c.relname AND s.attname = 'status' WHERE c.oid = %s::regclass",
            [ArtifactActivity._meta.db_table],
        )
        row = cursor.fetchone()
    if not row or row[0] <= ESTIMATE_ABOVE:
        return None
    total, values, frequencies = row
    return {value: int(total * share) for value, share in zip(values or [], frequencies or [], strict=True)}


def count_pairs() -> dict:
    estimate = estimated_rows(ArtifactPair)
    if estimate is not None:
        return {"n": estimate, "about": True}
    return {"n": ArtifactPair.objects.count(), "about": False}


class LedgerPaginator(Paginator):
    """Exact counts, except for the unfiltered list of a huge table (see ``ESTIMATE_ABOVE``), and an
    unfiltered activity tab whose statuses the planner puts above ``EXACT_UP_TO`` rows on a huge
    ledger (``statuses``: the pending tab of a large initial sync)."""

    def __init__(self, object_list, per_page, *, may_estimate: bool = False, statuses=()):
        super().__init__(object_list, per_page)
        self.may_estimate = may_estimate
        self.statuses = tuple(statuses)
        self.approximate = False

    @cached_property
    def count(self) -> int:
        if self.may_estimate and (estimate := estimated_rows(self.object_list.model)) is not None:
            self.approximate = True
            return estimate
        if self.statuses and self.object_list.model is ArtifactActivity:
            estimates = estimated_by_status() or {}
            estimate = sum(estimates.get(status, 0) for status in self.statuses)
            if estimate > EXACT_UP_TO:
                self.approximate = True
                return estimate
        return super().count


def _job_buckets(by_status: dict) -> dict:
    return {
        "processing": by_status[J.PENDING] + by_status[J.PROCESSING],
        "failed": by_status[J.FAILED],
        "completed": by_status[J.COMPLETED],
    }


def _page_queryset(definition: ListDefinition, queryset):
    return queryset.only(*definition.page_fields) if definition.page_fields else queryset


def _sorting(definition: ListDefinition, data) -> Sorting:
    """The order the user chose by a column header (``?sort=``); the page and its CSV share it."""
    return Sorting(data, definition.sort_columns, default=definition.sort_columns[0].key, descending=True)


def _list_context(request, definition: ListDefinition, tab: Tab | None, data) -> dict:
    filterset, queryset = definition.filtered(data, tab)
    filtered = definition.is_filtered(filterset)
    unfiltered_whole_table = not filtered and not (tab and tab.statuses)
    sorting = _sorting(definition, data)
    paginator = LedgerPaginator(
        _page_queryset(definition, sorting.apply(queryset)),
        PAGE_SIZE,
        may_estimate=unfiltered_whole_table,
        statuses=tab.statuses if tab and tab.statuses and not filtered else (),
    )
    page = paginator.get_page(data.get("page"))
    query = _filters_only(data)
    return {
        "definition": definition,
        "tab": tab,
        "filterset": filterset,
        "filtered": filtered,
        "page": page,
        "query": query.urlencode(),
        "applied": [(name, value) for name, values in query.lists() for value in values if value],
        "list_url": _list_url(definition, tab),
        "sort_headers": sorting.headers().values(),
        "ledger_settings": LedgerSettings.get() if tab and tab.key == "ignored" else None,
        "now": timezone.now(),
    }


def _filters_only(data):
    """The filter fields of a request, without paging, the CSRF token or an action's own fields."""
    query = data.copy()
    for name in ("page", "csrfmiddlewaretoken", "scope", "ids", "side"):
        query.pop(name, None)
    return query


def _list_url(definition: ListDefinition, tab: Tab | None) -> str:
    if tab:
        return reverse("activity-list", kwargs={"list_key": definition.key, "tab": tab.key})
    return reverse("activity-list", kwargs={"list_key": definition.key})


@require_GET
def listing(request, list_key: str, tab: str | None = None):
    definition = _definition(list_key)
    chosen = definition.tab(tab)
    context = _list_context(request, definition, chosen, request.GET)
    if request.htmx and request.htmx.target == "list":
        return render(request, "activity/_list.html", context)
    # The banner fills itself in with its own request (hx-trigger "load"): the list answers without
    # waiting for the counts of every other tab.
    return render(request, "activity/page.html", {**context, "lists": LISTS.values()})


# A cell a spreadsheet would run as a formula (=, +, -, @, or a control character first) gets a
# leading apostrophe: summaries and messages come from tools and users, not from us.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):  # JSON columns (conflict decisions): JSON text, not Python's repr
        value = json.dumps(value, ensure_ascii=False, default=str)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Echo:
    """csv.writer writes into this and gets the line back, so rows stream one at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(definition: ListDefinition, queryset) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([label for _, label in definition.csv_columns])
    names = [name for name, _ in definition.csv_columns]
    # iterator(): a server-side cursor on PostgreSQL, so 100,000 rows never sit in memory at once.
    for row in queryset.values_list(*names).iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in row])


@require_GET
def download(request, list_key: str, tab: str | None = None):
    definition = _definition(list_key)
    chosen = definition.tab(tab)
    _, queryset = definition.filtered(request.GET, chosen)
    queryset = _sorting(definition, request.GET).apply(queryset)
    name = f"{definition.key}{'-' + chosen.key if chosen else ''}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(_csv_rows(definition, queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def act(request, list_key: str, action: str, tab: str | None = None):
    """One action on the selected rows (``scope=selected``, ``ids``) or on every row the posted
    filters select within the tab (``scope=filtered``)."""
    definition = _definition(list_key)
    if action not in ACTIONS[list_key]:
        raise Http404("No such action.")
    chosen = definition.tab(tab)
    filterset, filtered = definition.filtered(request.POST, chosen)
    scope = request.POST.get("scope", "selected")
    if scope == "filtered":
        if (list_key, action) in NEEDS_FILTER and not definition.is_filtered(filterset):
            return HttpResponseBadRequest("Apply a filter or a search first: this would touch every row.")
        targets = filtered
        ids: list[int] = []
    else:
        ids = parse_ids(request.POST.getlist("ids"))
        if not ids:
            return HttpResponseBadRequest("Select at least one row.")
        targets = definition.model.objects.filter(pk__in=ids)
    count = _run_action(request, list_key, action, targets)
    if count is None:
        return HttpResponseBadRequest("Choose the side to synchronize from: A or B.")
    plural = ("y", "ies") if list_key == "activities" else ("", "s")
    message = ACTIONS[list_key][action][1].format(n=count, s=plural[count != 1])
    if not request.htmx:
        messages.success(request, message)
        return redirect(f"{_list_url(definition, chosen)}?{_filters_only(request.POST).urlencode()}")
    context = {"message": message, "definition": definition, "tab": chosen, "now": timezone.now()}
    if scope == "filtered":
        context.update(_list_context(request, definition, chosen, request.POST), relist=True)
    else:
        found = {
            row.pk: row for row in _page_queryset(definition, definition.model.objects.filter(pk__in=ids))
        }
        context["rows"] = [(pk, found.get(pk)) for pk in ids]
    response = HttpResponse(render_to_string("activity/_action_result.html", context, request=request))
    response["HX-Trigger"] = "activity-changed"
    return response


def _run_action(request, list_key: str, action: str, targets) -> int | None:
    if (list_key, action) == ("pairs", "sync"):
        side = request.POST.get("side", "both")
        sides = {"A": ("A",), "B": ("B",), "both": ("A", "B")}.get(side)
        if sides is None:
            return None
        return services.request_sync(targets, sides, user=request.user)
    service, _ = ACTIONS[list_key][action]
    return service(targets, user=request.user)


@require_POST
def auto_retry(request):
    enabled = request.POST.get("enabled") == "on"
    services.set_auto_retry_ignored(enabled, user=request.user)
    if request.htmx:
        return render(request, "activity/_auto_retry.html", {"ledger_settings": LedgerSettings.get()})
    return redirect("activity-list", list_key="activities", tab="ignored")
