from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from hub import addresses
from integrations.models.modeling import Model
from integrations.models.repositories import Repository
from integrations.secrets import SecretField


class RepositoryCollection(models.Model):
    """A repository + the projects and artifact types chosen from it (+ an optional repository
    query), mapped to one model."""

    name = models.CharField(max_length=200, unique=True)
    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="collections")
    artifact_types = models.JSONField(default=list, blank=True, help_text="Artifact type ids.")
    query = models.TextField("repository query", blank=True)
    model = models.ForeignKey(
        Model, on_delete=models.PROTECT, null=True, blank=True, related_name="repository_collections"
    )
    # Where the projects and artifact types come from when they are an artifact union's
    # (``integrations.unions.apply_union`` keeps them equal).
    union = models.ForeignKey(
        "integrations.ArtifactUnion",
        verbose_name="artifact union",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="collections",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("collection-edit", args=[self.pk])

    def clean(self) -> None:
        if not _texts(self.artifact_types):
            raise ValidationError({"artifact_types": "A list of artifact type ids."})

    def project_ids(self) -> list[str]:
        return [project.project_id for project in self.projects.all()]


class CollectionProject(models.Model):
    """A project chosen for a collection. ``invalid`` is set when a refresh of the repository's
    project list no longer shows it; ``replacement_*`` records the project chosen in its place
    (the data migration that follows is a background job)."""

    collection = models.ForeignKey(RepositoryCollection, on_delete=models.CASCADE, related_name="projects")
    project_id = models.CharField(max_length=200)
    key = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=300)
    invalid = models.BooleanField(default=False)
    replacement_id = models.CharField(max_length=200, blank=True)
    replacement_name = models.CharField(max_length=300, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)
    # What the last refresh found wrong with a project it still lists: CCRRTT-1105E (a chosen
    # artifact type is gone, or Hub's user may no longer read the project) or CCRRTT-1109E (a mapped
    # field is gone or changed type since it was mapped). Empty: nothing.
    problem_code = models.CharField(max_length=20, blank=True)
    problem = models.TextField(blank=True)
    # The kind of high-level container (connectors.types.Project.kind) it was chosen as under Manage
    # Projects; empty: chosen before Hub recorded it (then it is recorded at the next refresh).
    kind = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name", "project_id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "project_id"], name="collection_project_unique")
        ]

    def __str__(self) -> str:
        return self.name


class FieldMapping(models.Model):
    """One line of a collection's mapping: repository field(s) ↔ model field(s)."""

    class Direction(models.TextChoices):
        TO_MODEL = "to_model", "To model"
        TO_REPOSITORY = "to_repository", "To repository"
        BOTH = "both", "Both ways"

    collection = models.ForeignKey(RepositoryCollection, on_delete=models.CASCADE, related_name="mappings")
    repository_fields = models.JSONField(default=list, help_text="Repository field ids.")
    repository_field_types = models.JSONField(
        default=dict, blank=True, help_text="Field id → type, as the live schema gave them when mapped."
    )
    model_fields = models.JSONField(default=list, help_text="Model field ids (keys).")
    direction = models.CharField(max_length=20, choices=Direction.choices, default=Direction.BOTH)
    transform = models.CharField(max_length=50, default="copy")
    params = models.JSONField(
        default=dict, blank=True, help_text="Transform parameters (value maps, constant)."
    )
    model_field_types = models.JSONField(
        default=dict,
        blank=True,
        help_text="Model field key → type when mapped; a later change of type flags the mapping (17025E).",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{', '.join(self.repository_fields)} ↔ {', '.join(self.model_fields)}"

    @property
    def transform_label(self) -> str:
        from integrations.transforms import label_of

        return label_of(self.transform)

    def clean(self) -> None:
        errors = {}
        for name in ("repository_fields", "model_fields"):
            if not _texts(getattr(self, name)):
                errors[name] = "A list of field ids."
        for name in ("repository_field_types", "model_field_types"):
            value = getattr(self, name)
            if not isinstance(value, dict) or not _texts(list(value.values())):
                errors[name] = "An object: field id → type."
        if not isinstance(self.params, dict):
            errors["params"] = "Transform parameters are an object (value maps, a constant, a separator)."
        if errors:
            raise ValidationError(errors)

    @property
    def reads(self) -> bool:
        return self.direction in (self.Direction.TO_MODEL, self.Direction.BOTH)

    @property
    def writes(self) -> bool:
        return self.direction in (self.Direction.TO_REPOSITORY, self.Direction.BOTH)


class GatewayCollection(models.Model):
    """An inbound HTTP endpoint: a model and a token that callers present (shown once)."""

    name = models.CharField(max_length=200, unique=True)
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="gateway_collections")
    token = SecretField()
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    extension = models.ForeignKey(
        "extensions.Extension",
        verbose_name="payload transformation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gateway_collections",
        help_text="Empty: a payload must already be shaped like the model.",
    )
    relationship_repositories = models.JSONField(
        default=dict,
        blank=True,
        help_text="Relationship Field Configuration: model field key → id of the repository it points to.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("token",)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("gateway-collection-edit", args=[self.pk])


class SqlCollection(models.Model):
    """A database table that an Enterprise Data Stream writes to."""

    name = models.CharField(max_length=200, unique=True)
    database_url = models.CharField(
        "database URL",
        max_length=500,
        help_text="Without the password, e.g. postgres://hub@db.example/reporting",
    )
    password = SecretField()
    table = models.CharField(max_length=200, help_text="The collection's one project: the table it fills.")
    model = models.ForeignKey(
        Model,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sql_collections",
        help_text="The model reported on: one column per field.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("password",)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sql-collection-edit", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        try:
            addresses.check_database_url(self.database_url)
        except ValidationError as error:
            errors["database_url"] = error
        if not isinstance(self.table, str) or not self.table.replace("_", "").replace(".", "").isalnum():
            errors["table"] = "A table name has letters, digits, underscores and at most a schema dot."
        elif not self.table.isascii():
            errors["table"] = "A table name has ASCII letters, digits and underscores."
        if errors:
            raise ValidationError(errors)


def _texts(value) -> bool:
    """Whether ``value`` is a list of strings."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
