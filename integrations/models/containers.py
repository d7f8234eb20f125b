"""How a Container + Work Item integration mirrors containers (docs/containers.md): which artifact
types are containers on each side, the model field that holds an artifact's container, container
matching, and the Shared Container Mirroring conditions."""

from __future__ import annotations

from django.db import models

from integrations.models.integrations import Integration


class ContainerMirroring(models.Model):
    class Matching(models.TextChoices):
        OFF = "off", "Off: always create the container's twin"
        FIRST = "first", "Pair with the first matching container"
        ERROR = "error", "Pair with the one match; several matches are an error (CCRRTT-50007E)"

    class Unmatched(models.TextChoices):
        IGNORE = "ignore", "Ignore the container"
        DEFAULT = "default", "Create it as the default type"
        ERROR = "error", "Error (CCRRTT-50016E)"

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="container_mirroring"
    )
    container_types_a = models.JSONField(default=list, blank=True, help_text="Container artifact types of A.")
    container_types_b = models.JSONField(default=list, blank=True, help_text="Container artifact types of B.")
    parent_field = models.CharField(
        max_length=100, default="parent", help_text="The model field (type Container) holding the container."
    )
    matching = models.CharField(max_length=10, choices=Matching.choices, default=Matching.OFF)
    match_field = models.CharField(max_length=100, default="summary")
    # Shared Container Mirroring: [{"field", "operator", "value", "type"}]; the first that holds
    # gives the target container type.
    conditions = models.JSONField(default=list, blank=True)
    unmatched = models.CharField(max_length=10, choices=Unmatched.choices, default=Unmatched.DEFAULT)
    default_type = models.CharField(max_length=200, blank=True, help_text="Empty: the first container type.")

    def __str__(self) -> str:
        return f"container mirroring of {self.integration}"

    def types_of(self, side: str) -> list[str]:
        return list((self.container_types_a if side == "A" else self.container_types_b) or [])
