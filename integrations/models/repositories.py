from __future__ import annotations

from django.db import models
from django.urls import reverse

from integrations.secrets import SecretField, unseal


class Repository(models.Model):
    """One configured connection to a tool. Secrets are sealed; ``settings()`` unseals them only
    for the connector that logs in."""

    label = models.CharField(max_length=200, unique=True)
    kind = models.CharField("connector", max_length=50)
    url = models.CharField("URL", max_length=500, blank=True)
    auth_method = models.CharField("authentication method", max_length=50, blank=True)
    username = models.CharField(max_length=200, blank=True)
    password = SecretField()
    token = SecretField()
    use_proxy = models.BooleanField(default=False)
    proxy_url = models.CharField("proxy location", max_length=500, blank=True)
    proxy_username = models.CharField("proxy user", max_length=200, blank=True)
    proxy_password = SecretField()
    allow_insecure = models.BooleanField("allow insecure connections", default=False)
    timeout = models.PositiveIntegerField("connection timeout (seconds)", default=30)
    events_per_minute = models.PositiveIntegerField(
        "event rate limit (per minute)", default=0, help_text="0: no limit."
    )
    extra = models.JSONField(default=dict, blank=True, help_text="The connector's own non-secret settings.")
    enabled = models.BooleanField(default=True)
    event_hints = models.BooleanField(
        default=False, help_text="Webhooks from the tool make Hub detect a change at once (polling goes on)."
    )
    event_hint_secret = SecretField()  # what the tool signs its webhooks with (or sends as a token)
    needs_new_credentials = models.BooleanField(default=False)
    last_test_code = models.CharField(max_length=20, blank=True)
    last_test_message = models.TextField(blank=True)
    last_test_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("password", "token", "proxy_password")  # the form's; event_hint_secret is Hub's own

    class Meta:
        ordering = ["label"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("repository-edit", args=[self.pk])

    @property
    def state(self) -> str:
        """What the list shows: disabled; failing (the last test, or the last connection of a running
        integration, failed with ``last_test_code``); connected; or not tested."""
        if not self.enabled:
            return "disabled"
        if self.last_test_code:
            return "failing"
        return "connected" if self.last_test_at else "not tested"

    @property
    def rate_limit_key(self) -> str:
        return f"repository:{self.pk}"

    def settings(self):
        """The connector's ``RepositorySettings``, with secrets unsealed (kept in memory only)."""
        from connectors.types import RepositorySettings

        return RepositorySettings(
            kind=self.kind,
            url=self.url,
            auth_method=self.auth_method,
            username=self.username,
            password=unseal(self.password),
            token=unseal(self.token),
            proxy_url=self.proxy_url if self.use_proxy else "",
            proxy_username=self.proxy_username if self.use_proxy else "",
            proxy_password=unseal(self.proxy_password) if self.use_proxy else "",
            allow_insecure=self.allow_insecure,
            timeout=float(self.timeout),
            events_per_minute=self.events_per_minute,
            rate_limit_key=self.rate_limit_key,
            extra={key: str(value) for key, value in (self.extra or {}).items()},
        )
