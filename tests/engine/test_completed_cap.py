"""The cap on completed activities, kept by the workers as they complete work (issue #19): each
worker process trims after about 1,000 processed activities or 60 seconds, whichever comes first,
keeps the newest N by id, removes the rest in chunks, and leaves everything else alone. A cap of 50
and 200 rows take the same path as 100,000 and a backfill's million."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity import retention
from activity.models import ArtifactActivity
from integrations.engine import claims, upkeep

pytestmark = [pytest.mark.django_db, pytest.mark.mariadb]

Status = ArtifactActivity.Status
KEPT = 50


@pytest.fixture(autouse=True)
def cap_of_50(settings, monkeypatch):
    settings.HUB_COMPLETED_ACTIVITIES_KEPT = KEPT
    monkeypatch.setattr(upkeep, "_since", {"processed": 0, "at": time.monotonic()})


def completed(count: int, tag: str = "plain", **fields) -> list[int]:
    """``count`` completed activities in one insert, their artifact ids starting with ``tag``;
    their ids, oldest first."""
    rows = [
        ArtifactActivity(
            integration_id=1,
            source_side="A",
            artifact_id=f"{tag}-{n}",
            status=Status.COMPLETED,
            result="updated",
            **fields,
        )
        for n in range(count)
    ]
    ArtifactActivity.objects.bulk_create(rows, batch_size=500)
    mine = ArtifactActivity.objects.filter(status=Status.COMPLETED, artifact_id__startswith=f"{tag}-")
    return sorted(mine.values_list("id", flat=True))


def completed_ids() -> list[int]:
    return sorted(ArtifactActivity.objects.filter(status=Status.COMPLETED).values_list("id", flat=True))


def test_the_ledger_keeps_100000_completed_activities_unless_configured_otherwise():
    from hub import settings as hub_settings

    assert hub_settings.HUB_COMPLETED_ACTIVITIES_KEPT == 100_000


def test_a_worker_trims_once_it_has_processed_about_1000_activities():
    ids = completed(200)
    assert upkeep.after_batch(upkeep.TRIM_AFTER - 1) == 0
    assert len(completed_ids()) == 200

    assert upkeep.after_batch(1) == 150
    assert completed_ids() == ids[-KEPT:]  # the newest 50 by id
    assert upkeep.after_batch(upkeep.TRIM_AFTER - 1) == 0  # counting starts again


def test_a_worker_trims_after_60_seconds_however_little_it_processed(monkeypatch):
    completed(200)
    assert upkeep.after_batch(3) == 0
    monkeypatch.setitem(upkeep._since, "at", time.monotonic() - upkeep.TRIM_EVERY - 1)
    assert upkeep.after_batch(3) == 150
    assert len(completed_ids()) == KEPT


def test_the_process_task_trims_after_its_batches(monkeypatch):
    from hub import gates
    from integrations.engine import processing, tasks
    from integrations.gateway import work

    completed(200)
    monkeypatch.setattr(gates, "integration_work_allowed", lambda: (True, ""))
    monkeypatch.setattr(processing, "process_batch", lambda limit, **_: upkeep.TRIM_AFTER)
    monkeypatch.setattr(work, "process_due", lambda limit, **_: 0)
    monkeypatch.setattr(tasks, "BUDGET", 0)
    monkeypatch.setattr(tasks.process, "delay", lambda: None)
    tasks.process()
    assert len(completed_ids()) == KEPT


def test_only_completed_activities_without_conflict_decisions_are_trimmed():
    # Older than every completed row, so a trim that ignored the status would take them first.
    for status in (Status.PENDING, Status.PROCESSING, Status.FAILED, Status.IGNORED, Status.CANCELLED):
        ArtifactActivity.objects.create(integration_id=1, source_side="B", artifact_id=status, status=status)
    decided = completed(
        5,
        "decided",
        conflict=ArtifactActivity.ConflictOutcome.A,
        conflicts=[{"field": "title", "a": "x", "b": "y", "winner": "A", "strategy": "A wins"}],
    )
    plain = completed(200)

    assert retention.trim_completed() == 150

    assert completed_ids() == sorted(decided + plain[-KEPT:])  # the conflict filter still finds all 5
    assert ArtifactActivity.objects.exclude(status=Status.COMPLETED).count() == 5


def test_trimming_removes_in_chunks_of_one_delete_each(monkeypatch):
    monkeypatch.setattr(retention, "DELETE_BATCH", 40)
    completed(200)
    with CaptureQueriesContext(connection) as queries:
        assert retention.trim_completed() == 150
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 4  # 40 + 40 + 40 + 30
    assert len(completed_ids()) == KEPT


def test_at_or_under_the_cap_nothing_is_removed():
    completed(KEPT)
    assert retention.trim_completed() == 0
    assert upkeep.trim() == 0
    assert len(completed_ids()) == KEPT


class AnotherWorker:
    """A second worker process's connection, in a thread: takes the trim lock, or trims."""

    def __init__(self, job):
        self.job, self.result, self.error = job, None, None
        self.started, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        from django.db import connection as own

        try:
            self.result = self.job(self)
        except Exception as error:  # noqa: BLE001 - reported by the test
            self.error = error
        finally:
            self.started.set()
            own.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.release.set()
        self.thread.join(30)
        assert not self.thread.is_alive() and self.error is None, self.error


def holding_the_lock(worker: AnotherWorker):
    claims.lock_many([upkeep.LOCK_KEY], "another worker")
    worker.started.set()
    worker.release.wait(30)
    claims.unlock_many([upkeep.LOCK_KEY], "another worker")


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite: one worker; its lock row is taken in-thread below"
)
def test_a_worker_leaves_the_trim_to_another_that_is_trimming_now():
    completed(200)
    with AnotherWorker(holding_the_lock) as other:
        assert other.started.wait(30)
        assert upkeep.trim() == 0
    assert len(completed_ids()) == 200
    assert upkeep.trim() == 150


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the servers' locks belong to a connection")
def test_a_worker_leaves_the_trim_to_another_that_is_trimming_now_on_sqlite():
    completed(200)
    claims.lock_many([upkeep.LOCK_KEY], "another worker")
    assert upkeep.trim() == 0
    claims.unlock_many([upkeep.LOCK_KEY], "another worker")
    assert upkeep.trim() == 150


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite serializes writers: one worker")
@pytest.mark.django_db(transaction=True)
def test_a_worker_and_beat_trimming_at_once_remove_each_row_once(monkeypatch):
    """The beat's trim takes no lock: both delete below the same bound, in small chunks here so that
    they overlap, and neither fails nor removes one of the newest 50."""
    monkeypatch.setattr(retention, "DELETE_BATCH", 10)
    ids = completed(200)
    with AnotherWorker(lambda worker: retention.trim_completed()) as beat:
        by_worker = upkeep.trim()
    assert by_worker + beat.result == 150
    assert completed_ids() == ids[-KEPT:]
