"""The "Override database access" choice of the CCRRTT-30012E page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from hub import audit, gates, lease
from hub.instance import host_name, instance_id


@require_POST
def override_database_access(request):
    other = lease.holder()
    before = {"instance": other.instance_id, "host": other.host} if other else None
    lease.acquire(override=True)
    audit.record_change(
        request.user,
        "settings",
        "Operational database",
        "Database access",
        before,
        {"instance": instance_id(), "host": host_name()},
    )
    gates.refresh_global_blockers()
    messages.success(
        request, "This instance now owns the operational database; the other instance stops processing."
    )
    return redirect("home")
