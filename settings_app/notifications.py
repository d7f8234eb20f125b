"""Email notifications: what is new on the Activity screen, sent to the configured addresses at
most once per frequency period and only when something new happened.

"New" is measured against ``SmtpSettings.reported_until``: blockers raised and activities that
failed after that instant. Ignored activities are left out (an administrator decided they do not
matter). A failed send is itself a blocker, CCRRTT-21001E, or CCRRTT-21002E when the server refused
the credentials, so it is visible where every other failure is.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid

from django.template.loader import render_to_string
from django.utils import timezone

from settings_app.models import SmtpSettings

SEND_FAILED, AUTHENTICATION_FAILED = "CCRRTT-21001E", "CCRRTT-21002E"
BLOCKER_KEY = "notifications:send"
FIRST_FEW = 5


class SendFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def current() -> SmtpSettings | None:
    return SmtpSettings.objects.order_by("pk").first()


NOT_SETTINGS = ("id", "password", "needs_password", "last_check_ok", "last_check_message", "last_check_at",
                "last_sent_at", "reported_until", "reported_failures")  # fmt: skip


def snapshot(smtp: SmtpSettings | None) -> dict | None:
    """The settings as history and the support zip keep them: what an administrator sets, the
    password only as whether one is stored (a key without a secret-sounding name, which history
    would mask)."""
    if smtp is None:
        return None
    fields = [f.name for f in SmtpSettings._meta.concrete_fields if f.name not in NOT_SETTINGS]
    return {name: getattr(smtp, name) for name in fields} | {"login": "stored" if smtp.password else "none"}


def recipients(value: str) -> list[str]:
    return [address for _, address in getaddresses([value]) if address]


# --- talking to the server -------------------------------------------------------------------------


def _connect(smtp: SmtpSettings) -> tuple[smtplib.SMTP, str]:
    """An open, authenticated connection and the server's answers on the way, in words."""
    context = ssl.create_default_context()
    if smtp.protocol == SmtpSettings.Protocol.SMTPS:
        server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    code, greeting = server.ehlo()
    said = [f"{code} {greeting.decode(errors='replace').splitlines()[0]}"]
    if smtp.protocol == SmtpSettings.Protocol.SMTP_STARTTLS and server.has_extn("starttls"):
        server.starttls(context=context)
        server.ehlo()
        said.append("STARTTLS: the connection is encrypted")
    if smtp.username:
        password = smtp.password.reveal() if smtp.password else ""
        code, answer = server.login(smtp.username, password)
        said.append(f"{code} {answer.decode(errors='replace')}")
    return server, "; ".join(said)


def _failure(error: Exception) -> SendFailed:
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return SendFailed(
            AUTHENTICATION_FAILED, f"The server refused the user name or password ({error.smtp_code})."
        )
    if isinstance(error, smtplib.SMTPResponseException):
        answer = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else error.smtp_error
        )
        return SendFailed(SEND_FAILED, f"The server answered {error.smtp_code} {answer}")
    if isinstance(error, ssl.SSLError):
        return SendFailed(SEND_FAILED, f"The TLS handshake failed ({error.reason or type(error).__name__}).")
    if isinstance(error, TimeoutError):
        return SendFailed(SEND_FAILED, "The server did not answer within the connection timeout.")
    if isinstance(error, OSError):
        return SendFailed(
            SEND_FAILED, f"The server cannot be reached ({error.strerror or type(error).__name__})."
        )
    return SendFailed(SEND_FAILED, f"{type(error).__name__}: {error}")


def _remember(smtp: SmtpSettings, ok: bool, message: str) -> None:
    smtp.last_check_ok, smtp.last_check_message, smtp.last_check_at = ok, message, timezone.now()
    SmtpSettings.objects.filter(pk=smtp.pk).update(
        last_check_ok=ok, last_check_message=message, last_check_at=smtp.last_check_at
    )


def test_connection(smtp: SmtpSettings) -> tuple[bool, str]:
    """Connect, say hello, log in; what the server said, or why it failed (with the code)."""
    try:
        server, said = _connect(smtp)
        server.quit()
    except (smtplib.SMTPException, OSError) as error:
        failure = _failure(error)
        _remember(smtp, False, str(failure))
        return False, str(failure)
    _remember(smtp, True, said)
    return True, said


def send(smtp: SmtpSettings, message: EmailMessage) -> str:
    """Send ``message``; ``SendFailed`` with the catalog code when the server or network refuses."""
    try:
        server, said = _connect(smtp)
        try:
            refused = server.send_message(message)
        finally:
            server.quit()
    except (smtplib.SMTPException, OSError) as error:
        failure = _failure(error)
        _remember(smtp, False, str(failure))
        raise failure from error
    if refused:
        failure = SendFailed(SEND_FAILED, f"The server refused {', '.join(sorted(refused))}.")
        _remember(smtp, False, str(failure))
        raise failure
    _remember(smtp, True, f"{said}; sent to {message['To']}")
    return said


