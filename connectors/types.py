"""Plain data that goes into and comes out of connectors — never ORM objects.

Identifiers are strings everywhere (Redmine's integer ids become ``"42"``), so the engine stores
them without caring which tool they came from.

Field values in ``Artifact.fields`` and in create/update calls, by ``FieldType``:

======================  ===============================================================
STRING, RICH_TEXT       ``str`` (rich text in the field's ``text_format``)
SINGLE_SELECT           option id ``str`` or ``None``
MULTI_SELECT            ``list[str]`` of option ids
BOOLEAN                 ``bool``
LONG / DOUBLE           ``int`` / ``float`` or ``None``
DATE                    ``datetime.date`` — a calendar day, never a midnight timestamp
DATE_TIME               ``datetime.datetime``, timezone-aware (UTC)
DURATION                ``datetime.timedelta``
PERSON / PERSONS        person id ``str`` / ``list[str]``
RELATIONSHIP(S)         artifact id ``str`` / ``list[str]``
WEB_LINKS               ``list[WebLink]``
TEST_STEPS              ``list[dict[str, str]]`` in step order (``connectors.test_steps``)
TIME_ENTRIES            never in ``fields``: read with ``Connector.time_entries``
======================  ===============================================================
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class FieldType(enum.StrEnum):
    STRING = "string"
    RICH_TEXT = "rich_text"
    SINGLE_SELECT = "single_select"
    MULTI_SELECT = "multi_select"
    BOOLEAN = "boolean"
    LONG = "long"
    DOUBLE = "double"
    DATE = "date"
    DATE_TIME = "date_time"
    DURATION = "duration"
    PERSON = "person"
    PERSONS = "persons"
    RELATIONSHIP = "relationship"
    RELATIONSHIPS = "relationships"
    WEB_LINKS = "web_links"
    TIME_ENTRIES = "time_entries"  # offered for mapping only (``connectors.time_entries``)
    TEST_STEPS = "test_steps"


@dataclass(frozen=True)
class RepositorySettings:
    """One repository's connection settings, as the caller hands them to a connector.

    Secrets arrive already decrypted; a connector keeps them in memory only and never puts them
    in a message or a log line. ``rate_limit_key`` names the repository for the event rate limit
    every worker shares (the engine passes e.g. ``"repository:12"``); empty means "no shared limit".
    Values of a kind's declared settings fields that are not attributes here arrive in ``extra``.
    """

    kind: str
    url: str
    auth_method: str = ""
    username: str = ""
    password: str = ""
    token: str = ""
    proxy_url: str = ""
    proxy_username: str = ""
    proxy_password: str = ""
    allow_insecure: bool = False
    timeout: float = 30.0
    events_per_minute: int = 0
    rate_limit_key: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True  # False: registry.connect refuses with CCRRTT-61106E

    def __repr__(self) -> str:  # never show secrets, even in a traceback
        return f"RepositorySettings(kind={self.kind!r}, url={self.url!r})"


@dataclass(frozen=True)
class SettingField:
    """A settings form field a connector kind declares; the Repositories screen renders it.
    ``name`` is a ``RepositorySettings`` attribute, or a key of its ``extra``."""

    name: str
    label: str
    type: str = "text"  # text | password | url | choice | boolean | integer
    required: bool = False
    secret: bool = False
    help: str = ""
    choices: Sequence[tuple[str, str]] = ()
    default: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a connector kind can do; the screens and the engine read this instead of guessing."""

    create: bool = True
    comments: bool = True
    private_comments: bool = False
    attachments: bool = True
    persons: bool = True
    transitions: bool = False
    transitions_required: bool = False  # status can change only through a transition
    optimistic_concurrency: bool = False  # update honours expected_revision
    creation_marker: bool = False  # create stores a marker that find_by_marker finds
    bulk_create: bool = False  # create_artifacts makes several in one request: all of them or none
    search_by_formatted_id: bool = True
    max_page_size: int = 100
    event_hints: bool = False  # the tool sends webhooks Hub can verify (``Connector.event_hints_from``)
    comment_author: bool = False  # add_comment takes ``author`` (a person id of this repository)
    attachment_author: bool = False  # upload_attachment takes ``author`` (a person id of this repository)
    attachment_description: bool = False  # upload_attachment takes ``description`` (a text the tool shows)
    repository_queries: bool = False  # change detection can be narrowed by a collection's repository query
    comment_marker: bool = False  # a comment keeps a trailing ``<!-- hub-comment: … -->`` Hub adds
    containers: bool = False  # artifacts have parents (``connectors.containers.ContainerSupport``)


