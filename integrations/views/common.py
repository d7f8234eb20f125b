from __future__ import annotations

import uuid

from django.contrib import messages

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
