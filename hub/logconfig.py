"""Logging: files under ``HUB_HOME/logs`` and a level that switches at run time.

The level is one of two: *normal* (INFO) and *troubleshooting* (DEBUG, for a limited time).
It is stored in ``HUB_HOME/run/log-level`` so that every process — web, workers, beat — follows
a change without restart: each looks at the file's modification time before handling a request
or a task, which costs one ``stat``.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

NORMAL = "normal"
TROUBLESHOOTING = "troubleshooting"
TROUBLESHOOTING_DURATION = timedelta(hours=2)

# Loggers with a file of their own, written by the issues that own them.
SEPARATE_LOGS = {
    "hub.extensions": "extensions.log",
    "hub.configuration_changes": "configuration-changes.log",
    "hub.deleted_pairs": "deleted-pairs.log",
    "hub.access": "access.log",
    "hub.migration_events": "migration-event-trace.log",  # only while migrations run
}


def logging_dict(logs_dir: Path, initial_level: str, line_format: str = "text") -> dict:
    """``line_format`` "json" writes every log, the separate ones too, as JSON lines."""

    def daily(filename: str, formatter: str = "standard") -> dict:
        return {
            "class": "logging.handlers.TimedRotatingFileHandler",
            "filename": str(logs_dir / filename),
            "when": "midnight",
            "backupCount": 14,
            "encoding": "utf-8",
            "utc": True,
            "formatter": formatter,
            "delay": True,
        }

    main = "json" if line_format == "json" else "standard"
    handlers = {
        "application": daily("hub.log", main),
        "console": {"class": "logging.StreamHandler", "formatter": main},
    }
    loggers = {}
    for name, filename in SEPARATE_LOGS.items():
        handler = name.rsplit(".", 1)[1]
        handlers[handler] = daily(filename, "json" if line_format == "json" else "plain")
        loggers[name] = {"handlers": [handler], "level": "INFO", "propagate": False}
    level = "DEBUG" if initial_level == TROUBLESHOOTING else "INFO"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "standard": {
                "()": "hub.logconfig.RedactingFormatter",
                "format": "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s",
            },
            "plain": {"()": "hub.logconfig.RedactingFormatter", "format": "%(asctime)s %(message)s"},
            "json": {"()": "hub.logconfig.JsonLinesFormatter"},
        },
        "filters": {"health_answers": {"()": "hub.logconfig.SkipHealthAnswers"}},
        "handlers": handlers,
        "root": {"handlers": ["application", "console"], "level": level},
        "loggers": {
            **loggers,
            # runhub prints to the console itself; its lines go to hub.log once, not twice.
            "hub.server": {"handlers": ["application"], "level": "INFO", "propagate": False},
            # Quiet by default; troubleshooting lowers the root level and these follow it.
            "django.db.backends": {"level": "INFO"},
            "axes": {"level": "WARNING"},
            # A 503 from /api/health is an answer to the monitor, not an error of the request.
            "django.request": {"filters": ["health_answers"]},
        },
    }


def _state_file() -> Path:
    from django.conf import settings

    return Path(settings.HUB.run_dir) / "log-level"


def set_level(level: str, now: datetime | None = None) -> dict:
    """Switch every Hub process to ``level``; troubleshooting lasts two hours, then falls back."""
    if level not in (NORMAL, TROUBLESHOOTING):
        raise ValueError(f"unknown logging level {level!r}")
    now = now or datetime.now(UTC)
    state = {"level": level}
    if level == TROUBLESHOOTING:
        state["until"] = (now + TROUBLESHOOTING_DURATION).isoformat()
    path = _state_file()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)
    apply_current_level(force=True)
    return state


def read_level(now: datetime | None = None) -> dict:
    """The level in force: ``{"level": ..., "until": iso or None}``; an expired window is normal."""
    now = now or datetime.now(UTC)
    try:
        state = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return {"level": NORMAL, "until": None}
    until = state.get("until")
    if state.get("level") == TROUBLESHOOTING and until:
        try:
            if datetime.fromisoformat(until) > now:
                return {"level": TROUBLESHOOTING, "until": until}
        except ValueError:
            pass
    return {"level": NORMAL, "until": None}


_seen_mtime: float | None = None
_applied_until: str | None = None


def apply_current_level(force: bool = False) -> None:
    global _seen_mtime, _applied_until
    try:
        mtime = _state_file().stat().st_mtime
    except OSError:
        mtime = None
    if not force and mtime == _seen_mtime:
        if _applied_until is None or datetime.fromisoformat(_applied_until) > datetime.now(UTC):
            return
    _seen_mtime = mtime
    state = read_level()
    _applied_until = state["until"]
    logging.getLogger().setLevel(logging.DEBUG if state["level"] == TROUBLESHOOTING else logging.INFO)


class LogLevelMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        apply_current_level()
        return self.get_response(request)


class SkipHealthAnswers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        return not (request is not None and request.path == "/api/health")


class RedactingFormatter(logging.Formatter):
    """Every log line, traceback included, with any ``scheme://user:password@`` masked: a URL
    that carries a credential (a tool's redirect, an error message) never reaches a log file."""

    def format(self, record: logging.LogRecord) -> str:
        from hub.addresses import redact

        return redact(super().format(record))


class JsonLinesFormatter(RedactingFormatter):
    """One JSON object a line (``hub.log.format=json``), for log shippers; redacted like the text."""

    def format(self, record: logging.LogRecord) -> str:
        from hub.addresses import redact

        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "process": record.process,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
