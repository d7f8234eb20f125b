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


class ContainerPair(models.Model):
    """Two containers that are not artifacts (Redmine versions), one on each side, mirrored by one
    integration: the engine records it when it first places an item in the source container's twin
    (created, or found by title), and places every later item through it. Artifact containers are
    paired by ``activity.ArtifactPair`` like any artifact."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="container_pairs")
    a_container_id = models.CharField(max_length=200)
    b_container_id = models.CharField(max_length=200)
    a_project = models.CharField(max_length=200, blank=True)
    b_project = models.CharField(max_length=200, blank=True)
    title = models.CharField(
        max_length=1000, blank=True, help_text="The source container's title when paired."
    )
    # The attributes both containers had when Hub last synchronized them (title and the
    # connector's ``container_attributes``): a side that differs from it has changed since.
    snapshot = models.JSONField(default=dict, blank=True)
    # Side ("A", "B") → since when (ISO time) Hub holds its container open to file items in it
    # while the snapshot says it is closed or locked (Redmine files no issue in such a version);
    # Hub closes it again at the end of the batch, or a later detection when the batch died.
    held_open = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "a_container_id"], name="container_pair_a_unique"),
            models.UniqueConstraint(fields=["integration", "b_container_id"], name="container_pair_b_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.a_container_id} ↔ {self.b_container_id}"

    def id_of(self, side: str) -> str:
        return self.a_container_id if side == "A" else self.b_container_id
