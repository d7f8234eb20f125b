from __future__ import annotations

from django.db import models

from integrations.models.collections import GatewayCollection


class GatewayPayload(models.Model):
    """One accepted request to a gateway collection's endpoint, stored before the sender gets its
    202, so that nothing accepted is lost: workers transform it later (``integrations.gateway``).

    Life cycle: received → transformed (its artifacts became activities, in the same transaction)
    or ignored (the extension returned none) or refused (the transformation or the model check
    failed: ``code`` and ``message`` say why). A payload refused at the door (not JSON, too large)
    is kept too, with its body truncated, so that the refusal shows on the Activity screen."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        TRANSFORMED = "transformed", "Transformed"
        IGNORED = "ignored", "Ignored"
        REFUSED = "refused", "Refused"

    collection = models.ForeignKey(GatewayCollection, on_delete=models.CASCADE, related_name="payloads")
    body = models.TextField(help_text="The request body as received (truncated when refused at the door).")
    parameters = models.JSONField(default=dict, blank=True, help_text="Query parameters: name → [values].")
    headers = models.JSONField(default=dict, blank=True, help_text="HTTP headers: name → [values].")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    code = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    artifacts = models.JSONField(default=list, blank=True, help_text="The model-shaped artifacts it gave.")
    received = models.DateTimeField(auto_now_add=True, db_index=True)
    processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "id"], name="gateway_payload_due"),
            models.Index(fields=["collection", "received"], name="gateway_payload_rate"),
        ]

    def __str__(self) -> str:
        return f"Payload {self.pk} to {self.collection_id} ({self.get_status_display()})"
