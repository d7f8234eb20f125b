"""Core records: the wrapped data key, applied licenses, the operational database lease, API
tokens and configuration history."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class MasterKey(models.Model):
    """The one data key that encrypts every secret, wrapped by a key derived from the master password.

    Changing the master password rewraps this row only; resetting replaces the data key (new
    ``key_id``) and erases every secret encrypted under the old one.
    """

    key_id = models.CharField(max_length=32, unique=True)
    kdf = models.JSONField(help_text="Key derivation: algorithm, salt (base64) and cost parameters.")
    wrapped_key = models.TextField(help_text="base64(nonce + AES-256-GCM(data key)).")
    created = models.DateTimeField(auto_now_add=True)
    changed = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"data key {self.key_id}"


class AppliedLicense(models.Model):
    """A signed license document as applied; the newest row is the license in force."""

    text = models.TextField()
    key_id = models.CharField(max_length=32)
    applied = models.DateTimeField(auto_now_add=True)
    applied_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-applied", "-id"]
        get_latest_by = ["applied", "id"]

    def __str__(self) -> str:
        return f"license applied {self.applied:%Y-%m-%d}"


class InstanceLease(models.Model):
    """Which Hub instance owns the operational database. One row at most (``slot`` is unique)."""

    slot = models.CharField(max_length=20, unique=True, default="operational")
    instance_id = models.CharField(max_length=64)
    host = models.CharField(max_length=255)
    pid = models.IntegerField(null=True, blank=True)
    started = models.DateTimeField()
    heartbeat = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.instance_id} on {self.host}"


class ApiToken(models.Model):
    """A REST API credential. Only a SHA-256 hash of the token is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a token in lists.")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="api_token_name_per_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ConfigurationChange(models.Model):
    """One entry of configuration history: who changed what, from where, before and after.

    Secrets are redacted before they reach ``before``/``after`` (see ``hub.audit``).
    """

    class Source(models.TextChoices):
        CONSOLE = "console", "Console"
        API = "api", "REST API"
        COMMAND = "command", "Command line"
        IMPORT = "import", "Import"

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        SETTINGS = "settings", "Settings changed"

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    element_type = models.CharField(max_length=100)
    element_name = models.CharField(max_length=255, blank=True)
    element_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["element_type", "element_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.element_type} {self.element_name}"


class HashedSession(AbstractBaseSession):
    """A console session; ``session_key`` is the SHA-256 of the key in the cookie (hub.sessions)."""

    session_key = models.CharField("hash of the session key", max_length=64, primary_key=True)

    class Meta:
        db_table = "hub_session"
        verbose_name = "session"

    @classmethod
    def get_session_store_class(cls):
        from hub.sessions import SessionStore

        return SessionStore
