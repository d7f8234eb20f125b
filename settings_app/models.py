"""Settings stored in the operational database."""

from django.core.exceptions import ValidationError
from django.db import models

from hub import addresses
from hub.fields import SecretField


class SmtpSettings(models.Model):
    """The email server notifications are sent through (one row; the notifications screen edits it).

    Its password is a secret: a master password reset erases it and sets ``needs_password``.
    """

    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(default=587)
    username = models.CharField(max_length=255, blank=True)
    password = SecretField()
    sender = models.EmailField(blank=True)
    needs_password = models.BooleanField(
        default=False,
        help_text="The password was erased by a master password reset and must be entered again.",
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