# --- what the email says ---------------------------------------------------------------------------


@dataclass
class News:
    blockers: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    blocker_count: int = 0
    failed_count: int = 0
    until: datetime | None = None
    failed_ids: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.blocker_count or self.failed_count)


def news(smtp: SmtpSettings, now: datetime | None = None) -> News:
    """Blockers raised after the last email, and activities that failed since and were not named
    in an email while they stayed failed (a retry that fails again is not news)."""
    from activity.models import ArtifactActivity, Blocker

    now = now or timezone.now()
    since = smtp.reported_until
    blockers = Blocker.objects.exclude(key=BLOCKER_KEY).filter(created__lte=now)
    failed = ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED, last_error_at__lte=now)
    if since:
        blockers, failed = blockers.filter(created__gt=since), failed.filter(last_error_at__gt=since)
    reported = set(smtp.reported_failures)
    new_ids = [
        pk for pk in failed.order_by("-last_error_at").values_list("pk", flat=True) if pk not in reported
    ]
    return News(
        blockers=list(blockers.order_by("-created")[:FIRST_FEW]),
        failed=list(ArtifactActivity.objects.filter(pk__in=new_ids[:FIRST_FEW]).order_by("-last_error_at")),
        blocker_count=blockers.count(),
        failed_count=len(new_ids),
        until=now,
        failed_ids=new_ids,
    )


def still_failed(ids) -> list[int]:
    from activity.models import ArtifactActivity

    return sorted(
        ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED, pk__in=list(ids)).values_list(
            "pk", flat=True
        )
    )


def _message(smtp: SmtpSettings, subject: str, template: str, context: dict) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{smtp.subject_prefix} {subject}".strip()
    message["From"] = smtp.sender or smtp.username or f"hub@{smtp.host}"
    message["To"] = ", ".join(recipients(smtp.recipients))
    message["Message-ID"] = make_msgid(domain="hub")
    context = {**context, "server_url": smtp.server_url.rstrip("/")}
    message.set_content(render_to_string(f"settings_app/email/{template}.txt", context))
    message.add_alternative(render_to_string(f"settings_app/email/{template}.html", context), subtype="html")
    return message


def news_message(smtp: SmtpSettings, found: News) -> EmailMessage:
    parts = []
    if found.blocker_count:
        parts.append(f"{found.blocker_count} new issue{'s' if found.blocker_count != 1 else ''}")
    if found.failed_count:
        parts.append(f"{found.failed_count} failed activit{'ies' if found.failed_count != 1 else 'y'}")
    return _message(smtp, " and ".join(parts), "news", {"news": found})


def test_message(smtp: SmtpSettings) -> EmailMessage:
    return _message(smtp, "Test email", "test", {})


# --- the periodic check ----------------------------------------------------------------------------


def due(smtp: SmtpSettings, now: datetime) -> bool:
    return smtp.last_sent_at is None or now - smtp.last_sent_at >= timedelta(minutes=smtp.frequency)


def notify(now: datetime | None = None) -> str:
    """Send what is new, if notifications are on, the period has passed and there is news. Returns
    what happened, for the task's result."""
    from activity.blockers import clear_blocker, raise_blocker

    now = now or timezone.now()
    smtp = current()
    if smtp is None or not smtp.enabled:
        return "off"
    if not due(smtp, now):
        return "not due"
    found = news(smtp, now)
    if not found:
        return "nothing new"
    try:
        send(smtp, news_message(smtp, found))
    except SendFailed as failure:
        raise_blocker(
            BLOCKER_KEY,
            failure.code,
            f"The notification email could not be sent: {failure.message}",
            related=[{"label": "Email notifications", "url": "/settings/notifications/"}],
        )
        return failure.code
    SmtpSettings.objects.filter(pk=smtp.pk).update(
        last_sent_at=now,
        reported_until=found.until,
        reported_failures=still_failed(set(smtp.reported_failures) | set(found.failed_ids)),
    )
    clear_blocker(BLOCKER_KEY)
    return "sent"


def health():
    """``notificationSettingsValid``: not applicable while notifications are off; otherwise the
    outcome of the last test connection or send."""
    from hub.health import FAIL, NOT_APPLICABLE, PASS, Result

    smtp = current()
    if smtp is None or not smtp.enabled:
        return Result(NOT_APPLICABLE, "Email notifications are off.")
    if smtp.last_check_ok:
        return Result(PASS, "The last connection to the email server succeeded.")
    if smtp.last_check_ok is None:
        return Result(FAIL, "The email server has not been tested yet: use Test Connection.")
    return Result(FAIL, f"The last connection to the email server failed: {smtp.last_check_message}")
