"""Causes 1 and 8 of issue #20: the claims a dead worker left are released exactly once, by whichever
worker gets there first, however many release them at the same moment — and a live worker's are
never touched, as long as its heartbeat goes on.

The concurrent tests run real processes (forked from this one, each with its own database
connection) on the server database the suite runs on; on SQLite, writers are serialized anyway."""

import datetime as dt
import multiprocessing
import os

import pytest
from django.db import connections
from django.utils import timezone

from activity.models import ArtifactActivity
from integrations.engine import claims, detection, heartbeat, processing

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 300
CALLERS = 4
ROUNDS = 20
DEAD = "gone.example:4242:deadbeef"  # a worker that stopped beating long ago


def left_processing(integration, count: int, holder: str = DEAD, ago=dt.timedelta(minutes=11)):
    claimed_at = timezone.now() - ago
    ArtifactActivity.objects.bulk_create(
        ArtifactActivity(
            integration_id=integration.pk,
            source_side="A",
            artifact_id=str(n),
            status="processing",
            claimed_by=holder,
            claimed_at=claimed_at,
        )
        for n in range(count)
    )


def _release_at_once(barrier, results) -> None:
    """One worker's next claim round, started together with the others'."""
    connections.close_all()  # the parent's connection is not this process's
    barrier.wait(timeout=60)
    results.put(claims.release_stale())
    connections.close_all()


