"""The ``local`` connector: the SDK over the local tracker's tables, in-process.

The repository URL names the tracker: ``local://alpha`` and ``local://beta`` are two independent
trackers (``local://`` alone is the one named ``default``). Project ids are project keys
(``DEMO``); artifact ids are item ids; formatted ids are ``DEMO-12``. The user name, if given,
is the tracker user Hub acts as (authoring comments and items); it must exist in the tracker.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from connectors.base import DEFAULT_ATTACHMENT_LIMIT, Connector, raw_of
from connectors.containers import ContainerRef
from connectors.errors import (
    ArtifactNotFound,
    ConnectorError,
    CredentialsRefused,
    InvalidSettings,
    ProjectNotFound,
    ValuesNotAccepted,
    attachment_too_large,
)
from connectors.local import containers as local_containers
from connectors.local import service
from connectors.local.fields import FIELDS
from connectors.local.models import (
    ItemType,
    LocalAttachment,
    LocalComment,
    LocalItem,
    LocalProject,
    LocalTimeEntry,
    LocalUser,
    TimeActivity,
)
from connectors.registry import register
from connectors.time_entries import NewTimeEntry, TimeEntry, TimeEntryActivity, TimeEntryCapabilities
from connectors.types import (
    Artifact,
    ArtifactType,
    AttachmentMeta,
    Capabilities,
    ChangedItem,
    ChangePage,
    Comment,
    ConnectionInfo,
    FieldSchema,
    FieldType,
    Person,
    Project,
    SettingField,
    Transition,
    WebLink,
)
from hub.ids import is_digits

CHUNK = 64 * 1024
FORMATTED_ID = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)-(\d+)\s*$")
PERSON_FIELDS = ("id", "username", "email", "display_name")


def tracker_name(url: str) -> str:
    parts = urlsplit(url.strip())
    name = parts.netloc or parts.path.strip("/")
    if parts.scheme != "local" or not re.fullmatch(r"[a-z0-9_-]{0,50}", name):
        raise InvalidSettings(
            "A local tracker's URL is local:// followed by the tracker's name in lower case, "
            "e.g. local://alpha."
        )
    return name or "default"


def _person_id(user: LocalUser | None) -> str | None:
    return str(user.pk) if user is not None else None


def _grouped(pairs) -> dict[int, list]:
    """(key, value) pairs as key → values, in the pairs' order."""
    grouped: dict[int, list] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _listed(make, rows: list | None) -> list | None:
    return None if rows is None else [make(row) for row in rows]


# How ``_artifact`` reads each field of an item: (field id, kind, attribute). Worked out once per
# item type instead of once per item and field (10,000 items × 21 fields was a second of CPU).
_PLAIN, _ONE_ID, _IDS, _LINKS, _SELECT = range(5)


def _kind(field_type: FieldType) -> int | None:
    if field_type in (FieldType.PERSON, FieldType.RELATIONSHIP):
        return _ONE_ID
    if field_type in (FieldType.PERSONS, FieldType.RELATIONSHIPS):
        return _IDS
    if field_type == FieldType.WEB_LINKS:
        return _LINKS
    if field_type == FieldType.SINGLE_SELECT:
        return _SELECT
    if field_type == FieldType.TIME_ENTRIES:
        return None  # read with time_entries()
    return _PLAIN


_PLANS: dict[tuple[str, frozenset[str] | None], tuple[tuple[str, int, str], ...]] = {}


def _plan(item_type: str, fields: frozenset[str] | None = None) -> tuple[tuple[str, int, str], ...]:
    """(field id, kind, attribute) of each field of the type (of those in ``fields``, if given)."""
    plan = _PLANS.get((item_type, fields))
    if plan is None:
        plan = _PLANS[(item_type, fields)] = tuple(
            (field.id, kind, f"{field.id}_id" if kind == _ONE_ID else field.id)
            for field in FIELDS
            if field.applies_to(item_type)
            and (fields is None or field.id in fields)
            and (kind := _kind(field.type)) is not None
        )
    return plan


