"""The Support and Usage Report: one zip support staff download from Help → System Information.

It is streamed: members are produced one after another and written through ``zipfile`` into a
buffer that is emptied after every chunk, so a month of large logs never sits in memory. Nothing
in it is a secret — configuration comes from the same snapshots the export uses (secrets are
never part of one), repository settings are listed by name, and the logs were redacted when they
were written.
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

DEFAULT_LOG_DAYS = 14  # what the daily log rotation keeps (hub.logconfig)
MAX_LOG_DAYS = 366
CHUNK = 1024 * 1024
ENVIRONMENT_NAME_LENGTH = 80


def environment_part(name: str) -> str:
    """The environment name as the file name carries it: spaces become dashes, then the first 80
    letters, digits, ``_`` or ``-`` are kept."""
    return "".join(re.findall(r"[A-Za-z0-9_-]", name.replace(" ", "-")))[:ENVIRONMENT_NAME_LENGTH]


def file_name(environment_name: str, now: datetime) -> str:
    parts = ["hub-state", environment_part(environment_name), now.strftime("%Y%m%d"), now.strftime("%H%M%S")]
    return "-".join(part for part in parts if part) + ".zip"


def safe_member_name(label: str) -> str:
    """A configured label as a file name inside the zip: no folders, nothing a shell would trip on."""
    cleaned = re.sub(r"[^\w .-]", "_", label).strip(" .") or "unnamed"
    return cleaned[:120]


def _json(value) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).encode()


# --- the members ---------------------------------------------------------------------------------

Source = bytes | Path | Callable[[], bytes]


@dataclass(frozen=True)
class Member:
    name: str
    source: Source


def thread_dump() -> bytes:
    """Every thread of this (web) process, at the moment of the download."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    out = [f"Thread dump of process {__import__('os').getpid()} at {timezone.now().isoformat()}\n"]
    for ident, frame in sys._current_frames().items():
        out.append(f'\n"{names.get(ident, "unknown")}" (ident {ident})\n')
        out.extend(traceback.format_stack(frame))
    return "".join(out).encode()


def log_files(days: int, now: float | None = None) -> list[Path]:
    """Files of the logs folder written to within the last ``days`` days, oldest first."""
    cutoff = (now or time.time()) - days * 86400
    logs = Path(settings.HUB.logs_dir)
    found = (
        [p for p in logs.iterdir() if p.is_file() and p.stat().st_mtime >= cutoff] if logs.is_dir() else []
    )
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def crash_reports() -> list[Path]:
    """Tracebacks ``faulthandler`` wrote when a worker process crashed (empty files left out)."""
    directory = crash_reports_dir()
    return sorted(p for p in directory.glob("*.log") if p.stat().st_size) if directory.is_dir() else []


def crash_reports_dir() -> Path:
    return Path(settings.HUB_HOME) / "crash-reports"


def members(days: int = DEFAULT_LOG_DAYS) -> Iterator[Member]:
    """What the zip holds, in its documented folders. Each member is computed only when written."""
    from hub import support_contents as contents

    yield Member("activity/issues.json", lambda: _json(contents.issues()))
    yield Member("configuration/configuration.json", lambda: _json(contents.configuration()))
    yield Member("configuration/hub-details.json", lambda: _json(contents.hub_details()))
    for path in crash_reports():
        yield Member(f"crash-reports/{path.name}", path)
    for path in log_files(days):
        yield Member(f"logs/{path.name}", path)
    yield Member("logs/thread-dump.log", thread_dump)
    for collection, text in contents.mappings():
        yield Member(f"mappings/{safe_member_name(collection)}.txt", text.encode())
    yield Member("metrics/metrics.json", lambda: _json(contents.metrics()))
    yield Member("metrics/change-detection-metrics.json", lambda: _json(contents.change_detection()))
    for label, metadata in contents.repository_metadata():
        yield Member(f"repository metadata/{safe_member_name(label)}.json", _json(metadata))
    for collection, schema in contents.schemas():
        yield Member(f"schemas/{safe_member_name(collection)}.json", _json(schema))
    yield Member("usage/usage-report.csv", lambda: contents.usage_report_csv())
    yield Member("usage/overview.json", lambda: _json(contents.usage_overview()))


# --- streaming -----------------------------------------------------------------------------------


class _Outbox(io.RawIOBase):
    """Where ``zipfile`` writes; not seekable, so zipfile writes data descriptors instead of going
    back to patch headers, and what it wrote can be handed on and forgotten."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream(items: Iterator[Member]) -> Iterator[bytes]:
    """The zip of ``items`` as a sequence of chunks, never more than about one chunk in memory."""
    outbox = _Outbox()
    archive = zipfile.ZipFile(outbox, "w", zipfile.ZIP_DEFLATED)
    taken_names: set[str] = set()
    for member in items:
        name = _unique(member.name, taken_names)
        info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as target:
            source = member.source
            if isinstance(source, Path):
                with source.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        target.write(chunk)
                        if data := outbox.take():
                            yield data
            else:
                target.write(source() if callable(source) else source)
        if data := outbox.take():
            yield data
    archive.close()
    yield outbox.take()


def _unique(name: str, taken: set[str]) -> str:
    """Two labels that clean to the same file name both get into the zip."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        stem, dot, extension = name.rpartition(".")
        candidate = f"{stem} ({number}){dot}{extension}" if dot else f"{name} ({number})"
    taken.add(candidate)
    return candidate


def days_of_logs(value: str | None) -> int:
    """The number of days asked for; ``ValueError`` with the reason for anything else."""
    if value in (None, ""):
        return DEFAULT_LOG_DAYS
    try:
        days = int(value)
    except ValueError:
        raise ValueError("The number of days of logs must be a whole number.") from None
    if not 1 <= days <= MAX_LOG_DAYS:
        raise ValueError(f"The number of days of logs must be between 1 and {MAX_LOG_DAYS}.")
    return days


def database_kind() -> str:
    return connection.vendor


def since(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)
