from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from hub import addresses
from integrations.secrets import SecretField, unseal

MAX_TIMEOUT = 600  # seconds; longer only ties up a worker (or a request testing the connection)


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

    def clean(self) -> None:
        """The rules every path that stores a repository runs: screen, API and import."""
        from connectors import registry

        errors: dict[str, Any] = {}
        if self.kind not in registry.kinds():
            errors["kind"] = f"CCRRTT-30003E: there is no connector kind “{self.kind}”."
        checks = [("url", addresses.REPOSITORY_SCHEMES, "the user name and password (or token) fields")]
        if self.use_proxy or self.proxy_url:
            checks.append(("proxy_url", addresses.PROXY_SCHEMES, "the proxy user and proxy password fields"))
        for name, schemes, credentials_field in checks:
            value = getattr(self, name)
            if not value and name == "url":
                continue
            try:
                addresses.check_url(value, schemes=schemes, credentials_field=credentials_field)
            except ValidationError as error:
                errors[name] = error
        if "proxy_url" in errors and errors["proxy_url"].code != "credentials":
            errors["proxy_url"] = ValidationError(
                "CCRRTT-61103E: the proxy location must be a URL such as "
                "http://proxy.example.com:3128 (open a .pac script to find it).",
                code="CCRRTT-61103E",
            )
        if not isinstance(self.timeout, int) or not 1 <= self.timeout <= MAX_TIMEOUT:
            errors["timeout"] = f"The connection timeout is from 1 to {MAX_TIMEOUT} seconds."
        if not isinstance(self.extra, dict) or not all(
            isinstance(key, str) and (value is None or isinstance(value, str | int | float | bool))
            for key, value in self.extra.items()
        ):
            errors["extra"] = "The connector's own settings are an object of names and plain values."
        if errors:
            raise ValidationError(errors)

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
            enabled=self.enabled,
        )
