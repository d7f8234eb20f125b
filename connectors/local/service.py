"""Every change to the local tracker goes through these functions — from its pages, from its
connector and from the benchmark loader — so ``updated`` and ``revision`` move with every change
(fields, status, comments, attachments) exactly as change detection expects of a real tool.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from connectors import test_steps
from connectors.errors import RevisionConflict, ValuesNotAccepted, attachment_too_large
from connectors.local.fields import BY_ID, SCALAR_CHECKS
from connectors.local.models import (
    LocalAttachment,
    LocalComment,
    LocalItem,
    LocalProject,
    LocalTimeEntry,
    LocalTracker,
    LocalUser,
    Resolution,
    Status,
    TimeActivity,
)
from connectors.types import FieldType, WebLink
from hub import bulk

HUB_USERNAME = "hub"
LINK_SCHEMES = ("http://", "https://", "ftp://", "mailto:")
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # the tracker's own limit, like a real tool's


@dataclass(frozen=True)
class Workflow:
    id: str
    name: str
    from_statuses: tuple[str, ...]
    to_status: str
    required_fields: tuple[str, ...] = ()


# Status changes only through these, as in trackers with a workflow (Jira): the engine must use
# transitions, and resolving asks for a resolution.
WORKFLOW = (
    Workflow("start", "Start work", (Status.NEW,), Status.IN_PROGRESS),
    Workflow("resolve", "Resolve", (Status.NEW, Status.IN_PROGRESS), Status.RESOLVED, ("resolution",)),
    Workflow("close", "Close", (Status.RESOLVED,), Status.CLOSED),
    Workflow("reopen", "Reopen", (Status.RESOLVED, Status.CLOSED), Status.IN_PROGRESS),
)


def tracker(name: str) -> LocalTracker:
    """The tracker of that name; trackers come into being when first used."""
    found, _ = LocalTracker.objects.get_or_create(name=name or "default")
    return found


def hub_user(of: LocalTracker) -> LocalUser:
    user, _ = LocalUser.objects.get_or_create(
        tracker=of, username=HUB_USERNAME, defaults={"display_name": "Hub", "email": "hub@localhost"}
    )
    return user


def console_user(of: LocalTracker, user) -> LocalUser:
    """The tracker user for a person signed in to Hub's console, so their changes carry their name."""
    found, _ = LocalUser.objects.get_or_create(
        tracker=of,
        username=user.get_username(),
        defaults={"email": user.email or "", "display_name": user.get_full_name() or user.get_username()},
    )
    return found


def create_project(of: LocalTracker, key: str, name: str) -> LocalProject:
    key = key.strip().upper()
    if not key.isalnum() or not key[:1].isalpha():
        raise ValuesNotAccepted("The project key is not valid.", fields={"key": "letters and digits only"})
    return LocalProject.objects.create(tracker=of, key=key, name=name or key)


def _now_after(previous: dt.datetime | None) -> dt.datetime:
    """Now, but strictly after ``previous``: two changes never share an ``updated`` value."""
    now = timezone.now()
    if previous is not None and now <= previous:
        now = previous + dt.timedelta(microseconds=1)
    return now


def _touch(item: LocalItem) -> None:
    item.updated = _now_after(item.updated)
    item.revision += 1


def _person(of: LocalTracker, person_id: Any) -> LocalUser | None:
    if person_id in (None, ""):
        return None
    found = LocalUser.objects.filter(tracker=of, pk=_int_or_none(person_id)).first()
    if found is None:
        raise LookupError(f"no person with id {person_id}")
    return found


def _related_item(of: LocalTracker, artifact_id: Any) -> LocalItem | None:
    if artifact_id in (None, ""):
        return None
    found = LocalItem.objects.filter(project__tracker=of, pk=_int_or_none(artifact_id)).first()
    if found is None:
        raise LookupError(f"no item with id {artifact_id}")
    return found


