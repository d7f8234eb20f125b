"""Every page needs a sign-in; every change needs the administrator role."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Pages that must answer people who are not signed in (sign-in itself, first-run setup, health).
PUBLIC = {"/accounts/login/", "/setup/", "/api/health", "/admin/login/"}
# A viewer may sign out and manage API tokens of their own (which are read-only, like the viewer).
VIEWER_MAY_POST = {"/accounts/logout/", "/account/api-tokens/", "/account/api-tokens/1/revoke/"}
# Webhook receivers: the sending tool proves itself by its signature or secret, not by a session
# (tests/integrations/test_event_hints.py shows an unsigned or forged request refused).
# The gateway endpoint likewise: the collection's token (tests/gateway/test_endpoint.py).
SIGNED_BY_THE_SENDER = {"/hooks/1/", "/api/v1/gateway/1/artifacts"}
# Prometheus scrapes with a bearer token or from an allowed address, never with a session; with
# neither it is refused, and it answers GET only (tests/hub/test_prometheus.py).
SCRAPED = {"/metrics"}


def concrete_urls(resolver=None, prefix: str = "") -> list[str]:
    """Every URL pattern as a concrete path, with placeholders filled with plausible values."""
    urls = []
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            urls += concrete_urls(entry, prefix + pattern)
        elif isinstance(entry, URLPattern):
            urls.append("/" + fill(prefix + pattern))
    return sorted(set(urls))


def fill(pattern: str) -> str:
    import re

    pattern = pattern.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".")
    pattern = re.sub(
        r"\(\?P<(\w+)>[^)]*\)", lambda m: "1" if m.group(1).endswith(("pk", "id")) else "x", pattern
    )
    pattern = re.sub(r"<(?:int:)?\w*(?:pk|id)\w*>|<int:\w+>", "1", pattern)
    pattern = re.sub(r"<[^>]+>", "x", pattern)
    pattern = re.sub(r"\[[^\]]*\][+*]?", "", pattern)
    return re.sub(r"[()?*+|\\]", "", pattern)


ALL_URLS = concrete_urls()


def test_the_url_walk_finds_the_console_screens():
    for path in ("/", "/repositories/", "/activity/", "/metrics/", "/settings/", "/help/", "/admin/"):
        assert path in ALL_URLS


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in ALL_URLS if p not in PUBLIC | SCRAPED])
def test_every_page_needs_a_sign_in(client, path):
    response = client.get(path)
    if path.startswith("/api/v1/"):
        # The JSON API answers for itself rather than redirecting to a sign-in page.
        assert response.status_code in (401, 403, 404), f"{path} answered {response.status_code}"
        return
    assert response.status_code in (301, 302, 404, 405), f"{path} answered {response.status_code}"
    if response.status_code in (301, 302):
        assert "login" in response["Location"], f"{path} redirected to {response['Location']}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        p
        for p in ALL_URLS
        if not p.startswith("/admin/") and p not in PUBLIC | VIEWER_MAY_POST | SIGNED_BY_THE_SENDER | SCRAPED
    ],
)
def test_a_viewer_cannot_post_anywhere(viewer_client, path):
    response = viewer_client.post(path, {"level": "troubleshooting"})
    assert response.status_code == 403, f"{path} answered {response.status_code} to a viewer's POST"


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in ALL_URLS if p.startswith("/admin/") and p not in PUBLIC])
def test_a_viewer_cannot_use_user_administration(viewer_client, path):
    assert viewer_client.post(path, {}).status_code in (302, 403, 404)
    response = viewer_client.get("/admin/auth/user/")
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_viewer_cannot_change_with_other_methods(viewer_client, method):
    assert getattr(viewer_client, method)("/settings/troubleshooting/").status_code == 403


@pytest.mark.django_db
def test_an_administrator_can_change_settings(admin_client):
    response = admin_client.post("/settings/troubleshooting/", {"level": "troubleshooting"})
    assert response.status_code == 302
    assert "troubleshooting" in admin_client.get("/settings/troubleshooting/").content.decode()


@pytest.mark.django_db
def test_a_viewer_may_sign_out(viewer_client):
    assert viewer_client.post("/accounts/logout/").status_code == 302
    assert viewer_client.get("/").status_code == 302


@pytest.mark.django_db
def test_forms_are_refused_without_a_csrf_token(administrator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    response = client.post("/settings/troubleshooting/", {"level": "troubleshooting"})
    assert response.status_code == 403
    assert "security token" in response.content.decode()


@pytest.mark.django_db
def test_responses_carry_the_security_headers(admin_client):
    response = admin_client.get("/", secure=True)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
@pytest.mark.parametrize("path", ["/settings/troubleshooting/", "/repositories/", "/accounts/login/"])
def test_methods_hub_does_not_answer_are_405_not_a_read(viewer_client, method, path):
    response = viewer_client.generic(method, path)
    assert response.status_code == 405
    assert "TRACE" not in response["Allow"] and "POST" in response["Allow"]


@pytest.mark.django_db
def test_an_odd_method_on_the_api_is_a_json_405(admin_client):
    response = admin_client.generic("TRACE", "/api/v1/models/")
    assert response.status_code == 405 and response.json()["message"] == "Hub does not answer TRACE."


def test_only_get_head_and_options_count_as_reads():
    from hub.roles import SAFE_METHODS

    assert set(SAFE_METHODS) == {"GET", "HEAD", "OPTIONS"}
