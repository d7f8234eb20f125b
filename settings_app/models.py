"""Settings stored in the operational database."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from hub import addresses
from hub.fields import SecretField


class SmtpSettings(models.Model):
    """The email server notifications are sent through (one row; the notifications screen edits it).

    Its password is a secret: a master password reset erases it and sets ``needs_password``.
    """

    class Protocol(models.TextChoices):
        SMTP = "smtp", "SMTP (plain)"
        SMTPS = "smtps", "SMTPS (TLS from the start, certificate checked)"
        SMTP_STARTTLS = "smtp_starttls", "SMTP_STARTTLS (STARTTLS when the server offers it)"

    class Frequency(models.IntegerChoices):
        FIVE_MINUTES = 5, "At most every 5 minutes"
        FIFTEEN_MINUTES = 15, "At most every 15 minutes"
        HOUR = 60, "At most every hour"
        DAY = 1440, "At most once a day"

    recipients = models.TextField(
        "to email addresses", blank=True, default="", help_text="One or more, separated by commas."
    )
    sender = models.EmailField(
        "from email address", blank=True, help_text="Replies go here; it may be a no-reply address."
    )
    subject_prefix = models.CharField(max_length=100, blank=True, default="[Hub]")
    server_url = models.URLField(
        "server URL", max_length=500, blank=True, help_text="Where users reach Hub: the links in the email."
    )
    frequency = models.PositiveIntegerField(
        "notification frequency", choices=Frequency.choices, default=Frequency.FIFTEEN_MINUTES
    )
    host = models.CharField("SMTP server", max_length=255, blank=True)
    port = models.PositiveIntegerField("SMTP port", default=587)
    username = models.CharField(max_length=255, blank=True)
    password = SecretField()
    timeout = models.PositiveIntegerField("connection timeout (seconds)", default=60)
    protocol = models.CharField(max_length=20, choices=Protocol.choices, default=Protocol.SMTP_STARTTLS)
    enabled = models.BooleanField("notifications on", default=False)
    needs_password = models.BooleanField(
        default=False,
        help_text="The password was erased by a master password reset and must be entered again.",
    )
    last_check_ok = models.BooleanField(null=True, blank=True, help_text="Last test connection or send.")
    last_check_message = models.TextField(blank=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    reported_until = models.DateTimeField(
        null=True, blank=True, help_text="Problems up to this instant are in an email already."
    )
    reported_failures = models.JSONField(
        default=list,
        blank=True,
        help_text="Failed activities an email named that were still failed at the last one.",
    )

    class Meta:
        verbose_name = "email server setting"
        verbose_name_plural = "email server settings"

    def __str__(self) -> str:
        return self.host or "email server"

    def clean(self) -> None:
        if self.host:
            try:
                addresses.check_host_name(self.host, credentials_field="the user name and password fields")
            except ValidationError as error:
                raise ValidationError({"host": error}) from None


class EnvironmentLabel(models.Model):
    """The environment type and name shown in the console header, set on Settings → General.

    One row (``get``). An empty field falls back to ``hub.environment.type`` / ``.name`` in
    ``hub.properties``, so the file stays the default and a screen change needs no restart.
    """

    class Type(models.TextChoices):
        DEFAULT = "", "As in hub.properties"
        TESTING = "testing", "Testing"
        PRODUCTION = "production", "Production"
        DEVELOPMENT = "development", "Development"

    type = models.CharField("environment type", max_length=12, choices=Type.choices, blank=True, default="")
    name = models.CharField(
        "environment name",
        max_length=80,
        blank=True,
        default="",
        help_text="Shown in the upper left of every screen, e.g. 'Staging EU'. Empty: as in hub.properties.",
    )

    class Meta:
        verbose_name = "environment label"

    def __str__(self) -> str:
        return f"{self.type} {self.name}".strip() or "environment label"

    @classmethod
    def get(cls) -> EnvironmentLabel:
        found, _ = cls.objects.get_or_create(pk=1)
        return found
