"""Django's ``migrate``, which also writes ``logs/migration-event-trace.log`` while migrations run:
when the run started and what it will do, each migration applied or unapplied with its time, and
how the run ended (a failure with its traceback). A run with nothing to do writes nothing, so the
file holds only the runs that changed the schema (and the Support and Usage Report carries it)."""

from __future__ import annotations

import logging
import time

from django.core.management.commands.migrate import Command as DjangoMigrate

trace = logging.getLogger("hub.migration_events")  # hub.logconfig: migration-event-trace.log

ACTIONS = {"apply": "Applying", "unapply": "Unapplying"}


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        self._trace_started = None
        self._trace_count = 0
        database = options.get("database") or "default"
        try:
            result = super().handle(*args, **options)
        except BaseException:
            if self._trace_started is not None:
                trace.exception("Migration run on database %r failed.", database)
            raise
        if self._trace_started is not None:
            trace.info(
                "Migration run on database %r finished: %d migration(s) in %.3f s.",
                database,
                self._trace_count,
                time.monotonic() - self._trace_started,
            )
        return result

    def migration_progress_callback(self, action, migration=None, fake=False):
        kind, _, phase = action.partition("_")
        if self._trace_started is None and kind in ("apply", "unapply"):
            self._trace_started = time.monotonic()
            trace.info("Migration run started (%s).", "forwards" if kind == "apply" else "backwards")
        if kind in ("apply", "unapply"):
            name = f"{migration.app_label}.{migration.name}"
            if phase == "start":
                self._trace_step = time.monotonic()
                trace.info("%s %s%s", ACTIONS[kind], name, " (fake)" if fake else "")
            else:
                self._trace_count += 1
                trace.info("%s %s done in %.3f s", ACTIONS[kind], name, time.monotonic() - self._trace_step)
        super().migration_progress_callback(action, migration, fake)
