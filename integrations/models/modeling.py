from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*$", "Use lower-case letters, digits and underscores, starting with a letter."
)


class FieldType(models.TextChoices):
    """Model field types (the vocabulary of the architecture guide). Values shared with connector
    field types are spelled the same, so a repository field and a model field compare directly."""

    STRING = "string", "String"
    RICH_TEXT = "rich_text", "Rich Text"
    SINGLE_SELECT = "single_select", "Single Select"
    MULTI_SELECT = "multi_select", "Multi Select"
    BOOLEAN = "boolean", "Boolean"
    LONG = "long", "Long"
    DOUBLE = "double", "Double"
    DATE = "date", "Date"
    DATE_TIME = "date_time", "Date Time"
    DURATION = "duration", "Duration"
    PERSON = "person", "Person"
    PERSONS = "persons", "Persons"
    RELATIONSHIP = "relationship", "Relationship"
    RELATIONSHIPS = "relationships", "Relationships"
    WEB_LINKS = "web_links", "Web Links"
    CONTAINER = "container", "Container"
    COMMENTS = "comments", "Comments"
    ATTACHMENTS = "attachments", "Attachments"
    TIME_ENTRIES = "time_entries", "Time Entries"
    TEST_STEPS = "test_steps", "Test Steps"


SELECT_TYPES = (FieldType.SINGLE_SELECT, FieldType.MULTI_SELECT)


class Model(models.Model):
    """A tool-neutral artifact shape that collections map to."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("model-edit", args=[self.pk])

    def fields_by_key(self) -> dict[str, ModelField]:
        return {field.key: field for field in self.fields.all()}


class ModelField(models.Model):
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="fields")
    key = models.CharField("id", max_length=100, validators=[key_validator])
    label = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=FieldType.choices, default=FieldType.STRING)
    required = models.BooleanField(default=False)
    options = models.JSONField(
        default=list, blank=True, help_text="Single/Multi Select only: [{'id': …, 'label': …}]"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="model_field_key_unique")]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_type_display()})"

    def clean(self) -> None:
        """Options are a list of {"id", "label"} texts with distinct ids (select types need one)."""
        options = self.options
        if options in (None, ""):
            options = self.options = []
        if not isinstance(options, list) or not all(
            isinstance(option, dict)
            and isinstance(option.get("id"), str)
            and option["id"].strip()
            and isinstance(option.get("label", ""), str)
            for option in options
        ):
            raise ValidationError({"options": 'Options are a list of {"id": text, "label": text}.'})
        ids = [option["id"] for option in options]
        if len(ids) != len(set(ids)):
            raise ValidationError({"options": "Option ids must be unique within a field."})
        if self.type in SELECT_TYPES and not options:
            raise ValidationError({"options": "A select field needs at least one option."})

    @property
    def option_ids(self) -> list[str]:
        return [str(option["id"]) for option in self.options or []]
