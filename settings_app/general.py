"""Settings → General: Configuration (environment label, change detection), the master password
(set it, re-enter it, change it or reset it) and Storage Settings."""

from __future__ import annotations

from django.contrib import messages
from django.db import connection
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from hub import audit, gates, vault
from settings_app import environment
from settings_app.forms import (
    ChangeMasterPasswordForm,
    EnvironmentLabelForm,
    NewMasterPasswordForm,
    ResetMasterPasswordForm,
    UnlockForm,
)
from settings_app.models import EnvironmentLabel

ELEMENT = "Master password"


def _record(request, after: dict) -> None:
    audit.record_change(request.user, "settings", ELEMENT, ELEMENT, None, after)
    gates.refresh_global_blockers()


def _page(request, status: int = 200, **forms):
    from integrations.models import ChangeDetectionSettings
    from integrations.views.change_detection import ChangeDetectionForm, describe

    state = vault.state()
    detection = ChangeDetectionSettings.get()
    context = {
        "state": state,
        "label": environment.current(),
        "environment_form": forms.get("environment_form")
        or EnvironmentLabelForm(instance=EnvironmentLabel.get()),
        "detection_form": ChangeDetectionForm(instance=detection),
        "detection": describe(detection),
        "database_vendor": connection.display_name,
        "set_form": forms.get("set_form") or NewMasterPasswordForm(),
        "unlock_form": forms.get("unlock_form") or UnlockForm(),
        "change_form": forms.get("change_form") or ChangeMasterPasswordForm(),
    }
    return render(request, "settings_app/general.html", context, status=status)


def general(request):
    return _page(request)


@require_POST
def set_environment(request):
    """The environment label: in force for every screen at once, recorded in history."""
    label = EnvironmentLabel.get()
    before = {"type": label.type, "name": label.name}
    form = EnvironmentLabelForm(request.POST, instance=label)
    if not form.is_valid():
        return _page(request, status=400, environment_form=form)
    saved = form.save()
    after = {"type": saved.type, "name": saved.name}
    if after != before:
        audit.record_change(request.user, "settings", "Environment label", "Environment label", before, after)
    shown = environment.current()
    messages.success(
        request,
        "Environment label saved: "
        + (" · ".join(part for part in (shown["type"].capitalize(), shown["name"]) if part) or "no label")
        + ".",
    )
    return redirect("settings-general")


def _submit(request, form_name: str, form, act, after: dict, success: str, wrong_field=None):
    """Run ``act(cleaned_data)`` for a valid form; a refusal goes back to the page beside the form."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except vault.VaultError as error:
            field = wrong_field if isinstance(error, vault.WrongMasterPassword) else None
            form.add_error(field, str(error))
        else:
            _record(request, after)
            messages.success(request, success)
            return redirect("settings-general")
    return _page(request, status=400, **{form_name: form})


@require_POST
def set_master_password(request):
    return _submit(
        request,
        "set_form",
        NewMasterPasswordForm(request.POST),
        lambda data: vault.set_master_password(data["new_password"]),
        {"state": "set"},
        "The master password is set. Passwords and tokens can now be stored.",
    )


@require_POST
def unlock(request):
    return _submit(
        request,
        "unlock_form",
        UnlockForm(request.POST),
        lambda data: vault.unlock(data["password"]),
        {"state": "re-entered"},
        "The master password is accepted; stored secrets are readable again.",
        wrong_field="password",
    )


@require_POST
def change(request):
    return _submit(
        request,
        "change_form",
        ChangeMasterPasswordForm(request.POST),
        lambda data: vault.change_master_password(data["current_password"], data["new_password"]),
        {"state": "changed"},
        "The master password is changed. Every stored secret stays readable.",
        wrong_field="current_password",
    )


@require_http_methods(["GET", "POST"])
def reset(request):
    form = ResetMasterPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        erased = vault.reset_master_password(form.cleaned_data["new_password"])
        _record(request, {"state": "reset", "erased": erased})
        summary = ", ".join(f"{count} {kind}" for kind, count in erased.items()) or "no stored secrets"
        messages.success(
            request, f"The master password is reset. Erased the secrets of {summary}; enter them again."
        )
        return redirect("settings-general")
    context = {"form": form, "affected": vault.stored_secrets_by_owner()}
    return render(
        request, "settings_app/reset_master_password.html", context, status=400 if form.errors else 200
    )
