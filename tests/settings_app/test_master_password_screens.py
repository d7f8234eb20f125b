"""Settings → General: setting, re-entering, changing and resetting the master password."""

import pytest

from activity.models import Blocker
from hub import vault
from hub.models import ConfigurationChange
from settings_app.models import SmtpSettings
from tests.hub.security_fixtures import MASTER_PASSWORD

SMTP_PASSWORD = "smtp password in the screens test"


@pytest.mark.django_db
def test_the_first_administrator_is_taken_to_the_master_password_prompt(client):
    from hub import gates, setup

    gates.refresh_global_blockers()  # as runhub does when it starts
    token = setup.ensure_setup_token()
    response = client.post(
        "/setup/",
        {
            "token": token,
            "username": "first",
            "email": "",
            "password": "a long enough password",
            "password_again": "a long enough password",
        },
    )
    assert response["Location"] == "/settings/general/"
    html = client.get("/settings/general/").content.decode()
    assert "No master password has been set" in html and "Set master password" in html
    assert "CCRRTT-16001E" in client.get("/").content.decode()


@pytest.mark.django_db
def test_every_page_shows_the_global_blockers_until_they_are_dealt_with(admin_client, issue):
    from hub import gates, licensing

    gates.refresh_global_blockers()
    html = admin_client.get("/settings/", follow=True).content.decode()
    assert 'data-testid="global-problem">CCRRTT-16001E' in html and "CCRRTT-30018E" in html
    admin_client.post(
        "/settings/general/master-password/set/",
        {"new_password": MASTER_PASSWORD, "new_password_again": MASTER_PASSWORD},
    )
    licensing.apply(issue())
    assert 'data-testid="global-problem"' not in admin_client.get("/settings/", follow=True).content.decode()


@pytest.mark.django_db
def test_an_administrator_sets_the_master_password(admin_client):
    response = admin_client.post(
        "/settings/general/master-password/set/",
        {"new_password": MASTER_PASSWORD, "new_password_again": MASTER_PASSWORD},
    )
    assert response.status_code == 302
    assert vault.state() == vault.SecurityState.UNLOCKED
    assert not Blocker.objects.filter(code="CCRRTT-16001E").exists()
    change = ConfigurationChange.objects.get(element_type="Master password")
    assert change.after == {"state": "set"} and change.username == "ada"
    assert "The master password is set." in admin_client.get("/settings/general/").content.decode()


@pytest.mark.django_db
def test_mismatched_or_short_passwords_are_refused_and_nothing_is_set(admin_client):
    response = admin_client.post(
        "/settings/general/master-password/set/", {"new_password": "short", "new_password_again": "short"}
    )
    assert response.status_code == 400 and "at least 10 characters" in response.content.decode()
    response = admin_client.post(
        "/settings/general/master-password/set/",
        {"new_password": MASTER_PASSWORD, "new_password_again": MASTER_PASSWORD + "x"},
    )
    assert response.status_code == 400 and "The two passwords differ." in response.content.decode()
    assert vault.state() == vault.SecurityState.NOT_SET


@pytest.mark.django_db
def test_change_needs_the_current_password_and_keeps_secrets(admin_client, master_password):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    wrong = admin_client.post(
        "/settings/general/master-password/change/",
        {
            "current_password": "not it at all",
            "new_password": "second password",
            "new_password_again": "second password",
        },
    )
    assert wrong.status_code == 400 and "This is not the current master password." in wrong.content.decode()
    right = admin_client.post(
        "/settings/general/master-password/change/",
        {
            "current_password": MASTER_PASSWORD,
            "new_password": "second password",
            "new_password_again": "second password",
        },
    )
    assert right.status_code == 302
    vault.forget_unlocked_keys()
    assert SmtpSettings.objects.get(pk=smtp.pk).password.reveal() == SMTP_PASSWORD


@pytest.mark.django_db
def test_reset_says_what_will_be_erased_before_confirming(admin_client, master_password):
    SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    html = admin_client.get("/settings/general/master-password/reset/").content.decode()
    assert "1 email server settings" in html and "erases every password and token" in html
    unconfirmed = admin_client.post(
        "/settings/general/master-password/reset/",
        {"new_password": "a new password", "new_password_again": "a new password"},
    )
    assert unconfirmed.status_code == 400
    assert SmtpSettings.objects.get().password is not None


@pytest.mark.django_db
def test_reset_erases_secrets_and_marks_their_owners(admin_client, master_password):
    SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    response = admin_client.post(
        "/settings/general/master-password/reset/",
        {"new_password": "a new password", "new_password_again": "a new password", "confirm": "on"},
    )
    assert response.status_code == 302
    smtp = SmtpSettings.objects.get()
    assert smtp.password is None and smtp.needs_password
    assert ConfigurationChange.objects.get(element_type="Master password").after == {
        "state": "reset",
        "erased": {"email server settings": 1},
    }


@pytest.mark.django_db
def test_a_missing_file_asks_for_the_master_password_again(admin_client, master_password, settings):
    settings.HUB_MASTER_KEY_FILE.unlink()
    vault.forget_unlocked_keys()
    assert "must be re-entered" in admin_client.get("/settings/general/").content.decode()
    wrong = admin_client.post("/settings/general/master-password/unlock/", {"password": "not the password"})
    assert wrong.status_code == 400
    assert (
        admin_client.post(
            "/settings/general/master-password/unlock/", {"password": MASTER_PASSWORD}
        ).status_code
        == 302
    )
    assert vault.state() == vault.SecurityState.UNLOCKED


@pytest.mark.django_db
def test_a_viewer_sees_the_state_but_no_form_and_cannot_change_anything(viewer_client, master_password):
    SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    html = viewer_client.get("/settings/general/").content.decode()
    assert (
        "The master password is set." in html and '<form method="post" action="/settings/general' not in html
    )
    for path, data in [
        ("/settings/general/master-password/change/", {"current_password": MASTER_PASSWORD}),
        ("/settings/general/master-password/reset/", {"confirm": "on"}),
        ("/settings/general/master-password/set/", {}),
        ("/settings/general/master-password/unlock/", {"password": MASTER_PASSWORD}),
    ]:
        assert viewer_client.post(path, data).status_code == 403
    assert SmtpSettings.objects.get().password.reveal() == SMTP_PASSWORD
    assert SMTP_PASSWORD not in viewer_client.get("/settings/general/master-password/reset/").content.decode()
