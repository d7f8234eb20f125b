"""Settings → License: the license in force, its warnings, and Apply New License."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hub import licensing
from settings_app.forms import ApplyLicenseForm


def _page(request, form: ApplyLicenseForm | None = None, status: int = 200):
    current = licensing.current()
    license = current.license
    context = {
        "status": current,
        "license": license,
        "form": form or ApplyLicenseForm(),
        "days_left": license.days_left() if license else None,
        "features": _features(license) if license else [],
    }
    return render(request, "settings_app/license.html", context, status=status)


def _features(license: licensing.License) -> list[tuple[str, str]]:
    rows = []
    for feature in licensing.LISTED:
        names = license.features.get(str(feature), [])
        rows.append((licensing.LABELS[feature], "all" if "*" in names else ", ".join(names) or "none"))
    for feature in licensing.FLAGS:
        rows.append((licensing.LABELS[feature], "granted" if license.grants(feature) else "not granted"))
    return rows


def license_page(request):
    return _page(request)


@require_POST
def apply_license(request):
    form = ApplyLicenseForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            license = licensing.apply(form.cleaned_data["license_text"], user=request.user)
        except licensing.LicenseError as error:
            form.add_error(None, f"The license was not applied: {error} The current license stays in force.")
        else:
            messages.success(
                request, f"License for {license.licensee} applied; valid until {license.expires:%Y-%m-%d}."
            )
            return redirect("settings-license")
    return _page(request, form, status=400)
