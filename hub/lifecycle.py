"""Where the running instance is in its life: starting, running or stopping.

``runhub`` writes the state to ``HUB_HOME/run/state``; health reads it. Processes started some
other way (systemd units running gunicorn directly) leave no state, which reads as running:
the process that answers is up.

While Hub starts, ``StartingMiddleware`` answers every page and API call with 503 and
CCRRTT-30019E (the database may still be migrating), or CCRRTT-16002W once the start has taken
longer than ``SLOW_START_SECONDS``; ``/api/health`` keeps answering, since ``runhub`` waits on it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

STARTING, RUNNING, STOPPING = "starting", "running", "stopping"
STARTING_CODE = "CCRRTT-30019E"
SLOW_START_CODE = "CCRRTT-16002W"
STOPPED_CODE = "CCRRTT-30008E"
SLOW_START_SECONDS = 120  # a start (migrations included) normally takes seconds
RETRY_AFTER_SECONDS = 5


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


def starting_for() -> float | None:
    """Seconds since this start began, or None when Hub is not starting."""
    path = _path()
    try:
        if path.read_text().strip() != STARTING:
            return None
        return max(0.0, time.time() - path.stat().st_mtime)
    except OSError:
        return None


def starting_message(seconds: float) -> tuple[str, str]:
    """(code, message) for a start that has lasted ``seconds``."""
    if seconds > SLOW_START_SECONDS:
        return SLOW_START_CODE, slow_start_message(seconds)
    return STARTING_CODE, "Hub is starting up and cannot answer yet; try again in a few seconds."


def slow_start_message(seconds: float) -> str:
    return (
        f"Hub's services are taking longer than expected to start ({int(seconds)} s so far). "
        "This clears by itself when they are up; see logs/hub.log for what they are doing."
    )


def stopped_message(process: str, exit_code: int | None) -> str:
    return (
        f"{STOPPED_CODE}: Hub is stopped: its {process} process ended unexpectedly (exit code {exit_code}). "
        "See the messages above and logs/hub.log, correct the cause, then start Hub again."
    )


_EXEMPT = ("/api/health",)


class StartingMiddleware:
    """Answer 503 with 30019E (or 16002W) while Hub starts: nothing may use a database that is
    still being migrated. It runs before sessions and authentication for that reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(_EXEMPT) or request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return self.get_response(request)
        seconds = starting_for()
        if seconds is None:
            return self.get_response(request)
        code, message = starting_message(seconds)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        from hub import api

        if api.is_api(request):
            return api.error_response(503, f"{code}: {message}", code=code, headers=headers)
        page = render_to_string("hub/starting.html", {"code": code, "message": message})
        return HttpResponse(page, status=503, headers=headers)
