"""The local tracker's fields: one table that the schema, the value checks and the pages share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from connectors.local.models import ItemType, Label, Priority, Resolution, Status
from connectors.types import FieldType, Option


@dataclass(frozen=True)
class LocalField:
    id: str
    label: str
    type: FieldType
    required: bool = False
    read_only: bool = False
    choices: type[models.TextChoices] | None = None
    item_types: tuple[str, ...] = ()  # empty: every type

    def options(self) -> tuple[Option, ...]:
        if self.choices is None:
            return ()
        return tuple(Option(value, str(label)) for value, label in self.choices.choices if value)

    def applies_to(self, item_type: str) -> bool:
        return not self.item_types or item_type in self.item_types


FIELDS: tuple[LocalField, ...] = (
    LocalField("summary", "Summary", FieldType.STRING, required=True),
    LocalField("description", "Description", FieldType.RICH_TEXT),
    LocalField("status", "Status", FieldType.SINGLE_SELECT, read_only=True, choices=Status),
    LocalField("priority", "Priority", FieldType.SINGLE_SELECT, choices=Priority),
    LocalField("resolution", "Resolution", FieldType.SINGLE_SELECT, choices=Resolution),
    LocalField("labels", "Labels", FieldType.MULTI_SELECT, choices=Label),
    LocalField("customer_visible", "Visible to customers", FieldType.BOOLEAN),
    LocalField("story_points", "Story points", FieldType.LONG, item_types=(ItemType.STORY, ItemType.EPIC)),
    LocalField("estimate_hours", "Estimate (hours)", FieldType.DOUBLE),
    LocalField("due_date", "Due date", FieldType.DATE),
    LocalField("review_at", "Review at", FieldType.DATE_TIME),
    LocalField("time_spent", "Time spent", FieldType.DURATION),
    LocalField("reporter", "Reporter", FieldType.PERSON, read_only=True),
    LocalField("assignee", "Assignee", FieldType.PERSON),
    LocalField("watchers", "Watchers", FieldType.PERSONS),
    LocalField("parent", "Parent", FieldType.RELATIONSHIP),
    LocalField("related", "Related items", FieldType.RELATIONSHIPS),
    LocalField("web_links", "Web links", FieldType.WEB_LINKS),
    LocalField("test_steps", "Test steps", FieldType.TEST_STEPS, item_types=(ItemType.TEST_CASE,)),
    # Offered to mappings for the Time Tracking style; entries are read with ``time_entries``.
    LocalField("time_entries", "Time entries", FieldType.TIME_ENTRIES),
    LocalField("created", "Created", FieldType.DATE_TIME, read_only=True),
)
BY_ID = {field.id: field for field in FIELDS}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Checks for plain values (person, relationship and select values are checked against the data).
SCALAR_CHECKS: dict[FieldType, tuple[Callable[[Any], bool], str]] = {
    FieldType.STRING: (lambda v: v is None or isinstance(v, str), "must be text"),
    FieldType.RICH_TEXT: (lambda v: v is None or isinstance(v, str), "must be text"),
    FieldType.BOOLEAN: (lambda v: isinstance(v, bool), "must be true or false"),
    FieldType.LONG: (lambda v: v is None or _is_int(v), "must be a whole number"),
    FieldType.DOUBLE: (
        lambda v: v is None or (isinstance(v, int | float) and not isinstance(v, bool)),
        "must be a number",
    ),
    FieldType.DATE: (
        lambda v: v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)),
        "must be a date",
    ),
    FieldType.DATE_TIME: (
        lambda v: v is None or (isinstance(v, dt.datetime) and v.tzinfo is not None),
        "must be a date and time with a time zone",
    ),
    FieldType.DURATION: (lambda v: v is None or isinstance(v, dt.timedelta), "must be a duration"),
}
