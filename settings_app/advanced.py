"""Settings → Advanced. Flow External Workflow Changes: which integrations get a full
(high-fidelity) scan more often than the default schedule, and on which schedule; the others keep
the default (General → Change Detection, nightly unless changed)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Max, Sum
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from integrations import data_migrations, upgrade_backup
from integrations.engine import schedule
from integrations.models import ChangeDetectionSettings, ChangeWatermark, Integration
from integrations.snapshots import ElementType
from integrations.views.common import change


class FlowExternalChangesForm(forms.Form):
    integrations = forms.ModelMultipleChoiceField(
        queryset=Integration.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Unticked integrations keep the default full-scan schedule.",
    )
    full_scan_cron = forms.CharField(
        label="Full scan schedule (cron)",
        max_length=100,
        help_text="Five fields, UTC, e.g. 0 */4 * * * (every four hours).",
    )

    def clean_full_scan_cron(self) -> str:
        expression = " ".join(self.cleaned_data["full_scan_cron"].split())
        try:
            schedule.parse_cron(expression)
        except schedule.InvalidCron as error:
            raise forms.ValidationError(str(error)) from None
        return expression


def _rows() -> list[dict]:
    default = ChangeDetectionSettings.get().full_scan_cron
    last = {
        integration_id: (when, seconds)
        for integration_id, when, seconds in ChangeWatermark.objects.values("integration_id")
        .annotate(last=Max("last_full_scan"), seconds=Sum("last_full_scan_seconds"))
        .values_list("integration_id", "last", "seconds")
    }
    return [
        {
            "integration": integration,
            "chosen": bool(integration.full_scan_cron),
            "schedule": schedule.describe(integration.full_scan_cron or default)
            if (integration.full_scan_cron or default)
            else "Never",
            "last_full_scan": last.get(integration.pk, (None, None))[0],
            # each project's last full scan, added up: the scans of one run read them one by one
            "full_scan_seconds": last.get(integration.pk, (None, None))[1],
        }
        for integration in Integration.objects.order_by("name")
    ]


def _page(request, form: FlowExternalChangesForm | None = None, status: int = 200):
    if form is None:
        chosen = Integration.objects.exclude(full_scan_cron="")
        first = chosen.values_list("full_scan_cron", flat=True).first() or "0 */4 * * *"
        form = FlowExternalChangesForm(initial={"integrations": list(chosen), "full_scan_cron": first})
    context = {
        "form": form,
        "rows": _rows(),
        "default": ChangeDetectionSettings.get().full_scan_cron,
        "upgrade_backups": upgrade_backup.files(),
        "data_migrations_open": data_migrations.open_jobs().count(),
    }
    return render(request, "settings_app/advanced.html", context, status=status)


def advanced(request):
    return _page(request)


@require_POST
def flow_external_changes(request):
    form = FlowExternalChangesForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    chosen = set(form.cleaned_data["integrations"])
    expression = form.cleaned_data["full_scan_cron"]
    changed = 0
    for integration in Integration.objects.order_by("name"):
        wanted = expression if integration in chosen else ""
        if integration.full_scan_cron == wanted:
            continue
        with change(request, ElementType.INTEGRATION, integration) as rec:
            integration.full_scan_cron = wanted
            integration.save(update_fields=["full_scan_cron", "updated"])
            rec.done(integration)
        changed += 1
    messages.success(
        request,
        f"{len(chosen)} integration(s) get a full scan {schedule.describe(expression).lower()}; "
        f"the others keep the default. {changed} changed.",
    )
    return redirect("settings-advanced")
