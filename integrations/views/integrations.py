from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from activity.services import forget_integration
from hub.sorting import Column, Sorting
from integrations import services, validation
from integrations.forms.integrations import (
    STREAM_STYLES,
    ConditionFormSet,
    FieldFlowForm,
    FilterSettingsForm,
    IntegrationForm,
    RouteFormSet,
    RoutingSettingsForm,
    StreamIntegrationForm,
    condition_initial,
)
from integrations.forms.test_step_flow import TestStepFlowForm
from integrations.models import Integration
from integrations.snapshots import ElementType
from integrations.views.common import change, confirm_delete, delete

NOTHING_FLOWS = (
    "No field flows between the collections (every field flow is None): Run finds and pairs "
    "artifacts, but moves no value. Choose the direction of each field under Field flow."
)


INTEGRATION_COLUMNS = (
    Column("name", "Name", ("name",)),
    Column("style", "Style", ("style", "name")),
    Column("collections", "Collections", ("collection_a__name", "collection_b__name")),
    Column("detected", "Last change detected", ("last_change_detected",)),
    Column("processed", "Last artifact processed", ("last_artifact_processed",)),
)


def integration_list(request):
    sorting = Sorting(request.GET, INTEGRATION_COLUMNS, default="name")
    integrations = list(sorting.apply(Integration.objects.select_related("collection_a", "collection_b")))
    current = services.states(integrations)
    rows = [(i, current[i.pk]) for i in integrations]
    return render(request, "integrations/integration_list.html", {"rows": rows, "headers": sorting.headers()})


def _model_fields(integration: Integration):
    collection = integration.collection_a or integration.collection_b
    return list(collection.model.fields.all()) if collection and collection.model_id else []


def _routes_formset(integration: Integration, data=None):
    return RouteFormSet(
        data,
        instance=integration,
        prefix="routes",
        form_kwargs={"integration": integration, "model_fields": _model_fields(integration)},
    )


def _page(request, integration: Integration, **forms):
    context = {
        "integration": integration,
        "state": services.state(integration),
        "blockers": validation.problems_of_integration(integration.pk),
        "general": IntegrationForm(instance=integration),
        "routes": _routes_formset(integration),
        "routing_settings": RoutingSettingsForm(instance=integration),
        "filter_settings": FilterSettingsForm(
            initial=integration.filters or {"combine": "and", "applies_to": "both"}
        ),
        "conditions": ConditionFormSet(
            prefix="conditions",
            initial=[condition_initial(c) for c in (integration.filters or {}).get("conditions", [])],
            form_kwargs={"model_fields": _model_fields(integration)},
        ),
        "flows": FieldFlowForm(model_fields=_model_fields(integration), flows=integration.field_flows),
        "nothing_flows": NOTHING_FLOWS
        if integration.collection_a_id and validation.nothing_flows(integration)
        else "",
    }
    steps = TestStepFlowForm(integration=integration, model_fields=_model_fields(integration))
    if steps.fields:  # the model has Test Steps fields
        context["test_step_flow"] = steps
    if integration.style == Integration.Style.TIME_TRACKING:
        from integrations.forms.worklogs import WorklogForm

        context["worklogs"] = WorklogForm(integration=integration)
    if integration.style == Integration.Style.CONTAINER_WORK_ITEM:
        from integrations.forms.containers import ContainerMirroringForm, conditions_formset

        context["container_conditions"] = conditions_formset(integration)
        context["mirroring"] = ContainerMirroringForm(integration=integration)
    context.update(forms)
    return render(request, "integrations/integration_form.html", context)


def _style_of(request) -> str:
    style = (request.POST or request.GET).get("style", "")
    return style if style in Integration.Style.values else Integration.Style.WORK_ITEM_SYNC


def _create_form(request, style: str):
    data = request.POST if request.method == "POST" else None
    if style in STREAM_STYLES:
        form = StreamIntegrationForm(data, style=style, initial={"style": style})
    else:
        form = IntegrationForm(data, initial={"style": style})
        form.fields["style"].choices = [(c.value, c.label) for c in Integration.Style]
    # Choosing another style brings that style's form (HTMX: the form alone is swapped).
    form.fields["style"].widget.attrs.update(
        {"hx-get": reverse("integration-create"), "hx-target": "#integration-create",
         "hx-select": "#integration-create", "hx-swap": "outerHTML"}
    )  # fmt: skip
    return form


def integration_create(request):
    style = _style_of(request)
    form = _create_form(request, style)
    if request.method == "POST" and form.is_valid():
        with change(request, ElementType.INTEGRATION) as rec:
            rec.done(form.save())
        then = {
            **dict.fromkeys(STREAM_STYLES, "Run it when ready."),
            Integration.Style.CONTAINER_WORK_ITEM: "Now add its routes and its container mirroring.",
        }.get(style, "Now add its routes.")
        messages.success(request, f"Integration “{rec.obj.name}” created. {then}")
        return redirect("integration-edit", rec.obj.pk)
    return render(
        request,
        "integrations/integration_create.html",
        {"form": form, "style_label": Integration.Style(style).label},
    )


