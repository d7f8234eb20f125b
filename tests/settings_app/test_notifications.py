"""Email notifications against real SMTP servers on loopback (aiosmtpd): the server form and its
checks, the email itself, when it goes out and when not, a failed send as a blocker, and the
notificationSettingsValid health check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity, Blocker
from hub import health
from hub.models import ConfigurationChange
from settings_app import notifications
from settings_app.models import SmtpSettings
from tests.activity import factories as ledger
from tests.support.smtp import SmtpServer


@pytest.fixture
def server(tmp_path, request):
    kind = getattr(request, "param", "plain")
    with SmtpServer(kind, tmp_path) as running:
        yield running


@pytest.fixture
def trusted(server, monkeypatch):
    """The throwaway certificate is the one the client trusts (as a real CA's would be)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
    return server


def smtp_for(server, **fields) -> SmtpSettings:
    protocol = {"smtps": "smtps", "starttls": "smtp_starttls"}.get(server.kind, "smtp")
    values = {
        "recipients": "ops@example.com, lead@example.com",
        "sender": "no-reply@example.com",
        "server_url": "https://hub.example.com:8443/",
        "host": "localhost" if server.kind in ("smtps", "starttls") else "127.0.0.1",
        "port": server.port,
        "protocol": protocol,
        "timeout": 5,
        "enabled": True,
        **fields,
    }
    if server.kind == "auth":
        values.setdefault("username", server.username)
        values.setdefault("password", server.password)
    return SmtpSettings.objects.create(**values)


def failure(**fields) -> ArtifactActivity:
    return ledger.activities(1, ledger.Status.FAILED, **fields)[0]


# --- the checks -----------------------------------------------------------------------------------


def test_test_connection_reports_the_server_greeting(server, db):
    smtp = smtp_for(server)
    ok, answer = notifications.test_connection(smtp)
    assert ok and answer.startswith("250 ")
    smtp.refresh_from_db()
    assert smtp.last_check_ok is True and smtp.last_check_at is not None


@pytest.mark.parametrize("server", ["starttls", "smtps"], indirect=True)
def test_tls_variants_validate_the_certificate_and_encrypt(trusted, master_password):
    smtp = smtp_for(trusted)
    ok, answer = notifications.test_connection(smtp)
    assert ok, answer
    if trusted.kind == "starttls":
        assert "STARTTLS" in answer
    notifications.send(smtp, notifications.test_message(smtp))
    assert trusted.mailbox.wait_for(1)[0][1]["Subject"] == "[Hub] Test email"


@pytest.mark.parametrize("server", ["smtps"], indirect=True)
def test_an_untrusted_certificate_is_refused(server, db):
    ok, answer = notifications.test_connection(smtp_for(server))
    assert not ok and answer.startswith("CCRRTT-21001E") and "TLS" in answer


@pytest.mark.parametrize("server", ["auth"], indirect=True)
def test_login_with_the_right_password_and_21002E_with_a_wrong_one(server, master_password):
    assert notifications.test_connection(smtp_for(server))[0]
    SmtpSettings.objects.all().delete()
    ok, answer = notifications.test_connection(smtp_for(server, password="wrong"))
    assert not ok and answer.startswith("CCRRTT-21002E")


def test_an_unreachable_server_is_21001E_with_the_reason(db):
    smtp = SmtpSettings.objects.create(recipients="a@example.com", host="127.0.0.1", port=9, protocol="smtp")
    ok, answer = notifications.test_connection(smtp)
    assert not ok and answer.startswith("CCRRTT-21001E") and "cannot be reached" in answer


# --- the email ------------------------------------------------------------------------------------


def test_a_failure_sends_one_email_with_both_parts_codes_links_and_escaped_values(server, db):
    smtp_for(server)
    failure(message="Field <b>Owner</b> & co refused", code="CCRRTT-17003E")
    Blocker.objects.create(key="t", code="CCRRTT-17002E", message="Mapping <i>broken</i>", impact="affected")
    assert notifications.notify() == "sent"
    ((to, message),) = server.mailbox.wait_for(1)
    assert sorted(to) == ["lead@example.com", "ops@example.com"]
    assert message["Subject"] == "[Hub] 1 new issue and 1 failed activity"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "New failed activities: 1" in text and "CCRRTT-17003E" in text
    assert "https://hub.example.com:8443/activity/" in text
    assert "https://hub.example.com:8443/help/errors/CCRRTT-17003E/" in html
    assert "Field <b>Owner</b> & co refused" in text
    assert "Field &lt;b&gt;Owner&lt;/b&gt; &amp; co refused" in html and "<b>Owner" not in html
    assert "&lt;i&gt;broken" in html


def test_no_second_email_without_news_even_when_a_failure_fails_again(server, db):
    smtp_for(server, frequency=5)
    failed = failure()
    assert notifications.notify() == "sent"
    later = timezone.now() + timedelta(minutes=10)
    ArtifactActivity.objects.filter(pk=failed.pk).update(
        last_error_at=later - timedelta(minutes=1), retry_count=2
    )
    assert notifications.notify(now=later) == "nothing new"
    assert len(server.messages) == 1


def test_at_most_one_email_per_period_then_the_news_of_the_period(server, db):
    smtp_for(server, frequency=15)
    failure(artifact_id="1")
    assert notifications.notify() == "sent"
    failure(artifact_id="2", last_error_at=timezone.now() + timedelta(minutes=1))
    assert notifications.notify(now=timezone.now() + timedelta(minutes=5)) == "not due"
    assert notifications.notify(now=timezone.now() + timedelta(minutes=16)) == "sent"
    second = server.mailbox.wait_for(2)[1][1]
    assert second["Subject"] == "[Hub] 1 failed activity"


def test_ignored_activities_are_left_out(server, db):
    smtp_for(server)
    ledger.activities(1, ledger.Status.IGNORED, code="CCRRTT-17003E", last_error_at=timezone.now())
    assert notifications.notify() == "nothing new"
    assert server.messages == []


def test_nothing_is_sent_while_notifications_are_off(server, db):
    smtp_for(server, enabled=False)
    failure()
    assert notifications.notify() == "off"


@pytest.mark.parametrize("server", ["auth"], indirect=True)
def test_a_failed_send_is_a_blocker_and_a_good_one_clears_it(server, master_password):
    smtp = smtp_for(server, password="wrong")
    failure()
    assert notifications.notify() == "CCRRTT-21002E"
    blocker = Blocker.objects.get(key=notifications.BLOCKER_KEY)
    assert blocker.code == "CCRRTT-21002E" and "could not be sent" in blocker.message
    smtp.password = server.password
    smtp.save()
    assert notifications.notify() == "sent"
    assert not Blocker.objects.filter(key=notifications.BLOCKER_KEY).exists()
    assert "21002E" not in server.mailbox.wait_for(1)[0][1]["Subject"]  # its own blocker is not news


def test_an_unreachable_server_at_send_time_is_21001E_on_the_activity_screen(db, admin_client):
    SmtpSettings.objects.create(
        recipients="a@example.com", host="127.0.0.1", port=9, protocol="smtp", enabled=True
    )
    failure()
    assert notifications.notify() == "CCRRTT-21001E"
    assert "CCRRTT-21001E" in admin_client.get("/activity/blockers/").content.decode()


# --- health ---------------------------------------------------------------------------------------


def check() -> health.Result:
    return health._checks["notificationSettingsValid"]()


def test_health_follows_the_real_state(server, db):
    assert check().status == health.NOT_APPLICABLE
    smtp = smtp_for(server, enabled=False)
    assert check().status == health.NOT_APPLICABLE
    SmtpSettings.objects.filter(pk=smtp.pk).update(enabled=True)
    assert check().status == health.FAIL and "not been tested" in check().reason
    notifications.test_connection(smtp)
    assert check().status == health.PASS
    SmtpSettings.objects.filter(pk=smtp.pk).update(port=9, protocol="smtp")
    notifications.test_connection(SmtpSettings.objects.get())
    result = check()
    assert result.status == health.FAIL and "CCRRTT-21001E" in result.reason


# --- the screen -----------------------------------------------------------------------------------


def form_data(server, **overrides) -> dict:
    return {
        "recipients": "ops@example.com",
        "sender": "no-reply@example.com",
        "subject_prefix": "[Hub]",
        "server_url": "https://hub.example.com/",
        "frequency": "15",
        "username": "",
        "password": "",
        "host": "127.0.0.1",
        "port": str(server.port),
        "timeout": "60",
        "protocol": "smtp",
        **overrides,
    }


def test_an_administrator_saves_checks_and_turns_notifications_on_with_history(
    server, admin_client, master_password
):
    assert (
        admin_client.post(
            "/settings/notifications/", form_data(server, password="Smtp-Pa55-hidden")
        ).status_code
        == 302
    )
    smtp = SmtpSettings.objects.get()
    assert (smtp.subject_prefix, smtp.timeout, smtp.enabled) == ("[Hub]", 60, False)
    answer = admin_client.post(
        "/settings/notifications/check/connection/", form_data(server)
    ).content.decode()
    assert "Test Connection succeeded: 250 " in answer
    answer = admin_client.post("/settings/notifications/check/send/", form_data(server)).content.decode()
    assert "Send Test Email succeeded" in answer and server.mailbox.wait_for(1)
    admin_client.post("/settings/notifications/on/")
    assert SmtpSettings.objects.get().enabled
    changes = ConfigurationChange.objects.filter(element_type="Email notifications").order_by("id")
    assert changes.count() == 2
    assert "Smtp-Pa55-hidden" not in str(list(changes.values("before", "after")))
    assert changes[0].after["login"] == "stored"
    page = admin_client.get("/settings/notifications/").content.decode()
    assert "Smtp-Pa55-hidden" not in page and "Turn Off Notifications" in page
    admin_client.post("/settings/notifications/delete/")
    assert not SmtpSettings.objects.exists()


def test_bad_input_is_refused_field_by_field(server, admin_client):
    response = admin_client.post("/settings/notifications/", form_data(server, recipients="ops@, x", host=""))
    assert response.status_code == 200 and not SmtpSettings.objects.exists()
    page = response.content.decode()
    assert "is not an email address" in page and "SMTP server&#x27;s host name" in page
    answer = admin_client.post(
        "/settings/notifications/check/connection/", form_data(server, host="")
    ).content
    assert b"Test Connection failed" in answer


def test_viewers_see_the_settings_but_change_nothing(server, viewer_client):
    smtp_for(server, enabled=False)
    page = viewer_client.get("/settings/notifications/").content.decode()
    assert "notification-form" not in page
    for path in ("/settings/notifications/", "/settings/notifications/on/", "/settings/notifications/delete/",
                 "/settings/notifications/check/send/"):  # fmt: skip
        assert viewer_client.post(path, form_data(server)).status_code == 403
    assert SmtpSettings.objects.get().enabled is False and server.messages == []


def test_the_empty_form_offers_the_documented_defaults_and_the_google_hint(admin_client):
    page = admin_client.get("/settings/notifications/").content.decode()
    assert "Add Email Server" in page and 'data-testid="test-connection"' in page
    assert 'value="[Hub]"' in page and 'value="60"' in page
    assert "Google mail" in page and "SMTP_STARTTLS" in page


def test_saved_settings_are_edited_under_configure_notification_settings_and_delete_empties_it(
    server, admin_client, master_password
):
    admin_client.post("/settings/notifications/", form_data(server, username="hub", password="Smtp-Pa55"))
    stored = SmtpSettings.objects.get()

    page = admin_client.get("/settings/notifications/").content.decode()
    form = page[page.index("<h2>Configure Notification Settings</h2>") :]
    assert "Add Email Server" not in page
    # The form holds what is stored, the password left out.
    assert 'value="ops@example.com"' in form and f'value="{server.port}"' in form
    assert 'value="hub"' in form and "Smtp-Pa55" not in form

    edited = form_data(server, username="hub", password="", recipients="oncall@example.com", frequency="60")
    assert admin_client.post("/settings/notifications/", edited).status_code == 302

    after = SmtpSettings.objects.get()  # the same settings, changed: not a second server
    assert after.pk == stored.pk
    assert (after.recipients, after.frequency) == ("oncall@example.com", 60)
    assert after.password.reveal() == "Smtp-Pa55"  # left empty on the form: the stored one is kept
    page = admin_client.get("/settings/notifications/").content.decode()
    assert 'value="oncall@example.com"' in page

    admin_client.post("/settings/notifications/delete/")

    assert not SmtpSettings.objects.exists()
    page = admin_client.get("/settings/notifications/").content.decode()
    assert "<h2>Add Email Server</h2>" in page and "Configure Notification Settings" not in page
    assert "No email server yet" in page and 'data-testid="delete"' not in page
    deleted = ConfigurationChange.objects.filter(element_type="Email notifications").order_by("id").last()
    assert deleted.before["recipients"] == "oncall@example.com" and deleted.after is None
