"""Moving artifact pairs between Hub instances: export to a zip holding one JSON file, import such a
file into a chosen integration. Both run as background jobs, one of each kind at a time.

Export stops each chosen integration first and waits for its in-flight (processing) activities, so
no pair changes while it is written. Import needs the target integration running (CCRRTT-17023E
otherwise: the running integration is what proves its configuration is valid) and is all or
nothing: an association that contradicts one already there (CCRRTT-0005E) aborts the whole file,
so a half-imported set never has to be untangled.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activity import services
from activity.jobs import JobFailed, JobRunner, register
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob
from hub import uploads

FORMAT = "hub-artifact-pairs"
VERSION = 1
JSON_NAME = "artifact-pairs.json"
SIDE_FIELDS = ("artifact_id", "formatted_id", "summary", "url", "project", "snapshot")
PAIR_FIELDS = ("comment_map", "attachment_map")
IN_FLIGHT_TIMEOUT = 300.0


def transfer_dir(kind: str) -> Path:
    directory = Path(settings.HUB_HOME) / "pair-transfer" / kind
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def wait_for_in_flight(
    integration_ids: list[int],
    timeout: float = IN_FLIGHT_TIMEOUT,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll until no activity of these integrations is processing, or give up at the deadline."""
    deadline = clock() + timeout
    processing = ArtifactActivity.objects.filter(
        integration_id__in=integration_ids, status=ArtifactActivity.Status.PROCESSING
    )
    while processing.exists():
        if clock() >= deadline:
            raise JobFailed(
                "CCRRTT-30002E",
                "Activities of the integration are still processing after the time limit. Stop the "
                "integration yourself, wait until its activities finish, and export again.",
            )
        time.sleep(1)  # a worker finishing its batch; the job itself runs in a worker, not a request


def pair_record(pair: ArtifactPair) -> dict:
    record = {side: {name: getattr(pair, f"{side}_{name}") for name in SIDE_FIELDS} for side in ("a", "b")}
    record.update({name: getattr(pair, name) for name in PAIR_FIELDS})
    record["integration"] = pair.integration_name
    record["last_synced_at"] = pair.last_synced_at.isoformat() if pair.last_synced_at else None
    return record


