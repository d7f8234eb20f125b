"""Where the running instance is in its life: starting, running or stopping.

``runhub`` writes the state to ``HUB_HOME/run/state``; health reads it. Processes started some
other way (systemd units running gunicorn directly) leave no state, which reads as running:
the process that answers is up.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

STARTING, RUNNING, STOPPING = "starting", "running", "stopping"


def _path() -> Path:
    return Path(settings.HUB.run_dir) / "state"


def write_state(state: str) -> None:
    path = _path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state)
    os.replace(tmp, path)


def read_state() -> str:
    try:
        return _path().read_text().strip() or RUNNING
    except OSError:
        return RUNNING


def clear_state() -> None:
    _path().unlink(missing_ok=True)