def _inside(item: LocalItem, ancestor_pk: int) -> bool:
    """Whether ``item`` sits (at any depth) inside the item ``ancestor_pk``: a parent that would
    make a loop in the tree."""
    seen, current = set(), item
    while current is not None and current.pk not in seen:
        if current.pk == ancestor_pk:
            return True
        seen.add(current.pk)
        current = current.parent
    return False


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _web_links(value: Any) -> list[dict[str, str]]:
    links = []
    for link in value or []:
        if isinstance(link, WebLink):
            link = {"url": link.url, "label": link.label}
        if not isinstance(link, Mapping) or not str(link.get("url", "")).strip():
            raise ValueError("each web link needs a URL")
        if not str(link["url"]).strip().lower().startswith(LINK_SCHEMES):
            # The pages render links as <a href>: nothing that a browser would run.
            raise ValueError(f"{link['url']} is not an http(s), ftp or mailto address")
        links.append({"url": str(link["url"]).strip(), "label": str(link.get("label", ""))})
    return links


def _apply(item: LocalItem, values: Mapping[str, Any], *, creating: bool) -> dict[str, list]:
    """Set ``values`` on ``item`` (unsaved). Returns the many-to-many values to set after saving.
    Collects every refused value and raises one ValuesNotAccepted naming them all."""
    of = item.project.tracker
    refused: dict[str, str] = {}
    many: dict[str, list] = {}
    for field_id, value in values.items():
        field = BY_ID.get(field_id)
        if field is None or not field.applies_to(item.type):
            refused[field_id] = f"{item.get_type_display()} items have no such field"
            continue
        if field.read_only:
            reason = "change it with a transition" if field_id == "status" else "it is read-only"
            refused[field_id] = reason
            continue
        try:
            if field.type in SCALAR_CHECKS:
                check, reason = SCALAR_CHECKS[field.type]
                if not check(value):
                    raise ValueError(reason)
                if field.required and not (value or "").strip():
                    raise ValueError("is required")
                text = field.type in (FieldType.STRING, FieldType.RICH_TEXT)
                setattr(item, field_id, "" if value is None and text else value)
            elif field.type == FieldType.SINGLE_SELECT:
                value = value or ""
                if value not in field.choices.values or (field.required and not value):
                    raise ValueError(f"{value!r} is not one of the options")
                setattr(item, field_id, value)
            elif field.type == FieldType.MULTI_SELECT:
                unknown = [v for v in value or [] if v not in field.choices.values]
                if unknown or isinstance(value, str):
                    raise ValueError(f"{unknown or value!r} not among the options")
                setattr(item, field_id, sorted(set(value or [])))
            elif field.type == FieldType.PERSON:
                setattr(item, field_id, _person(of, value))
            elif field.type == FieldType.PERSONS:
                if isinstance(value, str) or any(v in (None, "") for v in value or []):
                    raise ValueError("must be a list of person ids")
                many[field_id] = [_person(of, v) for v in value or []]
            elif field.type == FieldType.RELATIONSHIP:
                target = _related_item(of, value)
                if target is not None and target.pk == item.pk:
                    raise ValueError("an item cannot be its own parent")
                if target is not None and item.pk is not None and _inside(target, item.pk):
                    raise ValueError("an item cannot be put inside one of its own children")
                setattr(item, field_id, target)
            elif field.type == FieldType.RELATIONSHIPS:
                if isinstance(value, str) or any(v in (None, "") for v in value or []):
                    raise ValueError("must be a list of item ids")
                targets = [_related_item(of, v) for v in value or []]
                if item.pk is not None and any(t.pk == item.pk for t in targets):
                    raise ValueError("an item cannot be related to itself")
                many[field_id] = targets
            elif field.type == FieldType.WEB_LINKS:
                setattr(item, field_id, _web_links(value))
            elif field.type == FieldType.TEST_STEPS:
                setattr(item, field_id, test_steps.normalized(value))
            elif field.type == FieldType.TIME_ENTRIES:
                raise ValueError("time entries are filed one by one, not written as a value")
        except (LookupError, ValueError, TypeError, AttributeError) as error:
            refused[field_id] = str(error)
    if creating and not (item.summary or "").strip() and "summary" not in refused:
        refused["summary"] = "is required"
    if refused:
        raise ValuesNotAccepted(f"{item.project.key} refused the values", fields=refused)
    return many


