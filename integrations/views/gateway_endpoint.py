"""``POST /api/v1/gateway/<collection>/artifacts``: where CI servers and webhooks publish artifacts.

Besides ``/api/health`` and the tools' event hints it is the only URL that answers without a
signed-in user: a sender holds neither a session nor a CSRF token, and the collection's token
(``Authorization: Bearer …``) authenticates it instead. A wrong token and an unknown collection get
the same bare 401. The checks and the storing are ``integrations.gateway.intake``'s.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.gateway import intake

PRIVATE = ("Authorization", "Cookie")  # never stored nor handed to an extension
UNEXPECTED = "CCRRTT-30000E"
log = logging.getLogger("hub.gateway")


@csrf_exempt  # a sender has no CSRF token; the collection's token authenticates it
@login_not_required  # nor a session: see the module's docstring
def receive(request, pk: int):
    try:
        return _receive(request, pk)
    except OperationalError:
        # The database is busy (SQLite's single writer) or unreachable: nothing was stored, so the
        # sender is asked to come back rather than told its payload failed.
        return JsonResponse(
            {"code": intake.STOPPED, "message": "Hub cannot store the payload now; retry shortly."},
            status=503,
            headers={"Retry-After": "1"},
        )
    except Exception:  # noqa: BLE001 - a sender gets a coded JSON answer, never Django's error page
        # The insert is one statement and a refusal one transaction: a failure stored nothing.
        log.exception("Gateway collection %s: unexpected error while receiving a payload", pk)
        return JsonResponse(
            {"code": UNEXPECTED, "message": "An unexpected error occurred; nothing was stored. Retry later."},
            status=500,
        )


def _receive(request, pk: int):
    collection = intake.authenticated(pk, request.headers.get("Authorization", ""))
    if collection is None:
        return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    if request.method != "POST":  # after the token: a stranger learns nothing, not even the method
        return HttpResponseNotAllowed(["POST"])
    answer = intake.unavailable(collection)
    if answer is None:
        answer = intake.flooded(collection) or intake.receive(
            collection,
            # At most one byte past the limit, whatever Content-Length says: a larger body is
            # refused (413) without holding more of it in memory.
            request.read(intake.size_limit() + 1),
            parameters={name: request.GET.getlist(name) for name in request.GET},
            # Lower-case names, as HTTP/2 sends them: one spelling for extensions to look up.
            headers={name.lower(): [value] for name, value in request.headers.items() if name not in PRIVATE},
        )
    return JsonResponse(answer.body, status=answer.status, headers=answer.headers)