def _columns(fields: frozenset[str] | None) -> tuple[str, ...]:
    """The item columns an ``_ItemRow`` needs for ``fields`` (all: None), identity first."""
    if fields is None:
        return _ROW_COLUMNS
    wanted = {f"{f.id}_id" if _kind(f.type) == _ONE_ID else f.id for f in FIELDS if f.id in fields}
    return tuple(c for c in _ROW_COLUMNS if c in _IDENTITY or c in wanted)


class _ItemRow:
    """What ``_artifact`` reads of an item, from one ``values_list`` row: a model instance costs
    three times as much to build (its ``__init__``, descriptors and init signals) and the reads
    of a batch never save."""

    ATTRIBUTES = (
        "pk", "project_id", "number", "type", "updated", "revision", "creation_marker", "summary",
        "description", "status", "priority", "resolution", "labels", "customer_visible",
        "story_points", "estimate_hours", "due_date", "review_at", "time_spent", "reporter_id",
        "assignee_id", "parent_id", "web_links", "test_steps", "created",
    )  # fmt: skip
    __slots__ = (*ATTRIBUTES, "project", "listed_watchers", "listed_related", "listed_comments",
                 "listed_attachments")  # fmt: skip

    def __init__(self, names: tuple[str, ...], values: tuple):
        for name, value in zip(names, values, strict=True):
            setattr(self, name, value)

    @property
    def formatted_id(self) -> str:
        return f"{self.project.key}-{self.number}"


_ROW_COLUMNS = tuple("id" if name == "pk" else name for name in _ItemRow.ATTRIBUTES)
_IDENTITY = ("id", "project_id", "number", "type", "updated", "revision", "creation_marker")


def _int(artifact_id: str) -> int:
    try:
        return int(artifact_id)
    except (TypeError, ValueError):
        raise ArtifactNotFound(f"There is no local item with id {artifact_id!r}.") from None


