"""Event hints: the webhook endpoint tools post to, and the repository screen's switch for it.

``/hooks/<repository>/`` is the one endpoint of Hub that no signed-in user calls: it is exempt from
the sign-in requirement and from CSRF (the tool cannot hold a session or a CSRF token), and it
authenticates every delivery by the repository's secret instead — a signature, a token or basic
credentials, as the tool's connector checks (``Connector.event_hints_from``). A repository whose
hints are off, or that does not exist, answers 404 alike.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors import registry
from connectors.errors import ConnectorError, CredentialsRefused
from integrations.engine import hints
from integrations.models import Repository
from integrations.secrets import is_set, unseal
from integrations.snapshots import ElementType
from integrations.views.common import change


@csrf_exempt  # a tool cannot send a CSRF token; the repository's secret authenticates the delivery
@login_not_required  # nor sign in: see the module's docstring
@require_POST
def receive(request, pk: int):
    repository = Repository.objects.filter(pk=pk, event_hints=True, enabled=True).first()
    if repository is None or not registry.connector_class(repository.kind).capabilities.event_hints:
        return JsonResponse({"error": "No such hook."}, status=404)
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "The delivery is too large."}, status=413)
    try:
        received = hints.receive(repository, request.headers, body)
    except CredentialsRefused as error:
        return JsonResponse({"error": error.code, "message": error.message}, status=401)
    except ConnectorError as error:
        return JsonResponse({"error": error.code, "message": error.message}, status=400)
    return JsonResponse({"artifacts": len(received.hints), "queued": received.queued}, status=202)


def hook_url(request, repository: Repository) -> str:
    return request.build_absolute_uri(reverse("event-hint", args=[repository.pk]))


@require_POST
def repository_event_hints(request, pk: int):
    """HTMX: turn event hints on or off, or make a new secret. The secret is shown in this answer
    only (right after it was made, or when asked for), never on the page itself."""
    repository = get_object_or_404(Repository, pk=pk)
    if not registry.connector_class(repository.kind).capabilities.event_hints:
        raise Http404("This kind of repository sends no webhooks Hub can verify.")
    action = request.POST.get("action", "")
    if action not in ("enable", "disable", "new_secret", "reveal"):
        return JsonResponse({"error": f"Unknown action {action!r}."}, status=400)
    shown = unseal(repository.event_hint_secret) if action == "reveal" else ""
    if action != "reveal":
        with change(request, ElementType.REPOSITORY, Repository.objects.get(pk=pk)) as recorded:
            if action == "new_secret" or action == "enable" and not is_set(repository.event_hint_secret):
                shown = secrets.token_urlsafe(32)
                repository.event_hint_secret = shown
            if action in ("enable", "disable"):
                repository.event_hints = action == "enable"
            repository.save(update_fields=["event_hints", "event_hint_secret", "updated"])
            recorded.done(repository)
    return render(
        request,
        "integrations/_event_hints.html",
        {
            "repository": repository,
            "hook_url": hook_url(request, repository),
            "secret": shown,
            "hint_help": registry.connector_class(repository.kind).event_hint_help,
        },
    )
