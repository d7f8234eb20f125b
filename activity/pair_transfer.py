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
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activity import services
from activity.jobs import JobFailed, JobRunner, register
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob

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


def _pair_record(pair: ArtifactPair) -> dict:
    record = {side: {name: getattr(pair, f"{side}_{name}") for name in SIDE_FIELDS} for side in ("a", "b")}
    record.update({name: getattr(pair, name) for name in PAIR_FIELDS})
    record["integration"] = pair.integration_name
    record["last_synced_at"] = pair.last_synced_at.isoformat() if pair.last_synced_at else None
    return record


@register
class ExportPairs(JobRunner):
    kind = BackgroundJob.Kind.PAIR_EXPORT
    exclusive = True

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
                member.write(prefix + json.dumps(_pair_record(pair)).encode())
                written += 1
                if written % 5000 == 0:
                    self.set_progress(written * 100 // max(total, 1))
            member.write(b"\n]}\n")
        self.log(f"Exported {written} pairs.")
        return {"file": path.name, "pairs": written}


class ImportFileError(ValueError):
    """The uploaded file is not an artifact-pair export; the message says what is wrong."""


def read_export(path: Path) -> dict:
    """The export's content from a .json file or the .zip export holds it in."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith(".json")]
                if len(names) != 1:
                    raise ImportFileError("The zip file must hold exactly one .json file of artifact pairs.")
                data = json.loads(archive.read(names[0]))
        else:
            data = json.loads(path.read_bytes())
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        if isinstance(error, ImportFileError):
            raise
        raise ImportFileError(f"The file is not a readable artifact pair export: {error}") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("pairs"), list):
        raise ImportFileError("The file is not an artifact pair export made by Hub.")
    if data.get("version") != VERSION:
        raise ImportFileError(f"Export format version {data.get('version')!r} is not supported.")
    for number, record in enumerate(data["pairs"], start=1):
        if not all(isinstance(record.get(s), dict) and record[s].get("artifact_id") for s in ("a", "b")):
            raise ImportFileError(f"Pair {number} lacks the artifact id of side A or B.")
    return data


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

    def run(self, integration_id: int, file: str, **_) -> dict:
        require_running(integration_id)
        path = transfer_dir("import") / Path(file).name
        try:
            data = read_export(path)
        except ImportFileError as error:
            raise JobFailed("CCRRTT-30002E", str(error)) from error
        name = services.known_integrations().get(integration_id, "")
        records = data["pairs"]
        existing_a = dict(
            ArtifactPair.objects.filter(integration_id=integration_id).values_list(
                "a_artifact_id", "b_artifact_id"
            )
        )
        existing_b = {b: a for a, b in existing_a.items()}
        conflicts, new = [], []
        for record in records:
            a_id, b_id = str(record["a"]["artifact_id"]), str(record["b"]["artifact_id"])
            if existing_a.get(a_id) == b_id:
                continue  # already associated the same way: importing twice changes nothing
            if a_id in existing_a or b_id in existing_b:
                conflicts.append(
                    f"{record['a'].get('formatted_id') or a_id} ↔ {record['b'].get('formatted_id') or b_id}"
                )
                continue
            existing_a[a_id], existing_b[b_id] = b_id, a_id
            new.append(self._pair(record, integration_id, name))
        if conflicts:
            shown = ", ".join(conflicts[:10]) + (
                f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
            )
            raise JobFailed(
                "CCRRTT-0005E",
                f"{len(conflicts)} pairs conflict with associations the integration already has: {shown}. "
                "Nothing was imported.",
            )
        with transaction.atomic():
            for start in range(0, len(new), 2000):
                ArtifactPair.objects.bulk_create(new[start : start + 2000])
                self.set_progress((start + 2000) * 100 // max(len(new), 1))
        self.log(f"Imported {len(new)} pairs; {len(records) - len(new)} were there already.")
        return {"imported": len(new), "unchanged": len(records) - len(new)}

    @staticmethod
    def _pair(record: dict, integration_id: int, name: str) -> ArtifactPair:
        values = {
            f"{side}_{field}": record[side].get(field) or ({} if field == "snapshot" else "")
            for side in ("a", "b")
            for field in SIDE_FIELDS
        }
        values["a_artifact_id"] = str(values["a_artifact_id"])
        values["b_artifact_id"] = str(values["b_artifact_id"])
        synced = record.get("last_synced_at")
        return ArtifactPair(
            integration_id=integration_id,
            integration_name=name,
            comment_map=record.get("comment_map") or {},
            attachment_map=record.get("attachment_map") or {},
            last_synced_at=parse_datetime(synced) if synced else None,
            **values,
        )
