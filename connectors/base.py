"""The one interface every connector kind implements. The sync engine and the screens call
connectors only through it, with plain data (``connectors.types``) in and out, and catch
``connectors.errors.ConnectorError`` subclasses.

A connector instance serves one repository (its ``RepositorySettings``) and may hold a network
session; use it as a context manager or call ``close()``. It keeps no state between calls that
the engine relies on: every call can be repeated.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from connectors.errors import ArtifactNotFound, CreationUnsupported, OperationUnsupported
from connectors.test_steps import TEST_STEP_PARTS
from connectors.time_entries import (
    NO_TIME_ENTRIES,
    NewTimeEntry,
    TimeEntry,
    TimeEntryActivity,
    TimeEntryCapabilities,
)
from connectors.types import (
    Artifact,
    ArtifactType,
    AttachmentMeta,
    Capabilities,
    ChangePage,
    Comment,
    ConnectionInfo,
    EventHint,
    FieldSchema,
    Person,
    Project,
    RepositorySettings,
    SettingField,
    Transition,
)

DEFAULT_ATTACHMENT_LIMIT = 50 * 1024 * 1024


class Connector(ABC):
    kind: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    time_entry_capabilities: ClassVar[TimeEntryCapabilities] = NO_TIME_ENTRIES
    test_step_parts: ClassVar[tuple[str, ...]] = TEST_STEP_PARTS  # the test step schema
    settings_fields: ClassVar[Sequence[SettingField]] = ()
    network: ClassVar[bool] = True  # talks to a server: proxy, TLS and timeout settings apply
    help: ClassVar[str] = ""  # a paragraph for the repository screen: what is synchronized, what is not
    event_hint_help: ClassVar[str] = ""  # where in the tool to register Hub's webhook, and with what

    def __init__(self, settings: RepositorySettings):
        self.settings = settings

    def close(self) -> None:  # noqa: B027 - optional hook, most connectors hold nothing to close
        """Release network sessions."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- connection and structure -------------------------------------------------------------

    @abstractmethod
    def test_connection(self) -> ConnectionInfo:
        """Reach the tool with the settings and credentials; raise the specific error if not."""

    @abstractmethod
    def list_projects(self) -> list[Project]: ...

    @abstractmethod
    def artifact_types(self, project: str) -> list[ArtifactType]:
        """Raises ProjectNotFound for an unknown project."""

    @abstractmethod
    def field_schema(self, project: str, artifact_type: str) -> list[FieldSchema]: ...

    # --- change detection ---------------------------------------------------------------------

    @abstractmethod
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
        """Artifacts of ``project`` (of the given types; all when empty) updated at or after
        ``since - overlap`` by the tool's own clock, ordered by (updated, id) ascending.

        ``since=None`` lists everything (the initial scan). An artifact updated while the caller
        pages moves to a later page, so it is seen (possibly twice: the caller de-duplicates by id
        and revision). ``>=`` rather than ``>`` keeps an artifact updated within the same clock tick
        as the watermark."""

    # --- artifacts ----------------------------------------------------------------------------

    @abstractmethod
    def read_artifact(self, artifact_id: str) -> Artifact:
        """The artifact with its fields, comments and attachment metadata.
        Raises ArtifactNotFound when it does not exist (any more)."""

    def touched_since(self, artifact: Artifact, revision: str) -> dict[str, dt.datetime | None] | None:
        """The fields someone other than Hub's own user changed after ``revision`` (an earlier
        revision of ``artifact``), by the tool's history, even where a field was changed and changed
        back: values alone cannot show that. Each field id → when it was last changed so, by the
        tool's clock. None where the tool keeps no such history or the revision is not one this
        connector can place in it."""
        return None

    def read_artifacts(self, artifact_ids: Sequence[str]) -> dict[str, Artifact]:
        """Several artifacts at once, by id; those that do not exist are left out. The engine reads
        a claimed batch with it: a connector whose tool can answer for many ids in one request (or
        query) overrides it, the others read one by one."""
        found = {}
        for artifact_id in artifact_ids:
            try:
                found[artifact_id] = self.read_artifact(artifact_id)
            except ArtifactNotFound:
                continue
        return found

    def read_field_values(
        self, artifact_ids: Sequence[str], fields: Collection[str] | None = None
    ) -> dict[str, Artifact]:
        """As ``read_artifacts``, for a reader that wants the field values alone (the Enterprise
        Data Stream): a connector may leave comments and attachments unread (``None``) where that
        saves work, and with ``fields`` (field ids) every field not named. The default reads the
        artifacts whole."""
        return self.read_artifacts(artifact_ids)

    def changed_field_values(
        self, project: str, since: dt.datetime | None, *, fields: Collection[str] | None = None, **listing
    ) -> ChangePage:
        """``changed_since`` (``listing``: its keyword arguments) with the page's artifacts as
        ``read_field_values`` reads them, in ``ChangePage.artifacts``. A connector whose listing
        already holds the values overrides this to read each page once (the local tracker: one
        query a page instead of two); the default is the two reads."""
        page = self.changed_since(project, since, **listing)
        ids = list(dict.fromkeys(item.id for item in page.items))
        page.artifacts = self.read_field_values(ids, fields) if ids else {}
        return page

    def read_raw(self, artifact_id: str) -> dict[str, Any]:
        """The artifact as the tool's own JSON, with internal ids and unmapped fields: what the
        extension ``artifacts`` API returns. Connectors whose tool has a JSON form override this;
        the default is the artifact's fields with its identity, in JSON values."""
        artifact = self.read_artifact(artifact_id)
        return raw_of(artifact)

    def read_in_parallel(self, artifact_ids: Sequence[str], workers: int = 8) -> dict[str, Artifact]:
        """``read_artifacts`` for tools that read one artifact a request (GitHub, GitLab): a few
        requests in flight at once. One at a time when Hub's own event rate limit is set (it is
        kept in the database, which these threads do not use)."""
        if self.settings.events_per_minute > 0 or len(artifact_ids) < 2:
            return Connector.read_artifacts(self, artifact_ids)

        def read(artifact_id: str) -> Artifact | None:
            try:
                return self.read_artifact(artifact_id)
            except ArtifactNotFound:
                return None

        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = dict(zip(artifact_ids, pool.map(read, artifact_ids), strict=True))
        return {key: artifact for key, artifact in found.items() if artifact is not None}

    def is_deleted(self, artifact_id: str) -> bool:
        try:
            self.read_artifact(artifact_id)
        except ArtifactNotFound:
            return True
        return False

    def create_artifact(
        self, project: str, artifact_type: str, fields: Mapping[str, Any], *, marker: str = ""
    ) -> Artifact:
        """Create an artifact. When ``capabilities.creation_marker`` is true, ``marker`` is stored
        with it so that ``find_by_marker`` can find it even if the caller died before recording it."""
        raise CreationUnsupported(f"{self.label} repositories do not support creating artifacts.")

    def create_artifacts(
        self, project: str, artifact_type: str, items: Sequence[tuple[Mapping[str, Any], str]]
    ) -> list[Artifact]:
        """Create several artifacts of one project and type, each from ``(fields, marker)``, in the
        order given. Only for ``capabilities.bulk_create``: the tool makes all of them or none, so a
        failure leaves nothing half done and the caller may go on one by one."""
        raise OperationUnsupported(f"{self.label} repositories do not create several artifacts at once.")

    def find_by_marker(self, project: str, artifact_type: str, marker: str) -> Artifact | None:
        raise OperationUnsupported(f"{self.label} repositories do not store creation markers.")

    @abstractmethod
    def update_artifact(
        self, artifact_id: str, fields: Mapping[str, Any], *, expected_revision: str | None = None
    ) -> Artifact:
        """Change only the given fields. With ``expected_revision`` (where
        ``capabilities.optimistic_concurrency``), raise RevisionConflict if the artifact has changed
        since. Raises ValuesNotAccepted naming the refused fields."""

    def search_by_formatted_id(self, formatted_id: str) -> Artifact | None:
        raise OperationUnsupported(f"{self.label} repositories cannot be searched by formatted id.")

    # --- comments -----------------------------------------------------------------------------

    def comments(self, artifact_id: str) -> list[Comment]:
        raise OperationUnsupported(f"{self.label} repositories have no comments.")

    def read_after_write(self, artifact_id: str) -> Artifact | None:
        """The artifact as this connector read it right after its own last write to it (a comment,
        say), where that read is complete (comments and attachments too) and no write of this
        connector to it came since; None where there is none. The engine takes it instead of
        reading the artifact once more after writing comments (issue #20: requests per issue):
        a read later would show no more than a change made after that read, which is detected as
        a change of its own."""
        return None

    def add_comment(self, artifact_id: str, body: str, *, private: bool = False, **author) -> Comment:
        """Add a comment as the user Hub acts as; a connector with ``capabilities.comment_author``
        also takes ``author=<person id>`` and records the comment as that person's."""
        raise OperationUnsupported(f"{self.label} repositories have no comments.")

    # --- attachments --------------------------------------------------------------------------

    def attachments(self, artifact_id: str) -> list[AttachmentMeta]:
        raise OperationUnsupported(f"{self.label} repositories have no attachments.")

    def download_attachment(
        self, artifact_id: str, attachment_id: str, *, max_bytes: int = DEFAULT_ATTACHMENT_LIMIT
    ) -> Iterator[bytes]:
        """Stream the content in chunks. Raises ValuesNotAccepted (naming the file) as soon as more
        than ``max_bytes`` would be delivered."""
        raise OperationUnsupported(f"{self.label} repositories have no attachments.")

    def upload_attachment(
        self,
        artifact_id: str,
        filename: str,
        content: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int = DEFAULT_ATTACHMENT_LIMIT,
        **named,
    ) -> AttachmentMeta:
        """Attach streamed content. Raises ValuesNotAccepted naming the file when it is larger than
        ``max_bytes`` or than the tool accepts. A connector with ``capabilities.attachment_author``
        also takes ``author=<person id>`` and records the file as that person's; one with
        ``capabilities.attachment_description`` takes ``description=<text>`` and shows it with the
        file (where the copy of a synchronized file names who attached it)."""
        raise OperationUnsupported(f"{self.label} repositories have no attachments.")

    # --- persons ------------------------------------------------------------------------------

    def person_search_fields(self) -> list[str]:
        """Names of the Person attributes ``find_persons`` can search by (e.g. username, email)."""
        return []

    def find_persons(self, field: str, value: str) -> list[Person]:
        raise OperationUnsupported(f"{self.label} repositories cannot search persons.")

    def read_person(self, person_id: str) -> Person:
        raise OperationUnsupported(f"{self.label} repositories cannot read persons.")

    # --- workflow -----------------------------------------------------------------------------

    def transitions(self, artifact_id: str) -> list[Transition]:
        """Transitions available from the artifact's current status (empty when none)."""
        return []

    def perform_transition(
        self,
        artifact_id: str,
        transition_id: str,
        fields: Mapping[str, Any] | None = None,
        *,
        expected_revision: str | None = None,
    ) -> Artifact:
        raise OperationUnsupported(f"{self.label} repositories have no transitions.")

    # --- time entries (connectors.time_entries) -----------------------------------------------

    def time_entry_activities(self) -> list[TimeEntryActivity]:
        return []

    def time_entries(self, artifact_id: str) -> list[TimeEntry]:
        """The artifact's time entries, oldest first. Only with ``time_entry_capabilities.supported``."""
        raise OperationUnsupported(f"{self.label} repositories keep no time entries.")

    def time_entries_changed_since(self, project: str, since: dt.datetime | None) -> list[TimeEntry]:
        """Time entries of ``project`` created or changed at or after ``since`` by the tool's clock
        (all when None): how the Time Tracking style finds artifacts whose worklogs changed."""
        raise OperationUnsupported(f"{self.label} repositories keep no time entries.")

    def create_time_entry(self, artifact_id: str, entry: NewTimeEntry) -> TimeEntry:
        """File ``entry`` on the artifact; under ``entry.worker`` only where
        ``time_entry_capabilities.other_worker`` (the caller passes "" otherwise)."""
        raise OperationUnsupported(f"{self.label} repositories keep no time entries.")

    def update_time_entry(self, entry_id: str, *, duration: dt.timedelta, comment: str) -> TimeEntry:
        raise OperationUnsupported(f"{self.label} repositories keep no time entries.")

    # --- event hints (webhooks) ---------------------------------------------------------------

    @classmethod
    def event_hints_from(cls, headers: Mapping[str, str], body: bytes, secret: str) -> list[EventHint]:
        """The artifacts a webhook delivery says changed, once its signature (or token) is checked
        against ``secret``; ``headers`` have lower-case names. Raises CredentialsRefused for a
        delivery that is not signed with the secret, ValuesNotAccepted for one it cannot read.
        Only for kinds with ``capabilities.event_hints``; no network, no state."""
        raise OperationUnsupported(f"{cls.label} repositories send no webhooks Hub can verify.")


def _json(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if hasattr(value, "url") and hasattr(value, "label"):  # WebLink
        return {"label": value.label, "location": value.url}
    return value


def raw_of(artifact: Artifact) -> dict[str, Any]:
    """``read_raw``'s default form: identity keys as the guide's examples show them, then fields."""
    return {
        **{key: _json(value) for key, value in artifact.fields.items()},
        "id": artifact.id,
        "formattedid": artifact.formatted_id,
        "location": artifact.url,
        "project": artifact.fields.get("project", artifact.project),
        "type": artifact.type,
        "revision": artifact.revision,
        "updated": artifact.updated.isoformat() if artifact.updated else None,
    }
