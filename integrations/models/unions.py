from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from integrations.models.repositories import Repository


class ArtifactUnion(models.Model):
    """Several projects of one repository, and several artifact types, combined into one source
    that repository collections draw their projects and artifact types from (the 1105E and 1109E
    user actions' "repository collection or artifact union"). Licensed separately
    (``Feature.ARTIFACT_UNIONS``, CCRRTT-15013E); checked by ``integrations.unions`` (CCRRTT-1114E).

    ``projects``: ``[{"id", "key", "name"}]``; ``artifact_types``: artifact type ids."""

    name = models.CharField(max_length=200, unique=True)
    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="unions")
    projects = models.JSONField(default=list, blank=True)
    artifact_types = models.JSONField(default=list, blank=True, help_text="Artifact type ids.")
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("union-edit", args=[self.pk])

    def clean(self) -> None:
        if not isinstance(self.projects, list) or not all(
            isinstance(p, dict) and isinstance(p.get("id"), str) and p["id"].strip() for p in self.projects
        ):
            raise ValidationError({"projects": 'A list of {"id", "key", "name"}.'})
        if not isinstance(self.artifact_types, list) or not all(
            isinstance(t, str) and t.strip() for t in self.artifact_types
        ):
            raise ValidationError({"artifact_types": "A list of artifact type ids."})

    def project_ids(self) -> list[str]:
        return [p["id"] for p in self.projects or [] if isinstance(p, dict) and "id" in p]