@register
class ExportPairs(JobRunner):
    kind = BackgroundJob.Kind.PAIR_EXPORT
    exclusive = True
    resumable = True  # it writes its file from the start again

    def run(self, integration_ids: list[int], timeout: float = IN_FLIGHT_TIMEOUT, **_) -> dict:
        for integration_id in integration_ids:
            services.stop_integration(integration_id)
            self.log(f"Stopped integration {integration_id} for the export.")
        wait_for_in_flight(integration_ids, timeout)
        pairs = ArtifactPair.objects.filter(integration_id__in=integration_ids).order_by("id")
        total = pairs.count()
        path = transfer_dir("export") / f"artifact-pairs-{self.job.pk}.zip"
        written = 0
        # Written pair by pair into the zip member: a million pairs never sit in memory as one list.
        with (
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            archive.open(JSON_NAME, "w", force_zip64=True) as member,
        ):
            header = {
                "format": FORMAT,
                "version": VERSION,
                "exported": timezone.now().isoformat(),
                "integrations": [
                    {"id": i, "name": services.known_integrations().get(i, "")} for i in integration_ids
                ],
            }
            member.write(json.dumps(header)[:-1].encode() + b', "pairs": [\n')
            for pair in pairs.iterator(chunk_size=2000):
                prefix = b",\n" if written else b""
                member.write(prefix + json.dumps(pair_record(pair)).encode())
                written += 1
                if written % 5000 == 0:
                    self.set_progress(written * 100 // max(total, 1))
            member.write(b"\n]}\n")
        self.log(f"Exported {written} pairs.")
        return {"file": path.name, "pairs": written}


class ImportFileError(ValueError):
    """The uploaded file is not an artifact-pair export; the message says what is wrong."""


MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # the file as uploaded (zip or JSON)
MAX_JSON_BYTES = 4 * 1024**3  # the JSON inflated: about a million pairs with their snapshots
MAX_PAIR_BYTES = 1024 * 1024  # one pair record
ZIP_LIMITS = uploads.ZipLimits(
    compressed=MAX_UPLOAD_BYTES, uncompressed=MAX_JSON_BYTES, member=MAX_JSON_BYTES, members=16
)
_TEXT_LIMITS = {name: ArtifactPair._meta.get_field(f"a_{name}").max_length for name in SIDE_FIELDS[:-1]}


@contextmanager
def opened_export(path: Path) -> Iterator[Iterator[dict]]:
    """The checked pair records of an export (.json, or the .zip holding it), streamed: memory stays
    bounded whatever the file's size. Raises ImportFileError, also while the records are read."""
    try:
        if zipfile.is_zipfile(path):
            with uploads.BoundedZip(path, ZIP_LIMITS, what="The zip file") as archive:
                names = [n for n in archive.names() if n.endswith(".json")]
                if len(names) != 1:
                    raise ImportFileError("The zip file must hold exactly one .json file of artifact pairs.")
                with archive.open(names[0]) as raw:
                    yield _records(raw)
        else:
            if path.stat().st_size > MAX_UPLOAD_BYTES:
                raise ImportFileError(f"The file is larger than {uploads.size_text(MAX_UPLOAD_BYTES)}.")
            with path.open("rb") as raw:
                yield _records(raw)
    except uploads.UploadRefused as error:
        raise ImportFileError(str(error)) from None
    except OSError as error:
        raise ImportFileError(f"The file cannot be read: {error.strerror or error}") from None


def _records(raw) -> Iterator[dict]:
    export = uploads.stream_json(raw, "pairs", total=MAX_JSON_BYTES, per_item=MAX_PAIR_BYTES, what="The file")
    if export.header.get("format") != FORMAT or not isinstance(export.header.get("pairs"), list):
        raise ImportFileError("The file is not an artifact pair export made by Hub.")
    if export.header.get("version") != VERSION:
        raise ImportFileError(f"Export format version {export.header.get('version')!r} is not supported.")
    return (checked_record(item, number) for number, item in enumerate(export.items, start=1))


def checked_record(item, number: int) -> dict:
    """One pair as the import writes it, or ImportFileError naming the pair and what is wrong."""
    if not isinstance(item, dict):
        raise ImportFileError(f"Pair {number} is not an object.")
    record: dict = {}
    for side in ("a", "b"):
        values = item.get(side)
        if (
            not isinstance(values, dict)
            or values.get("artifact_id") in (None, "")
            or isinstance(values.get("artifact_id"), bool | dict | list)
        ):
            raise ImportFileError(f"Pair {number} lacks the artifact id of side {side.upper()}.")
        for name, limit in _TEXT_LIMITS.items():
            value = values.get(name)
            value = "" if value is None else value
            if isinstance(value, bool | dict | list) or len(str(value)) > limit:
                raise ImportFileError(f"Pair {number}: {side.upper()} {name} is not text of at most {limit}.")
            record[f"{side}_{name}"] = str(value)
        snapshot = values.get("snapshot") or {}
        if not isinstance(snapshot, dict):
            raise ImportFileError(f"Pair {number}: the snapshot of side {side.upper()} is not an object.")
        record[f"{side}_snapshot"] = snapshot
    for name in PAIR_FIELDS:
        value = item.get(name) or {}
        if not isinstance(value, dict):
            raise ImportFileError(f"Pair {number}: {name} is not an object.")
        record[name] = value
    synced = item.get("last_synced_at")
    try:
        record["last_synced_at"] = parse_datetime(synced) if synced else None
    except (TypeError, ValueError):
        record["last_synced_at"] = None
    if synced and record["last_synced_at"] is None:
        raise ImportFileError(f"Pair {number}: last_synced_at is not a date and time.")
    return record


def read_export(path: Path) -> int:
    """Check the whole export (every pair) without importing it; the number of pairs."""
    with opened_export(path) as records:
        return sum(1 for _ in records)


def require_running(integration_id: int) -> None:
    if services.integration_state(integration_id) != services.RUNNING:
        raise JobFailed(
            "CCRRTT-17023E",
            "The integration chosen for the import is not running. Start it, then import the file again.",
        )


@register
class ImportPairs(JobRunner):
    kind = BackgroundJob.Kind.PAIR_IMPORT
    exclusive = True
    resumable = True  # one transaction: an interrupted import left nothing behind

    def run(self, integration_id: int, file: str, **_) -> dict:
        path = transfer_dir("import") / Path(file).name
        try:
            require_running(integration_id)
            return self._import(integration_id, path)
        except ImportFileError as error:
            raise JobFailed("CCRRTT-30002E", str(error)) from error
        finally:
            path.unlink(missing_ok=True)  # applied or not, an upload is not kept

    def _import(self, integration_id: int, path: Path) -> dict:
        name = services.known_integrations().get(integration_id, "")
        existing_a = dict(
            ArtifactPair.objects.filter(integration_id=integration_id).values_list(
                "a_artifact_id", "b_artifact_id"
            )
        )
        existing_b = {b: a for a, b in existing_a.items()}
        conflicts: list[str] = []
        batch: list[ArtifactPair] = []
        imported = total = 0
        # One transaction: a conflict found late rolls back what was written before it.
        with transaction.atomic(), opened_export(path) as records:
            for record in records:
                total += 1
                a_id, b_id = record["a_artifact_id"], record["b_artifact_id"]
                if existing_a.get(a_id) == b_id:
                    continue  # already associated the same way: importing twice changes nothing
                if a_id in existing_a or b_id in existing_b:
                    shown = f"{record['a_formatted_id'] or a_id} ↔ {record['b_formatted_id'] or b_id}"
                    conflicts.append(shown)
                    continue
                existing_a[a_id], existing_b[b_id] = b_id, a_id
                if not conflicts:
                    batch.append(ArtifactPair(integration_id=integration_id, integration_name=name, **record))
                if len(batch) >= 2000:
                    ArtifactPair.objects.bulk_create(batch)
                    imported += len(batch)
                    batch = []
            if conflicts:
                shown = ", ".join(conflicts[:10]) + (
                    f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
                )
                raise JobFailed(
                    "CCRRTT-0005E",
                    f"{len(conflicts)} pairs conflict with associations the integration already has: "
                    f"{shown}. Nothing was imported.",
                )
            ArtifactPair.objects.bulk_create(batch)
            imported += len(batch)
        self.log(f"Imported {imported} pairs; {total - imported} were there already.")
        return {"imported": imported, "unchanged": total - imported}
