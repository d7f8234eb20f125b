from __future__ import annotations

import uuid

from django.contrib import messages
from django.shortcuts import redirect

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


def delete_unless_used(request, element_type: str, obj, users: list[str], *, edit: str, listing: str):
    """Delete and record, or refuse naming what still uses the element; redirect accordingly."""
    if users:
        refuse(request, f"“{obj}” is used by {', '.join(users)}; it cannot be deleted.")
        return redirect(edit, obj.pk)
    delete(request, element_type, obj)
    messages.success(request, f"“{obj}” deleted.")
    return redirect(listing)
