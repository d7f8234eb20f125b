"""Settings → General → Storage Settings: the database in use, Use External Database, Test
Connection, and Save → back-up warning → confirmation → Transfer (``settings_app.transfer``)."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from activity.jobs import JobFailed
from activity.models import BackgroundJob
from hub import audit, lease, storage, vault
from hub.addresses import redact
from settings_app import transfer

ELEMENT = "Storage settings"
log = logging.getLogger("hub.storage")


def _tls_field_name(kind: str, option: str) -> str:
    return f"tls_{kind}_{option}"


class ExternalDatabaseForm(forms.Form):
    kind = forms.ChoiceField(label="Database", choices=[(k.key, k.label) for k in storage.KINDS.values()])
    location = forms.CharField(
        label="Location (URL)", max_length=1000, help_text="For example postgres://db.example.com:5432/hub"
    )
    username = forms.CharField(label="Username", max_length=200)
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Sealed by the master password when saved; never written to a file in clear.",
    )
    backoff_value = forms.DecimalField(label="Backoff Interval", min_value=0, initial=1, decimal_places=3)
    backoff_unit = forms.ChoiceField(
        label="Unit", choices=[(unit, unit.capitalize()) for unit in storage.UNITS], initial="hours"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in storage.KINDS.values():
            for option, label, choices in kind.tls_options:
                name = _tls_field_name(kind.key, option)
                if choices:
                    self.fields[name] = forms.ChoiceField(
                        label=label, required=False, choices=[(c, c or "(driver default)") for c in choices]
                    )
                else:
                    self.fields[name] = forms.CharField(label=label, required=False, max_length=500)

    def tls_fields(self, kind: str):
        return [self[_tls_field_name(kind, option)] for option, _l, _c in storage.KINDS[kind].tls_options]

    def kinds(self):
        return [
            {"kind": k, "fields": self.tls_fields(k.key), "driver_problem": storage.driver_problem(k.key)}
            for k in storage.KINDS.values()
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        kind = data["kind"]
        tls = {
            option: data[_tls_field_name(kind, option)]
            for option, _l, _c in storage.KINDS[kind].tls_options
            if data.get(_tls_field_name(kind, option))
        }
        stored = storage.StorageSettings(
            kind=kind,
            location=data["location"].strip(),
            username=data["username"].strip(),
            tls=tls,
            backoff_seconds=float(data["backoff_value"]) * storage.UNITS[data["backoff_unit"]],
        )
        try:
            stored.validate()
        except storage.StorageError as error:
            raise forms.ValidationError(str(error)) from None
        problem = storage.driver_problem(kind)
        if problem:
            raise forms.ValidationError(problem)
        if columns := transfer.unsupported_columns(stored.database("")):
            raise forms.ValidationError(
                f"{storage.INVALID_CODE}: {storage.KINDS[kind].label} cannot hold Hub's schema: its backend "
                f"has no stored generated columns, which {', '.join(columns)} are. Choose another database."
            )
        data["stored"] = stored
        return data


class ConfirmTransferForm(forms.Form):
    settings_json = forms.JSONField(widget=forms.HiddenInput)
    password_token = forms.CharField(widget=forms.HiddenInput, strip=False)
    backed_up = forms.BooleanField(
        label="I have made a backup of Hub's database and HUB_HOME, and I want to transfer now.",
        required=True,
    )


def _current_database() -> dict:
    database = settings.DATABASES["default"]
    embedded = connection.vendor == "sqlite"
    if embedded:
        where = "the embedded database in HUB_HOME"
        source = "embedded"
    else:
        host = database.get("HOST") or "localhost"
        port = f":{database['PORT']}" if database.get("PORT") else ""
        where = redact(f"{database.get('NAME')} on {host}{port}")
        source = "Storage Settings" if settings.HUB_STORAGE is not None else "hub.properties"
    return {"vendor": connection.display_name, "where": where, "embedded": embedded, "source": source}


def initial_settings() -> dict:
    initial = {"kind": "postgresql", "backoff_value": 1, "backoff_unit": "hours"}
    if settings.HUB_STORAGE is not None:
        stored = settings.HUB_STORAGE[0]
        initial.update(kind=stored.kind, location=stored.location, username=stored.username)
        initial.update(_backoff_initial(stored.backoff_seconds))
        for option, value in stored.tls.items():
            initial[_tls_field_name(stored.kind, option)] = value
    return initial


def _backoff_initial(seconds: float) -> dict:
    for unit, size in storage.UNITS.items():
        value = round(seconds / size, 6)  # 0.25 / 0.001 is 250.00000000000003
        if seconds >= size and value == int(value):
            return {"backoff_value": int(value), "backoff_unit": unit}
    return {"backoff_value": seconds, "backoff_unit": "seconds"}


def _page(request, *, form=None, confirm=None, results=None, status=200):
    job = BackgroundJob.objects.filter(kind=BackgroundJob.Kind.DATABASE_TRANSFER).order_by("-created").first()
    context = {
        "current": _current_database(),
        "form": form or ExternalDatabaseForm(initial=initial_settings()),
        "confirm": confirm,
        "results": results,
        "job": job,
        "backoff": storage.backoff_state(storage.run_dir()),
        "backoff_message": "",
        "vault_problem": vault.storage_problem(),
    }
    if context["backoff"]:
        context["backoff_message"] = storage.backoff_message(context["backoff"])
    return render(request, "settings_app/storage.html", context, status=status)


def storage_page(request):
    return _page(request)


def transfer_progress(request):
    """The HTMX partial that keeps the latest transfer's progress current."""
    job = BackgroundJob.objects.filter(kind=BackgroundJob.Kind.DATABASE_TRANSFER).order_by("-created").first()
    return render(request, "settings_app/_transfer_progress.html", {"job": job})


