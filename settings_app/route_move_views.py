"""Settings → Advanced → Move Routes Between Integrations: source integration → target integration →
routes → a confirmation ("I understand…") → Move, which queues the route move job
(``integrations.route_move``) whose progress shows on Activity → Background Jobs."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from activity.jobs import JobFailed
from hub.ids import parse_id, parse_ids
from integrations import route_move
from integrations.models import Integration, Route


def _chosen(data, name: str) -> Integration | None:
    pk = parse_id(data.get(name, ""))
    return Integration.objects.filter(pk=pk).first() if pk is not None else None


@require_http_methods(["GET", "POST"])
def move_routes(request):
    data = request.POST if request.method == "POST" else request.GET
    source, target = _chosen(data, "source"), _chosen(data, "target")
    new_repository = data.get("new_repository") == "on"
    refusals, routes, status = [], [], 200
    if source is not None and target is not None:
        refusals = route_move.integration_refusals(source, target, new_repository=new_repository)
        routes = list(source.routes.all()) if not refusals else []
    if request.method == "POST":
        chosen = parse_ids(request.POST.getlist("routes"))
        picked = list(Route.objects.filter(pk__in=chosen, integration=source)) if source else []
        if request.POST.get("understood") != "on":
            messages.error(request, "Tick “I understand…” to confirm the move.")
            status = 400
        elif source is None or target is None:
            messages.error(request, "Choose the source and the target integration.")
            status = 400
        else:
            try:
                job = route_move.start(
                    source,
                    target,
                    picked,
                    new_repository=new_repository,
                    requested_by=request.user.get_username(),
                )
            except JobFailed as refusal:
                messages.error(request, f"{refusal.code}: {refusal.message}")
                status = 400
            else:
                messages.success(
                    request,
                    f"{job.name} started: follow it on Activity → Background Jobs, then review "
                    f"“{target.name}” and run it.",
                )
                return redirect(reverse("activity-list", args=["jobs"]))
    context = {
        "integrations": Integration.objects.order_by("name"),
        "source": source,
        "target": target,
        "new_repository": new_repository,
        "refusals": refusals,
        "routes": routes,
        "chosen_routes": set(parse_ids(data.getlist("routes"))),
        "open_job": route_move.open_job([i.pk for i in (source, target) if i is not None]),
    }
    return render(request, "settings_app/move_routes.html", context, status=status)