def _stream_page(request, integration: Integration, form=None):
    """The page of a Gateway or Enterprise Data Stream integration: no routes, filters or field flow."""
    return render(
        request,
        "integrations/integration_stream_form.html",
        {
            "integration": integration,
            "state": services.state(integration),
            "blockers": validation.problems_of_integration(integration.pk),
            "general": form or StreamIntegrationForm(instance=integration, style=integration.style),
        },
    )


def integration_edit(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    if integration.style in STREAM_STYLES:
        if request.method != "POST":
            return _stream_page(request, integration)
        form = StreamIntegrationForm(request.POST, instance=integration, style=integration.style)
        if not form.is_valid():
            return _stream_page(request, integration, form)
        with change(request, ElementType.INTEGRATION, Integration.objects.get(pk=pk)) as rec:
            rec.done(form.save())
        messages.success(request, "Integration saved.")
        return redirect("integration-edit", pk)
    if request.method == "POST":
        form = IntegrationForm(request.POST, instance=integration)
        if form.is_valid():
            with change(request, ElementType.INTEGRATION, Integration.objects.get(pk=pk)) as rec:
                rec.done(form.save())
            messages.success(request, "Integration saved.")
            return redirect("integration-edit", pk)
        return _page(request, integration, general=form)
    return _page(request, integration)


@require_POST
def integration_routes(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    formset = _routes_formset(integration, request.POST)
    settings_form = RoutingSettingsForm(request.POST, instance=Integration.objects.get(pk=pk))
    if not (formset.is_valid() and settings_form.is_valid()):
        return _page(request, integration, routes=formset, routing_settings=settings_form)
    with change(request, ElementType.INTEGRATION, integration) as rec:
        integration.unmatched_routing = settings_form.cleaned_data["unmatched_routing"]
        integration.save(update_fields=["unmatched_routing", "updated"])
        for form in formset.deleted_forms:
            if form.instance.pk:
                form.instance.delete()
        # The order the administrator gave is the order routes leaving one project are tried in.
        for position, form in enumerate(formset.ordered_forms):
            route = form.save(commit=False)
            route.integration, route.position = integration, position
            route.save()
        rec.done(integration)
    messages.success(request, "Routes saved.")
    return redirect("integration-edit", pk)


@require_POST
def integration_filters(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    settings_form = FilterSettingsForm(request.POST)
    formset = ConditionFormSet(
        request.POST, prefix="conditions", form_kwargs={"model_fields": _model_fields(integration)}
    )
    if not (settings_form.is_valid() and formset.is_valid()):
        return _page(request, integration, filter_settings=settings_form, conditions=formset)
    with change(request, ElementType.INTEGRATION, integration) as rec:
        integration.filters = {
            **settings_form.cleaned_data,
            "conditions": [c for c in (form.condition() for form in formset.forms) if c],
        }
        integration.save(update_fields=["filters", "updated"])
        rec.done(integration)
    messages.success(request, "Artifact filtering saved.")
    return redirect("integration-edit", pk)


@require_POST
def integration_flows(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    form = FieldFlowForm(request.POST, model_fields=_model_fields(integration), flows=integration.field_flows)
    if not form.is_valid():
        return _page(request, integration, flows=form)
    with change(request, ElementType.INTEGRATION, integration) as rec:
        integration.field_flows = form.flows(integration.field_flows or {})
        integration.save(update_fields=["field_flows", "updated"])
        rec.done(integration)
    messages.success(request, "Field flow saved.")
    return redirect("integration-edit", pk)


@require_POST
def integration_run(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    try:
        services.start(integration)
    except services.RunRefused as refused:
        messages.error(request, refused.message)
        return redirect("integration-edit", pk)
    messages.success(request, f"Integration “{integration.name}” is running.")
    if validation.nothing_flows(integration):
        messages.warning(request, NOTHING_FLOWS)
    return redirect("integration-edit", pk)


@require_POST
def integration_stop(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    services.stop(integration)
    messages.success(request, f"Integration “{integration.name}” stopped.")
    return redirect("integration-edit", pk)


@require_http_methods(["GET", "POST"])
def integration_delete(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    if integration.running:
        messages.error(request, "Stop the integration before deleting it.")
        return redirect("integration-edit", pk)
    if request.method != "POST":
        return confirm_delete(
            request, integration, goes=services.what_goes_with(integration), cancel="integration-edit"
        )
    integration_id = integration.pk
    delete(request, ElementType.INTEGRATION, integration)
    forget_integration(integration_id, request.user)  # its pairs and activities, as the page said
    messages.success(request, f"Integration “{integration.name}” deleted.")
    return redirect("integrations")


def integration_preview(request, pk: int):
    """What Run would do, read from both tools and written nowhere (``integrations.engine.preview``)."""
    from integrations.engine import preview

    integration = get_object_or_404(Integration, pk=pk)
    try:
        limit = min(500, max(1, int(request.GET.get("limit", preview.LIMIT))))
    except ValueError:
        limit = preview.LIMIT
    try:
        result, refused = preview.preview(integration.pk, limit=limit), ""
    except preview.NotPreviewable as error:
        result, refused = None, str(error)
    return render(
        request,
        "integrations/integration_preview.html",
        {
            "integration": integration,
            "preview": result,
            "refused": refused,
            "limit": limit,
            "blockers": validation.problems_of_integration(integration.pk),
        },
    )