def create_item(
    project: LocalProject,
    item_type: str,
    values: Mapping[str, Any],
    *,
    reporter: LocalUser | None = None,
    marker: str = "",
) -> LocalItem:
    with transaction.atomic():
        LocalProject.objects.filter(pk=project.pk).update(next_number=F("next_number") + 1)
        project.refresh_from_db(fields=["next_number"])
        now = timezone.now()
        item = LocalItem(
            project=project,
            number=project.next_number - 1,
            type=item_type,
            reporter=reporter,
            created=now,
            updated=now,
            creation_marker=marker,
        )
        many = _apply(item, values, creating=True)
        item.save()
        for name, targets in many.items():
            getattr(item, name).set(targets)
    return item


def create_items(
    project: LocalProject,
    item_type: str,
    items: Sequence[tuple[Mapping[str, Any], str]],
    *,
    reporter: LocalUser | None = None,
) -> list[LocalItem]:
    """Create several items of one project from ``(values, marker)`` in one transaction: all of them,
    or none when any value is refused."""
    if not connection.features.can_return_rows_from_bulk_insert:
        with transaction.atomic():
            return [
                create_item(project, item_type, values, reporter=reporter, marker=marker)
                for values, marker in items
            ]
    with transaction.atomic():
        LocalProject.objects.filter(pk=project.pk).update(next_number=F("next_number") + len(items))
        project.refresh_from_db(fields=["next_number"])
        first = project.next_number - len(items)
        now = timezone.now()
        created, many = [], []
        for offset, (values, marker) in enumerate(items):
            item = LocalItem(
                project=project,
                number=first + offset,
                type=item_type,
                reporter=reporter,
                created=now,
                updated=now,
                creation_marker=marker,
            )
            many.append(_apply(item, values, creating=True))
            created.append(item)
        bulk.insert_instances(created)
        for item, lists in zip(created, many, strict=True):
            for name, targets in lists.items():
                getattr(item, name).set(targets)
    return created


def _locked(item_id: int, expected_revision: str | None) -> LocalItem:
    item = LocalItem.objects.select_for_update().select_related("project__tracker").get(pk=item_id)
    if expected_revision not in (None, "") and str(item.revision) != str(expected_revision):
        raise RevisionConflict(
            f"{item.formatted_id} changed since it was read (revision {item.revision}, "
            f"expected {expected_revision})."
        )
    return item


def update_item(
    item_id: int, values: Mapping[str, Any], *, expected_revision: str | None = None
) -> LocalItem:
    with transaction.atomic():
        item = _locked(item_id, expected_revision)
        if not values:
            return item  # nothing to change: no new revision, nothing for change detection to see
        many = _apply(item, values, creating=False)
        _touch(item)
        item.save()
        for name, targets in many.items():
            getattr(item, name).set(targets)
    return item


def transitions_of(item: LocalItem) -> list[Workflow]:
    return [step for step in WORKFLOW if item.status in step.from_statuses]


def perform_transition(
    item_id: int,
    transition_id: str,
    values: Mapping[str, Any] | None = None,
    *,
    expected_revision: str | None = None,
) -> LocalItem:
    values = dict(values or {})
    with transaction.atomic():
        item = _locked(item_id, expected_revision)
        step = next((s for s in transitions_of(item) if s.id == transition_id), None)
        if step is None:
            raise ValuesNotAccepted(
                f"{item.formatted_id} cannot take transition {transition_id!r} from status "
                f"{item.get_status_display()}",
                fields={"status": "transition not available"},
            )
        missing = {
            name: "required by the transition" for name in step.required_fields if not values.get(name)
        }
        if missing:
            raise ValuesNotAccepted(f"{step.name} needs more values", fields=missing)
        many = _apply(item, values, creating=False)
        item.status = step.to_status
        if step.to_status == Status.IN_PROGRESS and "resolution" not in values:
            item.resolution = Resolution.NONE
        _touch(item)
        item.save()
        for name, targets in many.items():
            getattr(item, name).set(targets)
    return item


def add_comment(item_id: int, author: LocalUser | None, body: str, *, private: bool = False) -> LocalComment:
    if not body.strip():
        raise ValuesNotAccepted("A comment needs text.", fields={"comment": "is empty"})
    with transaction.atomic():
        item = _locked(item_id, None)
        _touch(item)
        item.save(update_fields=["updated", "revision"])
        return LocalComment.objects.create(
            item=item, author=author, body=body, private=private, created=item.updated
        )


def attachments_dir(of: LocalTracker) -> Path:
    return Path(settings.HUB_HOME) / "local-tracker" / of.name


