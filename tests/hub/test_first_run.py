"""First-run setup: only while no user exists, only with the token, and it creates an administrator."""

import pytest
from django.contrib.auth import get_user_model

from hub import setup
from hub.roles import is_administrator

PASSWORD = "a long and unusual password"


def form(token, **overrides):
    return {
        "token": token,
        "username": "ada",
        "email": "ada@example.com",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **overrides,
    }


@pytest.fixture
def token(db):
    return setup.ensure_setup_token()


def test_the_token_file_is_readable_by_its_owner_only(token, settings):
    assert (settings.HUB_HOME / "setup-token").stat().st_mode & 0o077 == 0


def test_the_same_token_is_kept_until_it_is_used(token):
    assert setup.ensure_setup_token() == token


def test_a_wrong_token_creates_nobody(client, token):
    response = client.post("/setup/", form("guess"))
    assert response.status_code == 200
    assert "not the setup token" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_a_weak_or_mismatched_password_is_refused(client, token):
    weak = client.post("/setup/", form(token, password="x", password_again="x"))
    assert "too short" in weak.content.decode()
    assert "differ" in client.post("/setup/", form(token, password_again=PASSWORD + "!")).content.decode()
    assert not get_user_model().objects.exists()


def test_the_token_creates_a_signed_in_administrator_and_is_used_up(client, token, settings):
    response = client.post("/setup/", form(token))
    assert response.status_code == 302
    user = get_user_model().objects.get(username="ada")
    assert is_administrator(user)
    assert client.get("/").status_code == 200
    assert not (settings.HUB_HOME / "setup-token").exists()


def test_the_setup_page_is_gone_once_a_user_exists(client, token, administrator):
    assert client.get("/setup/").status_code == 404
    assert client.post("/setup/", form(token)).status_code == 404
    assert setup.ensure_setup_token() is None


def test_user_text_in_the_layout_is_escaped(client, make_user, settings):
    user = make_user("<script>alert(1)</script>", "viewer")
    client.force_login(user)
    settings.HUB = type(settings.HUB)(
        home=settings.HUB.home,
        values={**settings.HUB.values, "hub.environment.name": "<img src=x onerror=alert(2)>"},
    )
    body = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(2)&gt;" in body


def test_before_the_first_administrator_the_home_page_points_to_setup_and_the_token(
    client, token, settings
):
    page = client.get("/", follow=True).content.decode()
    assert 'data-testid="first-run-hint"' in page and 'href="/setup/"' in page
    assert str(settings.HUB_HOME / "setup-token") in page


def test_once_an_administrator_exists_the_sign_in_page_says_nothing_of_setup(client, administrator):
    page = client.get("/", follow=True).content.decode()
    assert "Sign in to Hub" in page
    assert "/setup/" not in page and "setup-token" not in page
