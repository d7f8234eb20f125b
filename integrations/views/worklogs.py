"""The Worklogs (Time Tracking) section of an integration's page (integrations.forms.worklogs)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from integrations.forms.worklogs import WorklogForm
from integrations.models import Integration
from integrations.snapshots import ElementType
from integrations.views.common import change


@require_POST
def integration_worklogs(request, pk: int):
    from integrations.views.integrations import _page

    integration = get_object_or_404(Integration, pk=pk, style=Integration.Style.TIME_TRACKING)
    form = WorklogForm(request.POST, integration=integration)
    if not form.is_valid():
        return _page(request, integration, worklogs=form)
    with change(request, ElementType.INTEGRATION, Integration.objects.get(pk=pk)) as rec:
        integration.field_flows = form.field_flows()
        integration.save(update_fields=["field_flows", "updated"])
        rec.done(integration)
    messages.success(request, "Worklogs saved.")
    for warning in form.warnings:
        messages.warning(request, warning)
    return redirect("integration-edit", pk)
