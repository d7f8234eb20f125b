"""Sign-in throttling, passwords kept out of logs, and escaping of user-supplied text in the layout."""

import logging
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_the_sixth_failed_sign_in_is_refused_even_with_the_right_password(administrator):
    client = Client()
    wrong = "Wrong-Password-Marker-123"
    statuses = [
        client.post("/accounts/login/", {"username": "ada", "password": wrong}).status_code for _ in range(5)
    ]
    assert statuses[:4] == [200] * 4 and "_auth_user_id" not in client.session  # the fifth failure locks
    response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    for handler in logging.getLogger().handlers:
        handler.flush()
    log_file = Path(django_settings.HUB.logs_dir) / "hub.log"
    text = log_file.read_text() if log_file.exists() else ""
    assert wrong not in text and PASSWORD not in text


@pytest.mark.django_db
def test_failed_sign_ins_are_logged_without_the_password(administrator, caplog):
    wrong = "Another-Wrong-Password-456"
    with caplog.at_level(logging.DEBUG):
        Client().post("/accounts/login/", {"username": "ada", "password": wrong})
    assert wrong not in caplog.text


@pytest.mark.django_db
def test_another_address_is_not_locked_out_by_the_first(administrator):
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(6):
        attacker.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    owner = Client(REMOTE_ADDR="10.0.0.2")
    owner.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert "_auth_user_id" in owner.session


@pytest.mark.django_db
def test_user_supplied_text_is_escaped_in_the_layout(client, settings):
    user = get_user_model().objects.create_user(username="x<script>alert(1)</script>", password=PASSWORD)
    settings.HUB = type(settings.HUB)(
        home=settings.HUB.home,
        values={**settings.HUB.values, "hub.environment.name": '<img src=x onerror="alert(2)">'},
        sources=settings.HUB.sources,
    )
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html and "x&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<img src=x onerror="alert(2)">' not in html and "&lt;img src=x" in html


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_http_only_and_same_site(administrator):
    client = Client()
    client.get("/accounts/login/", secure=True)
    response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD}, secure=True)
    session = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf = client.cookies[django_settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] and csrf["samesite"] == "Lax"


@pytest.mark.django_db
def test_console_pages_carry_no_inline_script(admin_client, licensed, master_password):
    import re

    for path in ("/", "/settings/general/", "/settings/license/", "/settings/general/master-password/reset/"):
        html = admin_client.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"
        assert "style=" not in html, f"inline style on {path}"
