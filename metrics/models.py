"""Counters the sync engine writes in the same transaction as each completed activity; the Metrics
screens roll them up."""

from __future__ import annotations

import uuid

from django.db import models


class CountKeys(models.Model):
    """What every counter of created and updated artifacts is kept per: the integration, the
    target repository and its collection's model."""

    KEYS = ("integration_id", "repository_id", "model_id")

    integration_id = models.PositiveBigIntegerField()
    repository_id = models.PositiveBigIntegerField()
    model_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        abstract = True


def unique_keys(name: str, *period: str) -> models.UniqueConstraint:
    """One row per period (``day``, ``month``; none for the running totals) and keys."""
    return models.UniqueConstraint(fields=[*period, *CountKeys.KEYS], name=name)


class DailyCount(CountKeys):
    """Artifacts created and updated per day, integration, repository and model."""

    day = models.DateField()
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [unique_keys("daily_count_unique", "day")]
        # The daily chart sums a range's days under any filter from this index alone (SQLite and
        # PostgreSQL read no table row): two years were 73,000 table lookups.
        indexes = [
            models.Index(
                fields=["day", "integration_id", "repository_id", "model_id", "created", "updated"],
                name="daily_count_covering",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} integration {self.integration_id}: +{self.created} ~{self.updated}"


class MonthlyCount(CountKeys):
    """``DailyCount`` summed per month (the first day of it), written with it: the distribution of a
    long range reads its whole months here (2 years of 100 keys: 2,400 rows instead of 73,000)."""

    month = models.DateField(help_text="The first day of the month.")
    created = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [unique_keys("monthly_count_unique", "month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} integration {self.integration_id}: +{self.created} ~{self.updated}"


class CountTotal(CountKeys):
    """Running totals of ``DailyCount`` per integration, repository and model, written with it: the
    cumulative tables read these few rows instead of summing years of days."""

    created = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [unique_keys("count_total_unique")]

    def __str__(self) -> str:
        return f"integration {self.integration_id}: +{self.created} ~{self.updated} in all"


class PersonSighting(models.Model):
    """A person seen in a synchronized person field, once per month and place (for user counting)."""

    month = models.DateField(help_text="The first day of the month.")
    repository_id = models.PositiveBigIntegerField()
    person_id = models.CharField(max_length=255)
    username = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    integration_id = models.PositiveBigIntegerField()
    collection_id = models.PositiveBigIntegerField(null=True, blank=True)
    project = models.CharField(max_length=200, blank=True)
    field = models.CharField(max_length=100)
    count = models.PositiveIntegerField(default=1, help_text="Times seen in this month and place.")
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "repository_id", "person_id", "integration_id", "project", "field"],
                name="person_sighting_unique",
            )
        ]
        # The distinct people per integration and per repository of the cumulative tables.
        indexes = [
            models.Index(fields=["integration_id", "person_id"], name="sighting_integration_person"),
            models.Index(fields=["repository_id", "person_id"], name="sighting_repository_person"),
        ]

    def __str__(self) -> str:
        return f"{self.username or self.person_id} in repository {self.repository_id} ({self.month:%Y-%m})"


class PersonSeen(models.Model):
    """Each distinct person (by repository and person id) an integration ever sighted: a rollup of
    ``PersonSighting`` written with its first row of a month and place, so the cumulative tables
    count a few rows per person instead of every month, field and project of them."""

    integration_id = models.PositiveBigIntegerField()
    repository_id = models.PositiveBigIntegerField()
    person_id = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration_id", "repository_id", "person_id"], name="person_seen_unique"
            )
        ]
        indexes = [models.Index(fields=["repository_id", "person_id"], name="person_seen_repository")]

    def __str__(self) -> str:
        return f"{self.person_id} in repository {self.repository_id} (integration {self.integration_id})"


class RepositoryPerson(models.Model):
    """One distinct person of one repository, under identifiers Hub generates: the usage reports name
    people by these, never by their names. ``person_uid`` is shared by the people of different
    repositories that person reconciliation matched; empty while the person never flowed."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person_uid = models.UUIDField(null=True, blank=True, db_index=True)
    repository_id = models.PositiveBigIntegerField()
    person_id = models.CharField(max_length=255, help_text="The repository's own id of the person.")
    username = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    refreshed = models.DateTimeField(null=True, blank=True, help_text="Personal details last read.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository_id", "person_id"], name="repository_person_unique")
        ]

    def __str__(self) -> str:
        return f"{self.uid} in repository {self.repository_id}"


class UserCountSettings(models.Model):
    """Metrics → User Count Configuration (one row, ``get``): what the license user count leaves out.

    ``integrations``: ``{"<integration id>": {"non_production": bool, "itsm": bool}}``.
    ``user_types``: ``{"<repository id>:<field>": "standard" | "requester" | "excluded"}`` — a person
    field of a repository not listed is a Standard User."""

    STANDARD, REQUESTER, EXCLUDED = "standard", "requester", "excluded"
    USER_TYPES = [(STANDARD, "Standard User"), (REQUESTER, "Requester"), (EXCLUDED, "Excluded User")]

    integrations = models.JSONField(default=dict, blank=True)
    user_types = models.JSONField(default=dict, blank=True)
    start_date = models.DateField(
        null=True, blank=True, help_text="Counting begins at this date's most recent anniversary."
    )

    def __str__(self) -> str:
        return "User count settings"

    @classmethod
    def get(cls) -> UserCountSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class PersonOverride(models.Model):
    """A Person Reconciliation Override: two repository people (by their generated identifiers) are
    one person for the user count."""

    repository_id = models.PositiveBigIntegerField()
    person_uid = models.UUIDField(help_text="Generated repository person identifier.")
    other_repository_id = models.PositiveBigIntegerField()
    other_person_uid = models.UUIDField(help_text="The duplicate's generated repository person identifier.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person_uid", "other_person_uid"], name="person_override_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_uid} = {self.other_person_uid}"
