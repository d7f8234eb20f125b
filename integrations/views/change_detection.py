"""Settings → General → Change Detection: the default schedule of change detection and of the full
scan, as an interval or a cron expression (validated, and described in words)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from integrations.engine import schedule
from integrations.models import ChangeDetectionSettings


class ChangeDetectionForm(forms.ModelForm):
    class Meta:
        model = ChangeDetectionSettings
        fields = ["interval", "cron", "full_scan_cron"]
        help_texts = {
            "cron": "Five fields: minute hour day-of-month month day-of-week (UTC), e.g. */30 9-17 * * 1-5. "
            "Empty: the interval.",
        }

    def clean_interval(self):
        interval = self.cleaned_data["interval"]
        if interval < 5:
            raise forms.ValidationError("Check at most every 5 seconds.")
        return interval

    def _clean_cron(self, name: str) -> str:
        expression = " ".join(self.cleaned_data.get(name, "").split())
        if expression:
            try:
                schedule.parse_cron(expression)
            except schedule.InvalidCron as error:
                raise forms.ValidationError(str(error)) from None
        return expression

    def clean_cron(self):
        return self._clean_cron("cron")

    def clean_full_scan_cron(self):
        return self._clean_cron("full_scan_cron")


def describe(settings: ChangeDetectionSettings) -> dict[str, str]:
    detection = schedule.describe(settings.cron) if settings.cron else f"Every {settings.interval} seconds"
    full = schedule.describe(settings.full_scan_cron) if settings.full_scan_cron else "Never"
    return {"detection": detection, "full_scan": full}


def change_detection(request):
    current = ChangeDetectionSettings.get()
    form = ChangeDetectionForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Change detection schedule saved.")
        if request.POST.get("back") == "general":
            return redirect(reverse("settings-general") + "#change-detection")
        return redirect("settings-change-detection")
    return render(
        request,
        "integrations/change_detection.html",
        {"form": form, "description": describe(ChangeDetectionSettings.get())},
    )
