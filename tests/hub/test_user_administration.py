"""Administrators manage users and their roles in User administration; viewers cannot."""

import pytest
from django.contrib.auth import get_user_model

from hub.roles import is_administrator


@pytest.fixture
def staff_admin(make_user):
    """An administrator who is not a superuser: what set_role makes from the console."""
    return make_user("adele", "administrator")


def test_an_administrator_creates_a_viewer(client, staff_admin):
    client.force_login(staff_admin)
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "walter",
            "email": "w@example.com",
            "role": "viewer",
            "password1": "a long and unusual password",
            "password2": "a long and unusual password",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    walter = get_user_model().objects.get(username="walter")
    assert not is_administrator(walter) and not walter.is_staff


def test_an_administrator_promotes_a_viewer(client, staff_admin, viewer):
    client.force_login(staff_admin)
    page = client.get(f"/admin/auth/user/{viewer.pk}/change/")
    assert page.status_code == 200
    response = client.post(
        f"/admin/auth/user/{viewer.pk}/change/",
        {
            "username": viewer.username,
            "email": "",
            "first_name": "",
            "last_name": "",
            "role": "administrator",
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    viewer.refresh_from_db()
    assert is_administrator(viewer) and viewer.is_staff


def test_the_user_list_shows_roles(client, staff_admin, viewer):
    client.force_login(staff_admin)
    body = client.get("/admin/auth/user/").content.decode()
    assert "victor" in body and "viewer" in body and "administrator" in body
