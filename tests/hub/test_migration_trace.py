"""``logs/migration-event-trace.log``: written while migrations run, and only then. One test (a
transactional one: each costs a database flush)."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.migrations.migration import Migration

pytestmark = pytest.mark.django_db(transaction=True)


def trace_text() -> str:
    for handler in logging.getLogger("hub.migration_events").handlers:
        handler.flush()
    path = settings.HUB.logs_dir / "migration-event-trace.log"
    return path.read_text() if path.exists() else ""


def migrate(*target: str) -> None:
    call_command("migrate", *target, interactive=False, verbosity=0)


def test_runs_that_change_the_schema_are_traced_step_by_step_failures_with_their_traceback(monkeypatch):
    before = trace_text()
    migrate("metrics", "0003")
    migrate()
    written = trace_text()[len(before) :]
    lines = written.splitlines()
    assert "Migration run started (backwards)." in lines[0]
    assert "Unapplying metrics.0004_heartbeat_moved done in" in written
    assert "Migration run started (forwards)." in written
    assert "Applying metrics.0004_heartbeat_moved done in" in written
    unapplied = sum(1 for line in lines if "Unapplying" in line and " done in " in line)
    assert unapplied >= 1 and f"finished: {unapplied} migration(s) in" in lines[-1]

    migrate()  # nothing to do: nothing written
    assert trace_text()[len(before) :] == written

    migrate("metrics", "0003")
    real = Migration.apply

    def broken(self, *args, **kwargs):
        if self.name == "0004_heartbeat_moved":
            raise RuntimeError("disk full (test)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Migration, "apply", broken)
    with pytest.raises(RuntimeError):
        migrate()
    monkeypatch.undo()
    migrate()
    failed = trace_text()[len(before) + len(written) :]
    assert "Migration run on database 'default' failed." in failed
    assert "RuntimeError: disk full (test)" in failed
    assert f"finished: {unapplied} migration(s) in" in failed.splitlines()[-1]
