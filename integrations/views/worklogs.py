"""The Worklogs (Time Tracking) and Test Step Flow sections of an integration's page
(integrations.forms.worklogs, integrations.forms.test_step_flow)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from integrations.forms.test_step_flow import TestStepFlowForm
from integrations.forms.worklogs import WorklogForm
from integrations.models import Integration
from integrations.snapshots import ElementType
from integrations.views.common import change


def _saved_flows(request, integration: Integration, form, section: str, done: str):
    """Save the field flows a section's form gives, recorded in the configuration history; the page
    again with the form's errors when it refuses."""
    from integrations.views.integrations import _page

    if not form.is_valid():
        return _page(request, integration, **{section: form})
    with change(request, ElementType.INTEGRATION, Integration.objects.get(pk=integration.pk)) as rec:
        integration.field_flows = form.field_flows()
        integration.save(update_fields=["field_flows", "updated"])
        rec.done(integration)
    messages.success(request, done)
    for warning in getattr(form, "warnings", ()):
        messages.warning(request, warning)  # advisory (50011W): saved all the same
    return redirect("integration-edit", integration.pk)


@require_POST
def integration_worklogs(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk, style=Integration.Style.TIME_TRACKING)
    form = WorklogForm(request.POST, integration=integration)
    return _saved_flows(request, integration, form, "worklogs", "Worklogs saved.")


@require_POST
def integration_test_step_flow(request, pk: int):
    from integrations.views.integrations import _model_fields

    integration = get_object_or_404(Integration, pk=pk)
    form = TestStepFlowForm(request.POST, integration=integration, model_fields=_model_fields(integration))
    return _saved_flows(request, integration, form, "test_step_flow", "Test step flow saved.")
