from __future__ import annotations

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from integrations.history import Change, Source, record_delete


def request_id(request) -> str:
    if not hasattr(request, "_hub_request_id"):
        request._hub_request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
    return request._hub_request_id


def change(request, element_type: str, obj=None) -> Change:
    return Change(request.user, element_type, obj, source=Source.CONSOLE, request_id=request_id(request))


def delete(request, element_type: str, obj) -> None:
    record_delete(request.user, element_type, obj, source=Source.CONSOLE, request_id=request_id(request))


def refuse(request, message: str) -> None:
    messages.error(request, message)


def confirm_delete(request, obj, *, goes: list[str], users: list[str] = (), cancel: str):
    """The page a Delete button leads to: what goes with the element (or what stops it), and the
    button that deletes (POST to the same address)."""
    return render(
        request,
        "integrations/confirm_delete.html",
        {"element": obj, "goes": goes, "users": users, "cancel": reverse(cancel, args=[obj.pk])},
    )


def delete_unless_used(
    request, element_type: str, obj, users: list[str], *, edit: str, listing: str, goes: list[str] = ()
):
    """Delete and record, or refuse naming what still uses the element; redirect accordingly. A GET
    asks first, naming what goes."""
    if request.method != "POST":
        return confirm_delete(request, obj, goes=[f"“{obj}”", *goes], users=users, cancel=edit)
    if users:
        refuse(request, f"“{obj}” is used by {', '.join(users)}; it cannot be deleted.")
        return redirect(edit, obj.pk)
    delete(request, element_type, obj)
    messages.success(request, f"“{obj}” deleted.")
    return redirect(listing)