def release_concurrently(callers: int) -> list[int]:
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(callers), context.Queue()
    connections.close_all()
    processes = [context.Process(target=_release_at_once, args=(barrier, results)) for _ in range(callers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    return [results.get(timeout=5) for _ in processes]


@pytest.mark.skipif(
    os.environ.get("HUB_TEST_DB", "sqlite") == "sqlite", reason="concurrent writers need a server database"
)
def test_several_workers_releasing_the_same_rows_at_once_requeue_each_once_and_cancel_none(running):
    for _ in range(ROUNDS):
        ArtifactActivity.objects.all().delete()
        left_processing(running, ROWS)

        released = release_concurrently(CALLERS)

        statuses = list(ArtifactActivity.objects.values_list("status", flat=True))
        assert statuses.count("pending") == ROWS, f"cancelled: {statuses.count('cancelled')}"
        assert sum(released) == ROWS  # each row released by exactly one of them
        keys = set(ArtifactActivity.objects.values_list("waiting_key", flat=True))
        assert len(keys) == ROWS and None not in keys  # waiting again: a new change refreshes the row


def test_a_released_row_is_never_its_own_newer_change(running):
    left_processing(running, 1)
    assert claims.release_stale() == 1
    row = ArtifactActivity.objects.get()
    assert (row.status, row.claimed_by, row.waiting_key) == ("pending", "", f"{running.pk}:A:0")


def test_a_released_row_gives_way_only_to_a_different_newer_pending_row_of_its_artifact(running):
    left_processing(running, 2)
    newer = ArtifactActivity.objects.create(
        integration_id=running.pk, source_side="A", artifact_id="1", status="pending"
    )
    assert claims.release_stale() == 2
    assert ArtifactActivity.objects.get(artifact_id="0").status == "pending"
    replaced = ArtifactActivity.objects.exclude(pk=newer.pk).get(artifact_id="1")
    assert replaced.status == "cancelled"
    assert replaced.message == "Replaced by a newer change of the same artifact."
    assert ArtifactActivity.objects.get(pk=newer.pk).status == "pending"


def test_rows_of_a_worker_that_still_beats_are_kept_however_long_it_works(running):
    heartbeat.beat("busy.example:7:cafe")
    left_processing(running, 3, holder="busy.example:7:cafe", ago=dt.timedelta(hours=2))
    assert claims.release_stale() == 0
    assert set(ArtifactActivity.objects.values_list("status", flat=True)) == {"processing"}


def test_rows_of_a_worker_whose_heartbeat_stopped_are_released_after_the_timeout(running):
    heartbeat.beat("killed.example:7:cafe")
    left_processing(running, 3, holder="killed.example:7:cafe", ago=dt.timedelta(seconds=1))
    assert claims.release_stale() == 0
    assert claims.release_stale(now=timezone.now() + heartbeat.TIMEOUT + dt.timedelta(seconds=1)) == 3


def test_a_fresh_claim_of_a_worker_that_never_beat_is_kept_for_the_timeout(running):
    left_processing(running, 2, holder="old-version.example:9", ago=dt.timedelta(seconds=1))
    assert claims.release_stale() == 0
    later = timezone.now() + heartbeat.TIMEOUT + dt.timedelta(seconds=1)
    assert claims.release_stale(now=later) == 2


def test_lock_rows_of_a_dead_worker_are_released_and_a_live_ones_kept(running):
    # (SQLite's locks are rows; on PostgreSQL and MariaDB the server drops a dead connection's.)
    from integrations.models import SyncLock

    heartbeat.beat("live.example:1:aa")
    old = timezone.now() - dt.timedelta(minutes=1)
    SyncLock.objects.create(key="1:A:1", holder=f"{DEAD}:batch", acquired=old)
    SyncLock.objects.create(key="1:A:2", holder="live.example:1:aa:batch", acquired=old)
    claims.release_stale()
    assert list(SyncLock.objects.values_list("key", flat=True)) == ["1:A:2"]


def test_a_completion_by_a_worker_whose_claim_was_released_leaves_the_row_in_the_queue(running):
    """A worker taken for dead (its heartbeat timed out: cut off from the database, say) may still
    finish its batch after its rows went back to the queue. Its completion must not overwrite the
    row another worker may claim now; the pair it committed is there either way, and the row's
    retry ends as an echo (issue #20, noticed after a network cut in the scale-out test)."""
    left_processing(running, 1)
    stale = ArtifactActivity.objects.get()  # the batch's copy of its claimed row
    assert claims.release_stale() == 1
    processing.completed(stale, "updated", {})
    processing.save_completed([stale])
    row = ArtifactActivity.objects.get()
    assert (row.status, row.claimed_by, row.waiting_key) == ("pending", "", f"{running.pk}:A:0")


def test_a_completion_by_the_worker_that_holds_the_claim_is_saved(running):
    left_processing(running, 1, holder="busy.example:7:cafe", ago=dt.timedelta(seconds=1))
    mine = ArtifactActivity.objects.get()
    processing.completed(mine, "updated", {"title": {"new": "x"}})
    processing.save_completed([mine])
    row = ArtifactActivity.objects.get()
    assert (row.status, row.result, row.changed_fields) == ("completed", "updated", {"title": ["x"]})


def test_an_update_finished_after_its_claim_was_released_is_left_to_its_new_holder(running, monkeypatch):
    """The same for one pair's update, which records its pair and completion on its own (not through
    ``save_completed``): a worker taken for dead whose claim another worker took over while it was
    still writing must not complete the row under the new holder, who has it in hand."""
    from activity.models import ArtifactPair
    from connectors.local.connector import LocalConnector
    from connectors.local.models import LocalItem
    from tests.engine.sync import change, new_item, run

    item = new_item("alpha", "DEMO", "Original")
    run(running)
    twin = LocalItem.objects.get(pk=int(ArtifactPair.objects.get().b_artifact_id))
    change(item, summary="Changed")
    update_artifact = LocalConnector.update_artifact
    taken_over = "other.example:2:bb"

    def released_and_claimed_again_meanwhile(self, artifact_id, fields, **kwargs):
        ArtifactActivity.objects.filter(status="processing").update(claimed_by=taken_over)
        return update_artifact(self, artifact_id, fields, **kwargs)

    monkeypatch.setattr(LocalConnector, "update_artifact", released_and_claimed_again_meanwhile)
    detection.detect(running.pk)
    processing.process_batch(limit=100, worker="test")
    twin.refresh_from_db()
    assert twin.summary == "Changed"  # the write and the pair are there either way
    row = ArtifactActivity.objects.filter(source_side="A", artifact_id=str(item.pk)).latest("pk")
    assert (row.status, row.claimed_by) == ("processing", taken_over)


def test_a_failure_after_its_claim_was_released_is_left_to_its_new_holder(running, monkeypatch):
    """The failure path too: a worker taken for dead whose write then failed must not mark the row
    failed (and schedule it for later) while another worker has it in hand."""
    from connectors.errors import ValuesNotAccepted
    from connectors.local.connector import LocalConnector
    from tests.engine.sync import change, new_item, run

    item = new_item("alpha", "DEMO", "Original")
    run(running)
    change(item, summary="Changed")
    taken_over = "other.example:2:bb"

    def released_and_claimed_again_then_refused(self, artifact_id, fields, **kwargs):
        ArtifactActivity.objects.filter(status="processing").update(claimed_by=taken_over)
        raise ValuesNotAccepted("refused", fields={"summary": "no"})

    monkeypatch.setattr(LocalConnector, "update_artifact", released_and_claimed_again_then_refused)
    detection.detect(running.pk)
    processing.process_batch(limit=100, worker="test")
    row = ArtifactActivity.objects.filter(source_side="A", artifact_id=str(item.pk)).latest("pk")
    assert (row.status, row.claimed_by, row.code, row.retry_count) == ("processing", taken_over, "", 0)


def test_a_failure_of_a_row_still_held_is_recorded_as_before(running, monkeypatch):
    from connectors.errors import ValuesNotAccepted
    from connectors.local.connector import LocalConnector
    from tests.engine.sync import change, new_item, run

    item = new_item("alpha", "DEMO", "Original")
    run(running)
    change(item, summary="Changed")

    def refused(self, artifact_id, fields, **kwargs):
        raise ValuesNotAccepted("refused", fields={"summary": "no"})

    monkeypatch.setattr(LocalConnector, "update_artifact", refused)
    detection.detect(running.pk)
    processing.process_batch(limit=100, worker="test")
    row = ArtifactActivity.objects.filter(source_side="A", artifact_id=str(item.pk)).latest("pk")
    assert (row.status, row.claimed_by, row.code, row.retry_count) == ("failed", "", "CCRRTT-17003E", 1)


def test_nothing_to_do_after_its_claim_was_released_leaves_the_row_to_its_new_holder(running):
    """``settle`` of a "nothing to do" ending deletes the row only while this worker holds it."""
    from integrations.engine.processing import Done

    row = ArtifactActivity.objects.create(
        integration_id=running.pk,
        source_side="A",
        artifact_id="1",
        status="processing",
        claimed_by="other:1:x",
    )
    mine = ArtifactActivity.objects.get(pk=row.pk)
    mine.claimed_by = "test"
    processing.settle(mine, Done("nothing"))
    assert ArtifactActivity.objects.filter(pk=row.pk, claimed_by="other:1:x").exists()
    processing.settle(ArtifactActivity.objects.get(pk=row.pk), Done("nothing"))
    assert not ArtifactActivity.objects.filter(pk=row.pk).exists()
