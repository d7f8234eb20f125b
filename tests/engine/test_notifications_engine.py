"""Email notifications end to end: a sync between the local trackers whose target refuses one
artifact, the scheduled task (``settings_app.send_notifications``, as beat starts it) and a real
SMTP server on loopback (tests/support/smtp.py): one email naming the failure, none while the retry
only fails again, a send to a server that is gone is a blocker on the Activity screen, and the news
it could not send goes out with the next email once the server is back."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from activity.models import ArtifactActivity, Blocker
from settings_app.models import SmtpSettings
from settings_app.tasks import send_notifications
from tests.engine.sync import new_item, run
from tests.support.smtp import SmtpServer


def refuse_long_summaries(monkeypatch) -> None:
    """Beta refuses any item whose summary starts "Too long", as a tool refuses a value."""
    from connectors.local import service

    create_item = service.create_item

    def refuse(project, item_type, values, **kwargs):
        if project.key == "WEB" and values.get("summary", "").startswith("Too long"):
            raise service.ValuesNotAccepted(
                "WEB refused the values", fields={"summary": "over <80> characters"}
            )
        return create_item(project, item_type, values, **kwargs)

    monkeypatch.setattr(service, "create_item", refuse)
    monkeypatch.setattr(
        service, "create_items", lambda *args, **kwargs: [refuse(*args[:2], v) for v, _ in args[2]]
    )


def period_passed() -> None:
    SmtpSettings.objects.update(last_sent_at=timezone.now() - timedelta(hours=2))


def scheduled() -> str:
    return send_notifications.apply().get()  # the beat's task, run here as a worker runs it


def test_a_failed_sync_is_one_email_none_without_news_and_a_failed_send_a_blocker(
    running, tmp_path, monkeypatch, admin_client
):
    refuse_long_summaries(monkeypatch)
    with SmtpServer("plain", tmp_path) as server:
        smtp = SmtpSettings.objects.create(
            recipients="ops@example.com",
            sender="hub@example.com",
            server_url="https://hub.example.com:8443/",
            host="127.0.0.1",
            port=server.port,
            protocol="smtp",
            timeout=5,
            enabled=True,
        )
        assert scheduled() == "nothing new"  # nothing failed yet: no email
        new_item("alpha", "DEMO", "Too long for beta")
        new_item("alpha", "DEMO", "Fine")
        run(running)
        failed = ArtifactActivity.objects.get(status="failed")
        assert scheduled() == "sent"
        ((to, message),) = server.mailbox.wait_for(1)
        assert to == ["ops@example.com"] and message["Subject"] == "[Hub] 1 failed activity"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert f"- {failed.code}: {running.name}, {failed.formatted_id}: " in text
        assert "over <80> characters" in text and "over &lt;80&gt; characters" in html
        assert "https://hub.example.com:8443/activity/" in text
        assert f"https://hub.example.com:8443/help/errors/{failed.code}/" in text

        # The retry fails again: not news, so no second email, even once the period has passed.
        ArtifactActivity.objects.filter(pk=failed.pk).update(next_retry_at=timezone.now())
        run(running)
        failed.refresh_from_db()
        assert failed.status == "failed" and failed.retry_count == 2
        assert scheduled() == "not due"
        period_passed()
        assert scheduled() == "nothing new"
        assert len(server.messages) == 1

    # The server is gone: the next news cannot be sent, which is a blocker (21001E).
    new_item("alpha", "DEMO", "Too long as well")
    run(running)
    period_passed()
    assert scheduled() == "CCRRTT-21001E"
    blocker = Blocker.objects.get(code="CCRRTT-21001E")
    assert "could not be sent" in blocker.message
    assert "CCRRTT-21001E" in admin_client.get("/activity/blockers/").content.decode()

    # Back again: the failure it could not tell is in the next email, and the blocker is gone.
    with SmtpServer("plain", tmp_path) as server:
        SmtpSettings.objects.filter(pk=smtp.pk).update(port=server.port)
        assert scheduled() == "sent"
        ((_, message),) = server.mailbox.wait_for(1)
        assert message["Subject"] == "[Hub] 1 failed activity"  # its own blocker is not news
        second = ArtifactActivity.objects.filter(status="failed").exclude(pk=failed.pk).get()
        assert f"{second.formatted_id}: " in message.get_body(("plain",)).get_content()
    assert not Blocker.objects.filter(code="CCRRTT-21001E").exists()
