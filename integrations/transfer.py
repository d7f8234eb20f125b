"""Export of configuration changes to a zip of JSON documents, and their import into another
instance, applied in order and matched by element name.

The zip holds ``manifest.json`` and one ``changes/NNNN.json`` per change, oldest first. Settings
changes are not exportable and credentials are never in a snapshot. An import stops at the first
change that cannot apply and offers the changes not yet applied as a new zip.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from hub import uploads
from integrations import snapshots, validation
from integrations.history import Source, record

FORMAT = "hub-configuration-changes"
VERSION = 1
MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_CHANGES = 10_000
MAX_MEMBER_BYTES = 5 * 1024 * 1024
# An export of 10,000 changes unpacks to a few tens of MB; a zip bomb stops at these limits while
# it is read (hub.uploads), long before it could fill the web worker's memory.
ZIP_LIMITS = uploads.ZipLimits(
    compressed=MAX_ZIP_BYTES,
    uncompressed=32 * 1024 * 1024,
    member=MAX_MEMBER_BYTES,
    members=MAX_CHANGES + 1,
)
STALE_UPLOAD_SECONDS = 24 * 3600  # an upload nobody imported within a day is removed
ACTIONS = ("create", "update", "delete")


class ImportRefused(Exception):
    """The upload is not an export of Hub configuration changes; nothing was changed."""


@dataclass
class ExportedChange:
    action: str
    element_type: str
    element_name: str
    before: dict | None
    after: dict | None
    time: str = ""
    username: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @property
    def summary(self) -> str:
        return f"{self.action} {self.element_type} “{self.element_name}”"


def exportable(changes):
    """Configuration elements only: settings, users and API tokens stay on their instance (and an
    import could not apply them)."""
    elements = [element_type.value for element_type in snapshots.ElementType]
    return changes.exclude(action="settings").filter(element_type__in=elements)


def to_zip(changes: Iterable[ExportedChange]) -> bytes:
    changes = list(changes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "manifest.json",
            json.dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "exported": timezone.now().isoformat(),
                    "count": len(changes),
                }
            ),
        )
        for number, change in enumerate(changes, start=1):
            archive.writestr(
                f"changes/{number:05d}.json", json.dumps(change.as_dict(), ensure_ascii=False, indent=1)
            )
    return buffer.getvalue()


def export(changes) -> bytes:
    """A zip of the given ConfigurationChange rows (a queryset), oldest first."""
    rows = exportable(changes).order_by("time", "id")
    return to_zip(
        ExportedChange(
            action=c.action,
            element_type=c.element_type,
            element_name=c.element_name,
            before=c.before,
            after=c.after,
            time=c.time.isoformat(),
            username=c.username,
        )
        for c in rows
    )


def read_zip(data: bytes) -> list[ExportedChange]:
    """The changes in an uploaded zip, or ImportRefused saying exactly what is wrong with it."""
    try:
        with uploads.BoundedZip(data, ZIP_LIMITS, what="The file") as archive:
            names = archive.names()
            if "manifest.json" not in names:
                raise ImportRefused(
                    "The zip is not an export of Hub configuration changes (it has no manifest.json)."
                )
            members = sorted(n for n in names if n.startswith("changes/") and n.endswith(".json"))
            manifest = archive.read_json("manifest.json")
            raw = [archive.read_json(name) for name in members]
    except uploads.UploadRefused as error:
        raise ImportRefused(str(error)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ImportRefused("The zip is not an export of Hub configuration changes.")
    if manifest.get("version") != VERSION:
        raise ImportRefused(
            f"The export has format version {manifest.get('version')}; this Hub reads version {VERSION}."
        )
    changes = []
    for name, item in zip(members, raw, strict=True):
        try:
            change = ExportedChange(
                **{k: item[k] for k in ("action", "element_type", "element_name", "before", "after")},
                time=str(item.get("time", "")),
                username=str(item.get("username", "")),
            )
            snapshots.ElementType(change.element_type)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ImportRefused(f"{name} is not a configuration change Hub can read.") from None
        documents = (change.before, change.after)
        if not isinstance(change.element_name, str) or not all(isinstance(d, dict | None) for d in documents):
            raise ImportRefused(f"{name} is not a configuration change Hub can read.")
        if change.action not in ACTIONS:
            raise ImportRefused(f"{name} has the action “{change.action}”, which cannot be imported.")
        changes.append(change)
    return changes


@dataclass
class ImportResult:
    applied: list[ExportedChange] = field(default_factory=list)
    failed: ExportedChange | None = None
    reason: str = ""
    remaining: list[ExportedChange] = field(default_factory=list)

    @property
    def remaining_zip(self) -> bytes:
        return to_zip(self.remaining)


class _CannotApply(Exception):
    pass


def _apply_one(change: ExportedChange, user, request_id: str) -> None:
    existing = snapshots.find(change.element_type, change.element_name)
    kind = change.element_type
    shares_a_name = (snapshots.ElementType.MAPPING, snapshots.ElementType.COLLECTION_EXTENSIONS)
    if change.action == "create" and existing is not None and kind not in shares_a_name:
        raise _CannotApply(f"{kind} “{change.element_name}” already exists here")
    if change.action in ("update", "delete") and existing is None:
        raise _CannotApply(f"{kind} “{change.element_name}” is missing here")
    before = snapshots.snapshot(kind, existing) if existing is not None else None
    try:
        with transaction.atomic():
            if change.action == "delete":
                element_id = existing.pk
                snapshots.delete(kind, existing)
                after, obj = None, None
            else:
                obj = snapshots.apply(kind, change.after or {}, existing)
                element_id, after = obj.pk, snapshots.snapshot(kind, obj)
            record(
                user,
                change.action,
                kind,
                change.element_name,
                before=before,
                after=after,
                element_id=element_id,
                source=Source.IMPORT,
                request_id=request_id,
                validate=False,
            )
    except snapshots.MissingReference as error:
        raise _CannotApply(f"CCRRTT-17031E: {error}") from None
    except snapshots.Refused as error:
        raise _CannotApply(str(error)) from None
    except ValidationError as error:
        raise _CannotApply(f"CCRRTT-30002E: the change is not valid: {_described(error)}") from None
    except (IntegrityError, AttributeError, KeyError, TypeError, ValueError) as error:
        raise _CannotApply(f"CCRRTT-17031E: the change does not fit this instance ({error})") from None


def _described(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" if name != NON_FIELD_ERRORS else " ".join(messages)
            for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def apply_changes(changes: list[ExportedChange], user, request_id: str = "") -> ImportResult:
    """Apply in order; stop at the first change that cannot apply."""
    result = ImportResult()
    for index, change in enumerate(changes):
        try:
            _apply_one(change, user, request_id)
        except _CannotApply as reason:
            result.failed, result.reason, result.remaining = change, str(reason), changes[index:]
            break
        result.applied.append(change)
    validation.validate()
    return result
