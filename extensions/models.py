"""Extensions, key-value stores, and the per-collection choices of which extension applies where.

An extension's script is stored in clear (it is configuration, like a mapping): secrets it needs
belong in a confidential key-value store, whose values are sealed by the vault.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.urls import reverse

from hub.fields import SecretField

MAX_PAIRS = 3000


class ExtensionType(models.TextChoices):
    CUSTOM_DATA_TRANSFORMATION = "custom_data_transformation", "Custom Data Transformation"
    PAYLOAD_TRANSFORMATION = "payload_transformation", "Payload Transformation"
    PERSON_RECONCILIATION = "person_reconciliation", "Person Reconciliation"
    STATE_TRANSITION = "state_transition", "State Transition"


# The functions each type must define (the screen refuses a script without them).
ENTRY_POINTS = {
    ExtensionType.CUSTOM_DATA_TRANSFORMATION: ("transform",),
    ExtensionType.PAYLOAD_TRANSFORMATION: ("transformPayload",),
    ExtensionType.PERSON_RECONCILIATION: ("mapPersonFromRepository", "mapPersonToRepository"),
    ExtensionType.STATE_TRANSITION: ("transitionArtifact",),
}


class Extension(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=40, choices=ExtensionType.choices)
    script = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("extension-edit", args=[self.pk])


class KeyValueStore(models.Model):
    class Kind(models.TextChoices):
        CONFIDENTIAL = "confidential", "Confidential"
        PLAIN = "plain", "Plain"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PLAIN)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kv-store-edit", args=[self.pk])

    @property
    def confidential(self) -> bool:
        return self.kind == self.Kind.CONFIDENTIAL


class KeyValuePair(models.Model):
    """One pair. A plain store keeps the value in ``value``; a confidential one in ``sealed``
    (a master-password reset empties ``sealed``: the pair stays, waiting for its value again)."""

    store = models.ForeignKey(KeyValueStore, on_delete=models.CASCADE, related_name="pairs")
    key = models.CharField(max_length=500)
    # Keys are case-sensitive, but MariaDB's default collation is not: uniqueness and look-ups go
    # through this digest of the exact key, the same on every database.
    key_digest = models.CharField(max_length=64, editable=False)
    value = models.TextField(blank=True)
    sealed = SecretField()

    SECRET_FIELDS = ("sealed",)

    class Meta:
        ordering = ["key"]
        verbose_name = "confidential key-value pair"
        verbose_name_plural = "confidential key-value pairs"
        constraints = [models.UniqueConstraint(fields=["store", "key_digest"], name="kv_pair_key_unique")]

    def __str__(self) -> str:
        return self.key

    def save(self, *args, **kwargs):
        self.key_digest = digest(self.key)
        super().save(*args, **kwargs)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class CollectionExtensions(models.Model):
    """Which extensions apply to one repository collection: comment transformations per direction,
    person reconciliation, and the state transition (an extension, or the transition graph)."""

    collection = models.OneToOneField(
        "integrations.RepositoryCollection", on_delete=models.CASCADE, related_name="extension_settings"
    )
    comments_to_model = models.ForeignKey(
        Extension, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comments_to_repository = models.ForeignKey(
        Extension, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person_reconciliation = models.ForeignKey(
        Extension, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state_transition = models.ForeignKey(
        Extension, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state_transition_fields = models.JSONField(
        default=list, blank=True, help_text="Model field keys the state transition needs."
    )
    transition_graph = models.JSONField(
        default=list,
        blank=True,
        help_text="Edges [{from, to, transition}] between the tool's statuses, walked by shortest path.",
    )

    class Meta:
        verbose_name_plural = "collection extension settings"

    def __str__(self) -> str:
        return f"extensions of {self.collection}"
