"""The identity of this Hub instance: a random id kept in ``HUB_HOME/instance-id``.

Two instances are two data directories; they may share a machine, a user and even (wrongly)
an operational database, and this id tells them apart in all three places.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from django.conf import settings


def _path() -> Path:
    return Path(settings.HUB_HOME) / "instance-id"


def instance_id() -> str:
    path = _path()
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # Written aside and linked into place, so no process ever reads a half-written id.
    candidate = uuid.uuid4().hex
    tmp = path.with_name(f"instance-id.{os.getpid()}.tmp")
    tmp.write_text(candidate)
    try:
        os.link(tmp, path)
    except FileExistsError:  # another process of this instance made it first
        return path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return candidate


def host_name() -> str:
    return socket.gethostname()