@dataclass(frozen=True)
class ConnectionInfo:
    server: str  # product and version as the tool reports it, e.g. "Redmine 5.0.4"
    user: str  # whom the credentials belong to
    server_time: dt.datetime | None = None


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str
    # The kind of high-level container the tool lists as a project (a project, a workspace, a
    # folder...). A collection records it when its projects are chosen; a later refresh that finds
    # another kind raises CCRRTT-1111E (the routing of the project no longer means the same).
    kind: str = "project"


@dataclass(frozen=True)
class ArtifactType:
    id: str
    name: str


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class FieldSchema:
    id: str
    label: str
    type: FieldType
    required: bool = False
    read_only: bool = False
    multi: bool = False
    options: Sequence[Option] = ()
    person_target: bool = False  # values are persons of this repository
    relationship_target: str = ""  # artifact type id the relationship points to ("" = any)
    text_format: str = ""  # for RICH_TEXT: "html", "markdown", "textile" or "plain"


@dataclass(frozen=True)
class WebLink:
    url: str
    label: str = ""


@dataclass(frozen=True)
class Person:
    id: str
    username: str = ""
    email: str = ""
    display_name: str = ""
    active: bool = True  # False: the tool keeps the account but it is locked or deactivated


@dataclass(frozen=True)
class Comment:
    id: str
    body: str
    author: str = ""  # person id
    private: bool = False
    created: dt.datetime | None = None


@dataclass(frozen=True)
class AttachmentMeta:
    id: str
    filename: str
    size: int
    content_type: str = "application/octet-stream"
    created: dt.datetime | None = None
    author: str = ""  # person id of whoever attached it ("" where the tool does not say)


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to_status: str
    required_fields: Sequence[str] = ()


@dataclass
class Artifact:
    id: str
    formatted_id: str
    url: str
    project: str
    type: str
    fields: dict[str, Any]
    updated: dt.datetime  # the tool's own clock, timezone-aware
    revision: str  # changes with every change; the value to pass back as expected_revision
    comments: list[Comment] | None = None  # None: not read (see read_artifact)
    attachments: list[AttachmentMeta] | None = None
    marker: str = ""  # the creation marker Hub stored with it, where the tool keeps one
    # ids of the persons who created or changed it, where the tool says (Redmine's author and
    # journals); None: not known
    editors: frozenset[str] | None = None
    # On the read-back of Hub's own update: each field that write changed, with the value it held
    # just before, where the tool records that (Redmine's journal of the write). A value unlike
    # Hub's read of the artifact is someone else's change that the write replaced unseen, in a tool
    # without optimistic concurrency. None: not known.
    replaced: dict[str, Any] | None = None
    # The tool's record of who changed which fields, change by change, where it keeps one (Redmine's
    # journals): (the change's number, its author's id, the ids of the fields it changed, when, by
    # the tool's clock), oldest first. The connector's ``touched_since`` reads it. None: not known
    # (not read, or the tool keeps no history).
    field_changes: tuple[tuple[int, str, frozenset[str], dt.datetime | None], ...] | None = None


@dataclass(frozen=True)
class EventHint:
    """A verified webhook delivery says this artifact changed: detect it now rather than at the next
    poll. Only a hint — the artifact is read afresh from the tool, and polling stays the record."""

    project: str
    artifact_id: str
    artifact_type: str = ""  # when the delivery says; "" = any type of the project


@dataclass(frozen=True)
class ChangedItem:
    id: str
    updated: dt.datetime
    revision: str = ""


@dataclass
class ChangePage:
    """One page of changed artifacts, ordered by (updated, id) ascending.

    ``next_cursor`` is ``None`` on the last page; otherwise pass it back to get the next one.
    ``server_time`` is the tool's clock read before the first page: the caller never moves its
    watermark past it, and never past the last item it has processed.
    """

    items: list[ChangedItem]
    next_cursor: str | None
    server_time: dt.datetime | None = None
    # The field values of the page's artifacts, id → artifact, when they were read with the
    # listing (``Connector.changed_field_values``); None from ``changed_since``.
    artifacts: dict[str, Artifact] | None = None