@register
class LocalConnector(Connector):
    kind = "local"
    label = "Local tracker"
    network = False
    capabilities = Capabilities(
        create=True,
        comments=True,
        private_comments=True,
        attachments=True,
        persons=True,
        transitions=True,
        transitions_required=True,
        optimistic_concurrency=True,
        creation_marker=True,
        bulk_create=True,
        search_by_formatted_id=True,
        max_page_size=1000,
        comment_author=True,
        attachment_author=True,
        containers=True,
    )
    time_entry_capabilities = TimeEntryCapabilities(supported=True, other_worker=True, filtering=True)
    settings_fields = (
        SettingField(
            "url",
            "Tracker",
            "text",
            required=True,
            default="local://default",
            help="local:// and a name: each name is a separate tracker inside Hub.",
        ),
        SettingField("username", "Act as user", help="A user of that tracker. Empty: the user “hub”."),
    )

    def __init__(self, settings):
        super().__init__(settings)
        self.tracker = service.tracker(tracker_name(settings.url))
        # A connector lives for one batch of work: the acting user and the projects it writes to
        # are read once, not once per created item.
        self._actor: LocalUser | None = None
        self._projects: dict[str, LocalProject] = {}
        # The item page is <tracker>/items/<pk>/: resolved once, not once per artifact read.
        self._items_url = reverse("local_tracker:item", args=[self.tracker.name, 1]).removesuffix("1/")

    # --- connection and structure -------------------------------------------------------------

    def actor(self) -> LocalUser:
        if self._actor is None:
            username = self.settings.username.strip()
            if not username or username == service.HUB_USERNAME:
                self._actor = service.hub_user(self.tracker)
            else:
                found = LocalUser.objects.filter(tracker=self.tracker, username=username).first()
                if found is None:
                    raise CredentialsRefused(
                        f"The local tracker {self.tracker.name} has no user {username!r}."
                    )
                self._actor = found
        return self._actor

    def test_connection(self) -> ConnectionInfo:
        return ConnectionInfo(
            server=f"Hub local tracker “{self.tracker.name}”",
            user=self.actor().username,
            server_time=timezone.now(),
        )

    def _project(self, project: str) -> LocalProject:
        if project not in self._projects:
            found = LocalProject.objects.filter(tracker=self.tracker, key=project).first()
            if found is None:
                raise ProjectNotFound(f"The local tracker {self.tracker.name} has no project {project!r}.")
            found.tracker = self.tracker
            self._projects[project] = found
        return self._projects[project]

    def list_projects(self) -> list[Project]:
        return [Project(p.key, p.key, p.name) for p in LocalProject.objects.filter(tracker=self.tracker)]

    def artifact_types(self, project: str) -> list[ArtifactType]:
        self._project(project)
        return [ArtifactType(value, str(label)) for value, label in ItemType.choices]

    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]:
        self._project(project)
        if artifact_type not in ItemType.values:
            raise ProjectNotFound(f"The local tracker has no artifact type {artifact_type!r}.")
        return [
            FieldSchema(
                id=field.id,
                label=field.label,
                type=field.type,
                required=field.required,
                read_only=field.read_only,
                multi=field.type
                in (FieldType.MULTI_SELECT, FieldType.PERSONS, FieldType.RELATIONSHIPS, FieldType.WEB_LINKS),
                options=field.options(),
                person_target=field.type in (FieldType.PERSON, FieldType.PERSONS),
                text_format="plain" if field.type == FieldType.RICH_TEXT else "",
            )
            for field in FIELDS
            if field.applies_to(artifact_type)
        ]

    # --- change detection ---------------------------------------------------------------------

    def changed_since(
        self,
        project: str,
        since: dt.datetime | None,
        *,
        artifact_types: Sequence[str] = (),
        overlap: dt.timedelta = dt.timedelta(0),
        cursor: str | None = None,
        page_size: int = 100,
    ) -> ChangePage:
        server_time = timezone.now()
        _, rows, next_cursor = self._changes(
            project, since, artifact_types, overlap, cursor, page_size, ("id", "updated", "revision")
        )
        return ChangePage(
            items=[ChangedItem(str(pk), updated, str(revision)) for pk, updated, revision in rows],
            next_cursor=next_cursor,
            server_time=server_time,
        )

    def changed_field_values(
        self, project: str, since: dt.datetime | None, *, fields: Collection[str] | None = None, **listing
    ) -> ChangePage:
        """One query a page: the listing reads the columns of the artifacts' fields too (and, only
        when those fields are wanted, one query each for the watchers and related items)."""
        server_time = timezone.now()
        wanted = None if fields is None else frozenset(fields)
        names = tuple("pk" if c == "id" else c for c in _columns(wanted))
        of, rows, next_cursor = self._changes(
            project, since, listing.get("artifact_types", ()), listing.get("overlap", dt.timedelta(0)),
            listing.get("cursor"), listing.get("page_size", 100), _columns(wanted),
        )  # fmt: skip
        items = [_ItemRow(names, row) for row in rows]
        for item in items:
            item.project = of
        self._attach_lists(items, discussion=False, fields=wanted)
        return ChangePage(
            items=[ChangedItem(str(item.pk), item.updated, str(item.revision)) for item in items],
            next_cursor=next_cursor,
            server_time=server_time,
            artifacts={str(item.pk): self._artifact(item, fields=wanted) for item in items},
        )

    def _changes(self, project, since, artifact_types, overlap, cursor, page_size, columns):
        """(the project, one page of ``columns`` of its items changed since ``since``, ordered by
        (updated, id), and the cursor of the next page or None). ``columns`` begins with id and
        names updated."""
        of = self._project(project)
        items = LocalItem.objects.filter(project=of)
        if artifact_types:
            items = items.filter(type__in=artifact_types)
        if since is not None:
            items = items.filter(updated__gte=since - overlap)
        if cursor:
            # Keyset paging on (updated, id): an item updated meanwhile moves behind the cursor's
            # position and comes on a later page, never skipped.
            updated_text, _, last_id = cursor.rpartition("|")
            try:
                last_updated, last_id = dt.datetime.fromisoformat(updated_text), int(last_id)
            except ValueError:
                raise ConnectorError(f"{cursor!r} is not a cursor of the local tracker.") from None
            # ``updated >= last`` as well, though the OR implies it: it is what an index range scan
            # of local_item_changes (project, updated, id) can start from. Without it the scan began
            # at the project's first item on every page and filtered its way to the cursor — a
            # listing of 1,000,000 items cost O(N²) (a page 46 ms at item 17,000, growing).
            items = items.filter(updated__gte=last_updated).filter(
                Q(updated__gt=last_updated) | Q(updated=last_updated, id__gt=last_id)
            )
        size = max(1, min(page_size, self.capabilities.max_page_size))
        rows = list(items.order_by("updated", "id").values_list(*columns)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        updated = columns.index("updated")
        next_cursor = f"{rows[-1][updated].isoformat()}|{rows[-1][0]}" if more else None
        return of, rows, next_cursor

    # --- artifacts ----------------------------------------------------------------------------

    def _items(
        self,
        artifact_ids: Sequence[str],
        *,
        discussion: bool = True,
        rows: bool = False,
        fields: frozenset[str] | None = None,
    ) -> list[LocalItem] | list[_ItemRow]:
        """The items with their lists attached as plain attributes (``_attach_lists``). With
        ``rows`` the items are ``_ItemRow``s (of the columns of ``fields`` alone, if given), for
        reads that only make artifacts of them."""
        chosen = LocalItem.objects.filter(
            project__tracker=self.tracker, pk__in=[_int(i) for i in artifact_ids]
        ).order_by()
        if rows:
            columns = _columns(fields)
            names = tuple("pk" if c == "id" else c for c in columns)
            items = [_ItemRow(names, values) for values in chosen.values_list(*columns)]
        else:
            items = list(chosen)
        # A batch's items share a few projects: one instance each rather than one per item's row.
        projects = LocalProject.objects.in_bulk({item.project_id for item in items})
        for item in items:
            item.project = projects[item.project_id]
        self._attach_lists(items, discussion=discussion, fields=fields)
        return items

    def _attach_lists(self, items: list, *, discussion: bool, fields: frozenset[str] | None = None) -> None:
        """``listed_watchers`` and ``listed_related`` (ids; empty when ``fields`` leaves them
        out), ``listed_comments`` and ``listed_attachments`` (None without ``discussion``). One
        query per list for the whole batch, reading ids from the link tables rather than
        instantiating users and items: Django's prefetches cost more than the rest of the read
        (0.1 ms per item and list)."""
        keys = [item.pk for item in items]
        watchers = related = {}
        if fields is None or "watchers" in fields:
            watchers = _grouped(
                LocalItem.watchers.through.objects.filter(localitem_id__in=keys).values_list(
                    "localitem_id", "localuser_id"
                )
            )
        if fields is None or "related" in fields:
            related = _grouped(
                LocalItem.related.through.objects.filter(from_localitem_id__in=keys).values_list(
                    "from_localitem_id", "to_localitem_id"
                )
            )
        comments = attachments = None
        if discussion:
            comments = _grouped(
                (c.item_id, c) for c in LocalComment.objects.filter(item_id__in=keys).select_related("author")
            )
            attachments = _grouped((a.item_id, a) for a in LocalAttachment.objects.filter(item_id__in=keys))
        for item in items:
            item.listed_watchers = watchers.get(item.pk, [])
            item.listed_related = related.get(item.pk, [])
            item.listed_comments = None if comments is None else comments.get(item.pk, [])
            item.listed_attachments = None if attachments is None else attachments.get(item.pk, [])

    def _item(self, artifact_id: str) -> LocalItem:
        found = next(iter(self._items([artifact_id])), None)
        if found is None:
            raise ArtifactNotFound(f"The local tracker {self.tracker.name} has no item {artifact_id}.")
        return found

    def _artifact(
        self,
        item: LocalItem | _ItemRow,
        created_with: Mapping[str, Any] | None = None,
        fields: frozenset[str] | None = None,
    ) -> Artifact:
        """The item as an artifact (with the ``fields`` alone, if given). ``created_with``: the
        values the item was just created with — its lists of persons and items are then those
        values, and it has no comments or attachments yet, so nothing more needs reading."""
        values: dict[str, Any] = {}
        for field_id, kind, attribute in _plan(item.type, fields):
            if kind == _PLAIN:
                values[field_id] = getattr(item, attribute)
            elif kind == _SELECT:
                values[field_id] = getattr(item, attribute) or None
            elif kind == _ONE_ID:
                related_id = getattr(item, attribute)
                values[field_id] = str(related_id) if related_id else None
            elif kind == _IDS:
                listed = (
                    created_with.get(field_id)
                    if created_with is not None
                    else getattr(item, f"listed_{field_id}")
                )
                values[field_id] = sorted({str(int(v)) for v in listed}, key=int) if listed else []
            else:  # _LINKS
                values[field_id] = [WebLink(link["url"], link.get("label", "")) for link in item.web_links]
        return Artifact(
            id=str(item.pk),
            formatted_id=item.formatted_id,
            url=self._items_url + f"{item.pk}/",
            project=item.project.key,
            type=item.type,
            fields=values,
            updated=item.updated,
            revision=str(item.revision),
            comments=[] if created_with is not None else _listed(self._comment, item.listed_comments),
            attachments=[]
            if created_with is not None
            else _listed(self._attachment, item.listed_attachments),
            marker=item.creation_marker or "",
        )

    def read_artifact(self, artifact_id: str) -> Artifact:
        return self._artifact(self._item(artifact_id))

    def read_artifacts(self, artifact_ids: Sequence[str]) -> dict[str, Artifact]:
        return {str(item.pk): self._artifact(item) for item in self._items(artifact_ids, rows=True)}

    def read_field_values(
        self, artifact_ids: Sequence[str], fields: Collection[str] | None = None
    ) -> dict[str, Artifact]:
        wanted = None if fields is None else frozenset(fields)
        return {
            str(item.pk): self._artifact(item, fields=wanted)
            for item in self._items(artifact_ids, discussion=False, rows=True, fields=wanted)
        }

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        if artifact_type not in ItemType.values:
            raise ValuesNotAccepted(
                "Unknown artifact type.", fields={"type": f"{artifact_type!r} is not a type"}
            )
        item = service.create_item(
            self._project(project), artifact_type, fields, reporter=self.actor(), marker=marker
        )
        return self._artifact(item, created_with=fields)

    def create_artifacts(
        self, project: str, artifact_type: str, items: Sequence[tuple[Mapping[str, Any], str]]
    ) -> list[Artifact]:
        if artifact_type not in ItemType.values:
            raise ValuesNotAccepted(
                "Unknown artifact type.", fields={"type": f"{artifact_type!r} is not a type"}
            )
        created = service.create_items(self._project(project), artifact_type, items, reporter=self.actor())
        return [
            self._artifact(item, created_with=fields)
            for item, (fields, _) in zip(created, items, strict=True)
        ]

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        if not marker:
            return None
        found = LocalItem.objects.filter(
            project=self._project(project), type=artifact_type, creation_marker=marker
        ).first()
        return self.read_artifact(str(found.pk)) if found else None

    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        item = self._item(artifact_id)
        service.update_item(item.pk, fields, expected_revision=expected_revision)
        return self.read_artifact(artifact_id)

    # --- containers (connectors.containers): any item holds children through its parent ------

    def container_of(self, artifact_id: str) -> ContainerRef | None:
        parent = self._item(artifact_id).parent
        return None if parent is None else local_containers.ref(parent)

    def children(self, container_id: str) -> list[ContainerRef]:
        return local_containers.children(self._item(container_id))

    def set_container(self, artifact_id: str, container_id: str | None) -> None:
        service.update_item(self._item(artifact_id).pk, {"parent": container_id})

    def containers(self, project: str, container_type: str) -> list[ContainerRef]:
        return local_containers.of_type(self._project(project), container_type)

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        match = FORMATTED_ID.match(formatted_id)
        if not match:
            return None
        found = LocalItem.objects.filter(
            project__tracker=self.tracker, project__key=match[1].upper(), number=int(match[2])
        ).first()
        return self.read_artifact(str(found.pk)) if found else None

    # --- comments -----------------------------------------------------------------------------

    @staticmethod
    def _comment(comment) -> Comment:
        return Comment(
            id=str(comment.pk),
            body=comment.body,
            author=_person_id(comment.author) or "",
            private=comment.private,
            created=comment.created,
        )

    def comments(self, artifact_id: str) -> list[Comment]:
        return [self._comment(c) for c in self._item(artifact_id).comments.select_related("author")]

    def add_comment(
        self, artifact_id: str, body: str, *, private: bool = False, author: str | None = None
    ) -> Comment:
        """``author``: the tracker user to record as the comment's author (the original author of a
        synchronized comment); Hub's own user when not given or not in this tracker."""
        item = self._item(artifact_id)
        writer = (
            LocalUser.objects.filter(tracker=self.tracker, pk=_int(author)).first()
            if author and is_digits(author)
            else None
        )
        return self._comment(service.add_comment(item.pk, writer or self.actor(), body, private=private))

    # --- attachments --------------------------------------------------------------------------

    @staticmethod
    def _attachment(attachment: LocalAttachment) -> AttachmentMeta:
        return AttachmentMeta(
            id=str(attachment.pk),
            filename=attachment.filename,
            size=attachment.size,
            content_type=attachment.content_type,
            created=attachment.created,
            author=str(attachment.uploader_id or ""),
        )

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        return [self._attachment(a) for a in self._item(artifact_id).attachments.all()]

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        item = self._item(artifact_id)
        attachment = item.attachments.filter(pk=_int(attachment_id)).first()
        if attachment is None:
            raise ArtifactNotFound(f"{item.formatted_id} has no attachment {attachment_id}.")
        if attachment.size > max_bytes:
            raise attachment_too_large(attachment.filename, max_bytes)
        path = service.attachment_path(attachment)

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return chunks()

    def upload_attachment(
        self,
        artifact_id: str,
        filename: str,
        content: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int = DEFAULT_ATTACHMENT_LIMIT,
        author: str | None = None,
    ) -> AttachmentMeta:
        """``author``: the tracker user to record as the uploader (the original uploader of a
        synchronized file); none when not given or not in this tracker."""
        item = self._item(artifact_id)
        uploader = (
            LocalUser.objects.filter(tracker=self.tracker, pk=_int(author)).first()
            if author and is_digits(author)
            else None
        )
        stored = service.add_attachment(
            item.pk, filename, content, content_type=content_type, max_bytes=max_bytes, uploader=uploader
        )
        return self._attachment(stored)

    def read_raw(self, artifact_id: str) -> dict[str, Any]:
        """The local tracker's own JSON: select fields by their labels, as its pages show them."""
        raw = raw_of(self.read_artifact(artifact_id))
        for field in FIELDS:
            if field.choices is None or field.id not in raw:
                continue
            labels = {value: str(label) for value, label in field.choices.choices}
            value = raw[field.id]
            raw[field.id] = (
                [labels.get(v, v) for v in value] if isinstance(value, list) else labels.get(value, value)
            )
        return raw

    # --- time entries ------------------------------------------------------------------------

    @staticmethod
    def _time_entry(entry: LocalTimeEntry) -> TimeEntry:
        return TimeEntry(
            id=str(entry.pk),
            artifact_id=str(entry.item_id),
            worker=str(entry.worker_id) if entry.worker_id else "",
            date=entry.date,
            duration=entry.duration,
            comment=entry.comment,
            activity=entry.activity,
            updated=entry.updated,
        )

    def time_entry_activities(self) -> list[TimeEntryActivity]:
        return [
            TimeEntryActivity(value, str(label), default=value == TimeActivity.DEVELOPMENT)
            for value, label in TimeActivity.choices
        ]

    def time_entries(self, artifact_id: str) -> list[TimeEntry]:
        item = self._item(artifact_id)
        return [self._time_entry(e) for e in LocalTimeEntry.objects.filter(item=item).order_by("id")]

    def time_entries_changed_since(self, project: str, since: dt.datetime | None) -> list[TimeEntry]:
        entries = LocalTimeEntry.objects.filter(item__project=self._project(project))
        if since is not None:
            entries = entries.filter(updated__gte=since)
        return [self._time_entry(e) for e in entries.order_by("updated", "id")]

    def create_time_entry(self, artifact_id: str, entry: NewTimeEntry) -> TimeEntry:
        item = self._item(artifact_id)
        worker = service._person(self.tracker, entry.worker) if entry.worker else self.actor()
        created = service.add_time_entry(
            item.pk, worker, entry.date, entry.duration, comment=entry.comment, activity=entry.activity
        )
        return self._time_entry(created)

    def update_time_entry(self, entry_id: str, *, duration: dt.timedelta, comment: str) -> TimeEntry:
        if not LocalTimeEntry.objects.filter(pk=_int(entry_id), item__project__tracker=self.tracker).exists():
            raise ArtifactNotFound(f"The local tracker {self.tracker.name} has no time entry {entry_id}.")
        return self._time_entry(service.update_time_entry(_int(entry_id), duration=duration, comment=comment))

    # --- persons ------------------------------------------------------------------------------

    @staticmethod
    def _person(user: LocalUser) -> Person:
        return Person(str(user.pk), user.username, user.email, user.display_name, active=user.active)

    def person_search_fields(self) -> list[str]:
        return list(PERSON_FIELDS)

    def find_persons(self, field: str, value: str) -> list[Person]:
        users = LocalUser.objects.filter(tracker=self.tracker)
        if field == "id":
            users = users.filter(pk=_int(value)) if is_digits(str(value)) else users.none()
        elif field == "username":
            users = users.filter(username=value)
        elif field in ("email", "display_name"):
            users = users.filter(**{f"{field}__iexact": value}) if value else users.none()
        else:
            raise ValuesNotAccepted("Persons cannot be searched by that field.", fields={field: "unknown"})
        return [self._person(u) for u in users]

    def read_person(self, person_id: str) -> Person:
        found = LocalUser.objects.filter(tracker=self.tracker, pk=_int(person_id)).first()
        if found is None:
            raise ArtifactNotFound(f"The local tracker {self.tracker.name} has no person {person_id}.")
        return self._person(found)

    # --- workflow -----------------------------------------------------------------------------

    def transitions(self, artifact_id: str) -> list[Transition]:
        return [
            Transition(step.id, step.name, step.to_status, step.required_fields)
            for step in service.transitions_of(self._item(artifact_id))
        ]

    def perform_transition(
        self,
        artifact_id: str,
        transition_id: str,
        fields: Mapping[str, Any] | None = None,
        *,
        expected_revision: str | None = None,
    ) -> Artifact:
        item = self._item(artifact_id)
        service.perform_transition(item.pk, transition_id, fields, expected_revision=expected_revision)
        return self.read_artifact(artifact_id)