@require_POST
def test_connection(request):
    form = ExternalDatabaseForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    results = transfer.test_connection(form.cleaned_data["stored"], form.cleaned_data["password"])
    return _page(request, form=form, results=results)


@require_POST
def save(request):
    """Save: the settings are checked, then the back-up warning and the confirmation box."""
    form = ExternalDatabaseForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    problem = vault.storage_problem()
    if problem:
        form.add_error(None, str(problem))
        return _page(request, form=form, status=400)
    confirm = ConfirmTransferForm(
        initial={
            "settings_json": form.cleaned_data["stored"].as_public_dict(),
            # The password goes back to the browser only as a vault token, never in clear.
            "password_token": vault.encrypt(form.cleaned_data["password"], transfer.PENDING_CONTEXT),
        }
    )
    return _page(request, form=form, confirm=confirm)


@require_POST
def start(request):
    confirm = ConfirmTransferForm(request.POST)
    if not confirm.is_valid():
        messages.error(request, "Tick the confirmation box to start the transfer.")
        return redirect("settings-storage")
    public = confirm.cleaned_data["settings_json"]
    try:
        stored = storage.StorageSettings.from_dict(public)
        stored.validate()
        token = confirm.cleaned_data["password_token"]
        vault.decrypt(token, transfer.PENDING_CONTEXT)
        job = transfer.start_transfer(stored, token, request.user.get_username())
    except (KeyError, TypeError, ValueError, storage.StorageError, vault.VaultError, JobFailed) as error:
        messages.error(request, f"The transfer was not started: {getattr(error, 'message', error)}")
        return redirect("settings-storage")
    before, after = _current_database(), stored.as_public_dict()
    audit.record_change(request.user, "settings", ELEMENT, ELEMENT, before, after)
    messages.success(request, f"{job.name} started. Integrations pause until it ends.")
    return redirect("settings-storage")


def _same_database(stored: storage.StorageSettings) -> bool:
    """Whether ``stored`` names the database this instance uses now (the one it lost)."""
    current, wanted = settings.DATABASES["default"], stored.database("")
    key = ("ENGINE", "HOST", "PORT", "NAME")
    return all(str(current.get(k) or "") == str(wanted.get(k) or "") for k in key)


@require_POST
def connect_elsewhere(request):
    """The 30012E page's "update your credentials to connect to a different database" (seed 4767):
    only while another instance holds this one's database. The settings must pass Test Connection;
    then they are saved as Storage Settings (password sealed) and ``runhub`` restarts every process
    on that database, which it migrates. Nothing is copied: use a database of its own for this
    instance (an empty one starts afresh)."""
    other = lease.lost()
    if other is None:
        messages.error(request, "This instance holds its database; move it with Use External Database.")
        return redirect("settings-storage")
    form = ExternalDatabaseForm(request.POST)
    if not form.is_valid():
        return lease.lost_page(request, other, form=form, status=400)
    stored, password = form.cleaned_data["stored"], form.cleaned_data["password"]
    problem = vault.storage_problem()
    if _same_database(stored):
        problem = f"{storage.INVALID_CODE}: another instance holds that database; choose a different one."
    if problem:
        form.add_error(None, str(problem))
        return lease.lost_page(request, other, form=form, status=400)
    results = transfer.test_connection(stored, password)
    if not all(result["ok"] for result in results):
        form.add_error(None, f"{storage.UNREACHABLE_CODE}: Test Connection failed; nothing was changed.")
        return lease.lost_page(request, other, form=form, results=results, status=400)
    storage.write_file(settings.HUB_HOME, stored, vault.seal_outside(password, storage.PASSWORD_CONTEXT))
    storage.clear_backoff(storage.run_dir())
    transfer.request_restart()
    log.warning(
        "CCRRTT-30012E: %s chose a different operational database (%s); Hub restarts on it.",
        request.user.get_username(),
        redact(stored.location),
    )
    return render(request, "hub/database_switching.html", {"location": redact(stored.location)}, status=202)
