"""Upgrade Backup Files (Settings → Advanced; seed 1459-1488, 6514-6519).

While an upgrade's integration data migrations run (``integrations.data_migrations``), the
integrations already migrated, and those that need no migration, keep synchronizing. A backup taken
before the upgrade does not know what they did: restoring it would make Hub copy those changes (and
create those artifacts) a second time. So when the last data migration job of an upgrade ends, Hub
writes an upgrade backup file into ``HUB_HOME/upgrade-backups``: every artifact pair the engine wrote
since the upgrade began, and every change detection watermark it moved, per integration.

**Download** it *before* restoring; after restoring the older backup, **Upload** it: pairs missing
from the restored database are recorded again, pairs it has are brought up to the file's snapshots,
and watermarks move forward, never back, so nothing is synchronized twice. A pair that contradicts
one the restored database has (CCRRTT-0005E) aborts the whole upload, so nothing is half-applied.

The newest ``HUB_UPGRADE_BACKUPS_KEPT`` files are kept (default 5); older ones are deleted when a new
one is written, and the screen deletes any of them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activity.jobs import JobFailed
from activity.models import ArtifactPair
from activity.pair_transfer import ImportFileError, checked_record, pair_record
from hub import jsonload, uploads

FORMAT = "hub-upgrade-backup"
VERSION = 1
NAME = re.compile(r"^upgrade-backup-\d{8}T\d{6}Z\.json$")
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
CONFLICT = "CCRRTT-0005E"


def directory() -> Path:
    path = Path(settings.HUB_HOME) / "upgrade-backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_name(upgrade: datetime) -> str:
    return f"upgrade-backup-{upgrade.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"


def files() -> list[dict]:
    """The upgrade backup files, newest first, with what the screen shows of each."""
    found = []
    for path in directory().glob("upgrade-backup-*.json"):
        if NAME.match(path.name):
            stat = path.stat()
            found.append(
                {
                    "name": path.name,
                    "size": stat.st_size,
                    "written": datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                }
            )
    return sorted(found, key=lambda item: item["name"], reverse=True)


def path_of(name: str) -> Path | None:
    """The file of that name, or None: only names Hub writes, never a path."""
    if not NAME.match(name or ""):
        return None
    path = directory() / name
    return path if path.is_file() else None


def delete(name: str) -> bool:
    path = path_of(name)
    if path is None:
        return False
    path.unlink()
    return True


def apply_retention() -> int:
    kept = settings.HUB_UPGRADE_BACKUPS_KEPT
    removed = 0
    for item in files()[kept:]:
        removed += delete(item["name"])
    return removed


def write_when_finished(upgrade: str, finishing_job_id: int) -> Path | None:
    """Write the upgrade's file once none of its data migration jobs but the one finishing now
    (still *processing* until its runner returns) is left to run."""
    from integrations.data_migrations import open_jobs

    left = open_jobs().exclude(pk=finishing_job_id).only("parameters")
    if any(job.parameters.get("upgrade") == upgrade for job in left):
        return None
    return write(parse_datetime(upgrade), skip_empty=True)


def write(since: datetime, now: datetime | None = None, *, skip_empty: bool = False) -> Path | None:
    """The pairs and watermarks the engine wrote since ``since``, per integration, as one file
    (none with ``skip_empty`` when the engine wrote nothing: there is nothing to keep)."""
    from integrations.models import ChangeWatermark, Integration

    now = now or timezone.now()
    names = dict(Integration.objects.values_list("pk", "name"))
    entries: dict[int, dict] = {}

    def entry(integration_id: int) -> dict:
        return entries.setdefault(
            integration_id,
            {"id": integration_id, "name": names.get(integration_id, ""), "pairs": [], "watermarks": []},
        )

    for pair in (
        ArtifactPair.objects.filter(updated__gte=since).order_by("integration_id", "id").iterator(2000)
    ):
        entry(pair.integration_id)["pairs"].append(pair_record(pair))
    for mark in ChangeWatermark.objects.filter(updated__gte=since).order_by(
        "integration_id", "side", "project"
    ):
        entry(mark.integration_id)["watermarks"].append(
            {
                "side": mark.side,
                "project": mark.project,
                "position": mark.position.isoformat() if mark.position else None,
                "last_full_scan": mark.last_full_scan.isoformat() if mark.last_full_scan else None,
            }
        )
    if skip_empty and not entries:
        return None
    document = {
        "format": FORMAT,
        "version": VERSION,
        "upgrade_started": since.isoformat(),
        "written": now.isoformat(),
        "integrations": [entries[key] for key in sorted(entries)],
    }
    path = directory() / file_name(since)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(document))
    partial.replace(path)  # a download never sees half a file
    apply_retention()
    return path


def _read(data: bytes) -> dict:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(f"The file is larger than {uploads.size_text(MAX_UPLOAD_BYTES)}.")
    try:
        document = jsonload.loads(data)
    except jsonload.JsonRefused as error:
        raise ImportFileError(f"The file is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportFileError("The file is not an upgrade backup file written by Hub.")
    if document.get("version") != VERSION:
        raise ImportFileError(f"Upgrade backup format version {document.get('version')!r} is not supported.")
    if not isinstance(document.get("integrations"), list):
        raise ImportFileError("The file lists no integrations.")
    return document


def _when(value, what: str):
    if value in (None, ""):
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ImportFileError(f"{what} is not a date and time.")
    return parsed


def _apply_pairs(integration_id: int, name: str, items: list, counts: dict) -> list[str]:
    existing = {
        pair.a_artifact_id: pair for pair in ArtifactPair.objects.filter(integration_id=integration_id)
    }
    by_b = {pair.b_artifact_id: pair for pair in existing.values()}
    conflicts = []
    for number, item in enumerate(items, start=1):
        record = checked_record(item, number)
        a_id, b_id = record["a_artifact_id"], record["b_artifact_id"]
        pair = existing.get(a_id)
        if pair is None and b_id not in by_b:
            pair = ArtifactPair.objects.create(integration_id=integration_id, integration_name=name, **record)
            existing[a_id] = by_b[b_id] = pair
            counts["pairs_added"] += 1
        elif pair is not None and pair.b_artifact_id == b_id:
            for field, value in record.items():
                setattr(pair, field, value)
            pair.save()
            counts["pairs_updated"] += 1
        else:
            conflicts.append(f"{record['a_formatted_id'] or a_id} ↔ {record['b_formatted_id'] or b_id}")
    return conflicts


def _apply_watermarks(integration_id: int, items: list, counts: dict) -> None:
    from integrations.models import ChangeWatermark

    for item in items:
        if not isinstance(item, dict) or item.get("side") not in ("A", "B"):
            raise ImportFileError("A watermark of the file has no side A or B.")
        mark, _ = ChangeWatermark.objects.get_or_create(
            integration_id=integration_id, side=item["side"], project=str(item.get("project", ""))[:200]
        )
        position = _when(item.get("position"), "A watermark position")
        full_scan = _when(item.get("last_full_scan"), "A watermark's last full scan")
        moved = False
        if position and (mark.position is None or position > mark.position):
            mark.position, moved = position, True  # forward only: never re-read what was synchronized
        if full_scan and (mark.last_full_scan is None or full_scan > mark.last_full_scan):
            mark.last_full_scan, moved = full_scan, True
        if moved:
            mark.save()
            counts["watermarks_moved"] += 1


def upload(data: bytes) -> dict:
    """Apply an uploaded upgrade backup file to this (restored) database, all or nothing. Raises
    ImportFileError for a file that is not one, JobFailed (0005E) for contradicting pairs."""
    from integrations.models import Integration

    document = _read(data)
    names = dict(Integration.objects.values_list("pk", "name"))
    counts = {"pairs_added": 0, "pairs_updated": 0, "watermarks_moved": 0, "integrations_missing": []}
    conflicts: list[str] = []
    with transaction.atomic():  # the conflict raised below rolls back what was applied
        for entry in document["integrations"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
                raise ImportFileError("An integration of the file has no id.")
            if entry["id"] not in names:
                counts["integrations_missing"].append(entry.get("name") or str(entry["id"]))
                continue
            pairs, marks = entry.get("pairs") or [], entry.get("watermarks") or []
            if not isinstance(pairs, list) or not isinstance(marks, list):
                raise ImportFileError(f"Integration {entry['id']}: pairs and watermarks must be lists.")
            conflicts += _apply_pairs(entry["id"], names[entry["id"]], pairs, counts)
            _apply_watermarks(entry["id"], marks, counts)
        if conflicts:
            shown = ", ".join(conflicts[:10]) + (
                f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
            )
            raise JobFailed(
                CONFLICT,
                f"{len(conflicts)} pairs of the file conflict with associations this Hub has: {shown}. "
                "Nothing was applied.",
            )
    return counts
