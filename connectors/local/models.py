"""Tables of the built-in ``local`` tracker: a small issue tracker inside Hub, so the quick start,
the demo and the benchmarks need no outside tool. Several trackers live side by side
(``local://alpha`` and ``local://beta``), each with its own users and projects.

Its fields cover every model field type on purpose — the engine's tests sync them all. Change
items only through ``connectors.local.service``: it keeps ``updated`` and ``revision`` right.
"""

from __future__ import annotations

from django.db import models


class LocalTracker(models.Model):
    name = models.SlugField(max_length=50, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LocalUser(models.Model):
    tracker = models.ForeignKey(LocalTracker, on_delete=models.CASCADE, related_name="users")
    username = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)  # False: a deactivated user, kept for their items

    class Meta:
        ordering = ["username"]
        constraints = [models.UniqueConstraint(fields=["tracker", "username"], name="local_user_unique")]

    def __str__(self) -> str:
        return self.display_name or self.username


class LocalProject(models.Model):
    tracker = models.ForeignKey(LocalTracker, on_delete=models.CASCADE, related_name="projects")
    key = models.CharField(max_length=20, help_text="Upper-case letters, the prefix of formatted ids.")
    name = models.CharField(max_length=200)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["tracker", "key"], name="local_project_unique")]

    def __str__(self) -> str:
        return f"{self.key} — {self.name}"


class ItemType(models.TextChoices):
    BUG = "bug", "Bug"
    STORY = "story", "Story"
    TASK = "task", "Task"
    EPIC = "epic", "Epic"
    TEST_CASE = "test_case", "Test case"


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Resolution(models.TextChoices):
    NONE = "", "—"
    FIXED = "fixed", "Fixed"
    WONT_FIX = "wont_fix", "Won't fix"
    DUPLICATE = "duplicate", "Duplicate"


class Label(models.TextChoices):
    BACKEND = "backend", "Backend"
    FRONTEND = "frontend", "Frontend"
    DOCS = "docs", "Documentation"
    SECURITY = "security", "Security"
    PERFORMANCE = "performance", "Performance"


class LocalItem(models.Model):
    project = models.ForeignKey(LocalProject, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveIntegerField()
    type = models.CharField(max_length=10, choices=ItemType.choices)
    summary = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True, default="")
    labels = models.JSONField(default=list, blank=True)
    customer_visible = models.BooleanField(default=False)
    story_points = models.BigIntegerField(null=True, blank=True)
    estimate_hours = models.FloatField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    review_at = models.DateTimeField(null=True, blank=True)
    time_spent = models.DurationField(null=True, blank=True)
    reporter = models.ForeignKey(
        LocalUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        LocalUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    watchers = models.ManyToManyField(LocalUser, blank=True, related_name="watching")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=False, related_name="+")
    web_links = models.JSONField(default=list, blank=True)  # [{"url": …, "label": …}]
    # Test cases: [{"step", "expected_result", "actual_result"}, …] in step order.
    test_steps = models.JSONField(default=list, blank=True)
    created = models.DateTimeField()
    updated = models.DateTimeField()
    revision = models.PositiveIntegerField(default=1)
    # Hidden from the pages: the engine's creation marker, so a twin created by a worker that died
    # before recording it is found instead of created again.
    creation_marker = models.CharField(max_length=100, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["project", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="local_item_number_unique")]
        indexes = [models.Index(fields=["project", "updated", "id"], name="local_item_changes")]

    def __str__(self) -> str:
        return f"{self.formatted_id} {self.summary}"

    @property
    def formatted_id(self) -> str:
        return f"{self.project.key}-{self.number}"


class LocalComment(models.Model):
    item = models.ForeignKey(LocalItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(LocalUser, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    private = models.BooleanField(default=False)
    created = models.DateTimeField()

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on item {self.item_id}"


class LocalAttachment(models.Model):
    item = models.ForeignKey(LocalItem, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.BigIntegerField()
    stored_name = models.CharField(max_length=100)  # file under HUB_HOME/local-tracker/<tracker>/
    created = models.DateTimeField()
    uploader = models.ForeignKey(
        LocalUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.filename


class TimeActivity(models.TextChoices):
    """The local tracker's time entry activities (Redmine's are configured per server)."""

    DEVELOPMENT = "development", "Development"
    TESTING = "testing", "Testing"
    DESIGN = "design", "Design"


class LocalTimeEntry(models.Model):
    """A worklog on an item: who worked, on which day, how long, on what."""

    item = models.ForeignKey(LocalItem, on_delete=models.CASCADE, related_name="time_entries")
    worker = models.ForeignKey(LocalUser, null=True, on_delete=models.SET_NULL, related_name="+")
    date = models.DateField()
    duration = models.DurationField()
    comment = models.CharField(max_length=1000, blank=True)
    activity = models.CharField(max_length=20, choices=TimeActivity.choices, default=TimeActivity.DEVELOPMENT)
    created = models.DateTimeField()
    updated = models.DateTimeField()

    class Meta:
        ordering = ["item", "id"]
        indexes = [models.Index(fields=["updated", "id"], name="local_time_entry_changes")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.duration} on {self.date}"
