"""The endpoint's short way through the middleware stack (``integrations.gateway.fastpath``): the
outer middlewares still answer for it (security headers, the 503 while Hub starts, the host check,
405 for an unknown method), the console's inner ones (sessions, CSRF, CSP, the sign-in requirement)
are not run for it, and every other URL still passes them all."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client

from hub import lifecycle
from integrations.models import GatewayPayload

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions_looked_at(monkeypatch):
    calls = []
    original = SessionMiddleware.process_request

    def counted(self, request):
        calls.append(request.path)
        return original(self, request)

    monkeypatch.setattr(SessionMiddleware, "process_request", counted)
    return calls


def post(gateway, body=None, client=None, **extra):
    client = client or Client(enforce_csrf_checks=True)
    return client.post(
        f"/api/v1/gateway/{gateway.collection.pk}/artifacts",
        json.dumps(body if body is not None else {"title": "Build 7 failed", "priority": "High"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {gateway.token}",
        **extra,
    )


def test_a_payload_passes_the_outer_middlewares_only(gateway, sessions_looked_at):
    answer = post(gateway)
    assert answer.status_code == 202 and GatewayPayload.objects.filter(pk=answer.json()["id"]).exists()
    assert answer["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware, outside the short way
    assert "Content-Security-Policy" not in answer and "Set-Cookie" not in answer
    assert sessions_looked_at == []
    # Any other URL, the console's API included, still goes through the whole stack.
    assert Client().get("/api/v1/models/").status_code in (401, 403)
    assert sessions_looked_at == ["/api/v1/models/"]


def test_the_outer_answers_still_hold_for_the_endpoint(gateway, settings):
    lifecycle.write_state(lifecycle.STARTING)
    try:
        starting = post(gateway)
    finally:
        lifecycle.clear_state()
    assert starting.status_code == 503 and starting.json()["code"] == lifecycle.STARTING_CODE
    settings.ALLOWED_HOSTS = ["testserver"]
    assert post(gateway, HTTP_HOST="evil.example").status_code == 400  # not in ALLOWED_HOSTS
    unknown = Client().generic(
        "BREW",
        f"/api/v1/gateway/{gateway.collection.pk}/artifacts",
        HTTP_AUTHORIZATION=f"Bearer {gateway.token}",
    )
    assert unknown.status_code == 405
    assert not GatewayPayload.objects.exists()
    assert post(gateway).status_code == 202


def test_the_short_way_answers_as_the_long_way_did(gateway):
    """The answers of tests/gateway/test_endpoint.py, in process: the codes are the view's."""
    wrong = Client().post(
        f"/api/v1/gateway/{gateway.collection.pk}/artifacts", "{}", content_type="application/json",
        HTTP_AUTHORIZATION="Bearer wrong",
    )  # fmt: skip
    assert wrong.status_code == 401 and wrong.content == b"" and wrong["WWW-Authenticate"] == "Bearer"
    not_json = Client().post(
        f"/api/v1/gateway/{gateway.collection.pk}/artifacts", "{nope", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {gateway.token}",
    )  # fmt: skip
    assert not_json.status_code == 400 and not_json.json()["code"] == "CCRRTT-30004E"
    got = Client().get(
        f"/api/v1/gateway/{gateway.collection.pk}/artifacts", HTTP_AUTHORIZATION=f"Bearer {gateway.token}"
    )
    assert got.status_code == 405
    # A path that only looks like the endpoint is the URL resolver's: 404, not the view.
    assert Client().post(f"/api/v1/gateway/{gateway.collection.pk}/artifacts/x").status_code in (
        401,
        403,
        404,
    )
