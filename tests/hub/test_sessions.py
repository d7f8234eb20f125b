"""Sessions are stored under the hash of their key: what the database holds cannot sign anyone in."""

import hashlib

import pytest
from django.conf import settings
from django.test import Client

from hub.models import HashedSession
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(administrator) -> tuple[Client, str]:
    client = Client()
    response = client.post("/accounts/login/", {"username": administrator.username, "password": PASSWORD})
    assert response.status_code == 302
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_database_holds_the_hash_of_the_session_key_never_the_key(administrator):
    _, key = signed_in(administrator)
    stored = list(HashedSession.objects.values_list("session_key", flat=True))
    assert stored == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in stored


def test_the_cookie_signs_in(administrator):
    client, _ = signed_in(administrator)
    assert client.get("/settings/general/").status_code == 200


def test_a_key_read_from_the_database_does_not_sign_in(administrator):
    signed_in(administrator)
    stolen = HashedSession.objects.get().session_key
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = attacker.get("/settings/general/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_signing_out_removes_the_session_from_the_database(administrator):
    client, _ = signed_in(administrator)
    client.post("/accounts/logout/")
    assert not HashedSession.objects.exists()


def test_django_s_own_session_table_is_not_used(administrator):
    from django.contrib.sessions.models import Session

    signed_in(administrator)
    assert not Session.objects.exists()
