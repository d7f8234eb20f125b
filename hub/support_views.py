"""Help → System Information and the Support and Usage Report download."""

from __future__ import annotations

import time

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub import licensing, support_contents, support_report
from hub.roles import is_administrator
from settings_app import environment

# When this web process started: the uptime System Information shows.
STARTED = time.time()


def system_information() -> dict:
    from hub import workers

    status = licensing.current()
    return {
        "version": support_contents.version(),
        "edition": str(status.license.edition) if status.license else "none",
        "license": licensing.describe(status.license) if status.license else None,
        "license_problem": status.problem,
        "database": support_contents.connection.vendor,
        "broker": support_contents.broker_kind(),
        "workers": workers.seen_recently(),
        "uptime_seconds": int(time.time() - STARTED),
    }


def help_index(request):
    return render(
        request,
        "hub/help.html",
        {
            "system": system_information(),
            "is_administrator": is_administrator(request.user),
            "default_days": support_report.DEFAULT_LOG_DAYS,
            "max_days": support_report.MAX_LOG_DAYS,
        },
    )


@require_POST  # a POST: the roles middleware lets only administrators through, with CSRF
def download_support_report(request):
    try:
        days = support_report.days_of_logs(request.POST.get("days"))
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    name = support_report.file_name(environment.current()["name"], timezone.localtime())
    response = StreamingHttpResponse(
        support_report.stream(support_report.members(days)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
