"""Settings → Notifications: the email server form, Test Connection, Send Test Email, Turn On / Off
and Delete. Every change goes into configuration history, the password masked."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from hub import audit
from hub.roles import is_administrator
from settings_app import notifications
from settings_app.forms import NotificationSettingsForm
from settings_app.models import SmtpSettings

ELEMENT = "Email notifications"


def _record(request, before, after) -> None:
    name = (after or before or {}).get("host", "")
    audit.record_change(request.user, "settings", ELEMENT, name, before, after)


@require_http_methods(["GET", "POST"])
def notifications_page(request):
    smtp = notifications.current()
    form = NotificationSettingsForm(request.POST or None, instance=smtp)
    if request.method == "POST" and form.is_valid():
        before = notifications.snapshot(smtp)
        saved = form.save()
        _record(request, before, notifications.snapshot(saved))
        messages.success(request, "The email notification settings are saved.")
        return redirect("settings-notifications")
    return render(
        request,
        "settings_app/notifications.html",
        {"form": form, "smtp": smtp, "is_administrator": is_administrator(request.user)},
    )


def _typed(request) -> tuple[NotificationSettingsForm, SmtpSettings | None]:
    """The settings as typed (not saved), with the stored password when none was typed."""
    form = NotificationSettingsForm(request.POST, instance=notifications.current())
    if not form.is_valid():
        return form, None
    return form, form.save(commit=False)


def _errors(form) -> str:
    return "; ".join(" ".join(errors) for errors in form.errors.values())


@require_POST
def check(request, what: str):
    """Test Connection or Send Test Email with what the form holds; the answer as a partial. The
    result is remembered on the stored settings (the health check reports it)."""
    form, smtp = _typed(request)
    if smtp is None:
        ok, answer = False, _errors(form)
    elif what == "send":
        try:
            said = notifications.send(smtp, notifications.test_message(smtp))
            ok, answer = True, f"{said}; a test email went to {smtp.recipients}"
        except notifications.SendFailed as failure:
            ok, answer = False, str(failure)
    else:
        ok, answer = notifications.test_connection(smtp)
    context = {"ok": ok, "answer": answer, "what": what}
    return render(request, "settings_app/_notification_check.html", context)


@require_POST
def turn(request, on: bool):
    smtp = notifications.current()
    if smtp is None:
        messages.error(request, "Save the email server settings first.")
        return redirect("settings-notifications")
    before = notifications.snapshot(smtp)
    smtp.enabled = on
    smtp.save(update_fields=["enabled"])
    _record(request, before, notifications.snapshot(smtp))
    messages.success(request, "Notifications are on." if on else "Notifications are off.")
    return redirect("settings-notifications")


@require_POST
def delete(request):
    smtp = notifications.current()
    if smtp is not None:
        before = notifications.snapshot(smtp)
        smtp.delete()
        _record(request, before, None)
        messages.success(request, "The email notification settings are deleted.")
    return redirect("settings-notifications")
