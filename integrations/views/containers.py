"""The container mirroring section of a Container + Work Item integration's page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from integrations.forms.containers import ContainerMirroringForm, conditions_formset
from integrations.models import Integration
from integrations.snapshots import ElementType
from integrations.views.common import change
from integrations.views.integrations import _page


@require_POST
def integration_containers(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk, style=Integration.Style.CONTAINER_WORK_ITEM)
    conditions = conditions_formset(integration, request.POST)
    form = ContainerMirroringForm(request.POST, integration=integration, conditions=conditions)
    # The conditions' own shape first: the mirroring form reads them only once they are valid.
    if not conditions.is_valid() or not form.is_valid():
        return _page(request, integration, mirroring=form, container_conditions=conditions)
    with change(request, ElementType.INTEGRATION, Integration.objects.get(pk=pk)) as rec:
        form.save()
        rec.done(integration)
    messages.success(request, "Container mirroring saved.")
    return redirect("integration-edit", pk)