def attachment_path(attachment: LocalAttachment) -> Path:
    return attachments_dir(attachment.item.project.tracker) / attachment.stored_name


def add_attachment(
    item_id: int,
    filename: str,
    content: Iterable[bytes],
    *,
    content_type: str = "application/octet-stream",
    max_bytes: int = MAX_ATTACHMENT_BYTES,
    uploader: LocalUser | None = None,
) -> LocalAttachment:
    """Store the streamed content, refusing it (and keeping nothing) past the smaller limit.
    ``uploader``: who attached it (none: nobody in particular, as before uploaders were kept)."""
    item = LocalItem.objects.select_related("project__tracker").get(pk=item_id)
    limit = min(max_bytes, MAX_ATTACHMENT_BYTES)
    name = Path(filename).name.strip() or "attachment"
    directory = attachments_dir(item.project.tracker)
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = uuid.uuid4().hex
    path = directory / stored_name
    size = 0
    try:
        with path.open("wb") as handle:
            for chunk in content:
                size += len(chunk)
                if size > limit:
                    raise attachment_too_large(name, limit)
                handle.write(chunk)
        with transaction.atomic():
            item = _locked(item_id, None)
            _touch(item)
            item.save(update_fields=["updated", "revision"])
            return LocalAttachment.objects.create(
                item=item,
                filename=name,
                content_type=content_type or "application/octet-stream",
                size=size,
                stored_name=stored_name,
                created=item.updated,
                uploader=uploader,
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def delete_item(item_id: int) -> None:
    item = LocalItem.objects.select_related("project__tracker").get(pk=item_id)
    paths = [attachment_path(a) for a in item.attachments.all()]
    item.delete()
    for path in paths:
        path.unlink(missing_ok=True)


def _touched(item_id: int) -> LocalItem:
    """The item, locked, with a new revision saved: something of its own (a worklog) changed."""
    item = _locked(item_id, None)
    _touch(item)
    item.save(update_fields=["updated", "revision"])
    return item


def _time_entry_problems(duration: Any, activity: str, on: Any) -> dict[str, str]:
    refused = {}
    if not isinstance(duration, dt.timedelta) or duration <= dt.timedelta(0):
        refused["duration"] = "must be a positive duration"
    if activity not in TimeActivity.values:
        refused["activity"] = f"{activity!r} is not one of {', '.join(TimeActivity.values)}"
    if on is not None and not (isinstance(on, dt.date) and not isinstance(on, dt.datetime)):
        refused["date"] = "must be a date"
    return refused


def add_time_entry(
    item_id: int,
    worker: LocalUser | None,
    on: dt.date,
    duration: dt.timedelta,
    *,
    comment: str = "",
    activity: str = TimeActivity.DEVELOPMENT,
) -> LocalTimeEntry:
    """File a worklog on the item. The item's revision moves, so change detection sees it."""
    refused = _time_entry_problems(duration, activity or TimeActivity.DEVELOPMENT, on)
    if refused:
        raise ValuesNotAccepted("The time entry was refused", fields=refused)
    with transaction.atomic():
        item = _touched(item_id)
        return LocalTimeEntry.objects.create(
            item=item,
            worker=worker,
            date=on,
            duration=duration,
            comment=comment,
            activity=activity or TimeActivity.DEVELOPMENT,
            created=item.updated,
            updated=item.updated,
        )


def update_time_entry(entry_id: int, *, duration: dt.timedelta, comment: str | None = None) -> LocalTimeEntry:
    with transaction.atomic():
        entry = LocalTimeEntry.objects.select_for_update().get(pk=entry_id)
        refused = _time_entry_problems(duration, entry.activity, entry.date)
        if refused:
            raise ValuesNotAccepted("The time entry was refused", fields=refused)
        item = _touched(entry.item_id)
        entry.duration = duration
        if comment is not None:
            entry.comment = comment
        entry.updated = item.updated
        entry.save(update_fields=["duration", "comment", "updated"])
        return entry


def set_test_steps(item_id: int, steps: Sequence[Mapping[str, str]]) -> LocalItem:
    """Replace a test case's steps (in the order given): the console's step editor."""
    return update_item(item_id, {"test_steps": list(steps)})
