"""Crash safety and shared work on PostgreSQL (or MariaDB) with Redis: workers killed with SIGKILL —
at random points and exactly between the remote create and the pair record —, the broker stopped
and restarted, two workers sharing one queue: every item ends with exactly one twin with the right
values, and nothing is processed twice."""

import os

import pytest
from django.db.models import Count, Sum

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local import service
from connectors.local.models import LocalItem, LocalProject
from integrations.models import CreationIntent
from tests.engine.workers import Processes, wait_for

DATABASE = os.environ.get("HUB_TEST_DB", "sqlite")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Real worker processes need a server database (the suite's SQLite database is in memory).
    pytest.mark.skipif(DATABASE == "sqlite", reason="crash tests need a server database"),
]
# The issue asks for crash safety on PostgreSQL + Redis; the PostgreSQL stage of .ci/run runs the long
# ones (about ten minutes together), the MariaDB stage only the short targeted kill.
long_run = pytest.mark.skipif(DATABASE != "postgres", reason="long crash tests run on PostgreSQL")


@pytest.fixture
def processes(redis_server):
    started = Processes(redis_server.url)
    yield started
    started.stop_all()


def make_items(count: int) -> list[int]:
    tracker = service.tracker("alpha")
    project = LocalProject.objects.get(tracker=tracker, key="DEMO")
    reporter = service.hub_user(tracker)
    return [
        service.create_item(project, "bug", {"summary": f"Item {n}"}, reporter=reporter).pk
        for n in range(count)
    ]


def pairs() -> int:
    return ArtifactPair.objects.count()


def assert_exactly_one_right_twin_each(ids: list[int]) -> None:
    beta = LocalItem.objects.filter(project__tracker__name="beta")
    assert beta.count() == len(ids)
    assert not beta.values("creation_marker").annotate(n=Count("id")).filter(n__gt=1).exists()
    twins = dict(ArtifactPair.objects.values_list("a_artifact_id", "b_artifact_id"))
    summaries = dict(beta.values_list("id", "summary"))
    for pk in ids:
        source = LocalItem.objects.get(pk=pk)
        assert summaries[int(twins[str(pk)])] == source.summary


@pytest.fixture
def fast(running):
    running.detection_interval = 1
    running.save()
    return running


def settled() -> bool:
    """No activity waiting, in progress or failed (a failed one would be retried)."""
    return not ArtifactActivity.objects.filter(status__in=["pending", "processing", "failed"]).exists()


def test_worker_killed_between_the_remote_create_and_the_pair_record_leaves_one_twin_each(
    fast, processes, tmp_path
):
    ids = make_items(3)
    sentinel = tmp_path / "twin-created"
    # tests/engine/crash_point.py hangs this worker right after its first remote create.
    processes.worker(include="tests.engine.crash_point", env={"HUB_TEST_CRASH_SENTINEL": str(sentinel)})
    processes.beat()
    wait_for(sentinel.exists, 60, "the worker did not reach the remote create", processes)
    made = [int(pk) for pk in sentinel.read_text().split(",")]
    twins = LocalItem.objects.filter(pk__in=made, project__tracker__name="beta")
    intents = {intent.source_artifact_id: intent for intent in CreationIntent.objects.all()}
    assert len(made) == len(intents) >= 1
    assert set(twins.values_list("creation_marker", flat=True)) == {i.marker for i in intents.values()}
    assert not ArtifactPair.objects.exists()  # the twins exist, nothing records them yet
    # A change made while the worker hangs, dies and restarts must arrive too (invariant 1).
    changed = next(iter(intents))
    service.update_item(int(changed), {"summary": "Changed during the crash"})

    processes.kill("worker")
    processes.worker()

    wait_for(lambda: pairs() == len(ids) and settled(), 120, "not every item got its twin", processes)
    assert_exactly_one_right_twin_each(ids)
    # The twins made before the kill, found by their markers; the killed claims went back to the
    # queue or gave way to newer rows detection made meanwhile (its overlap re-reads the items).
    for source, intent in intents.items():
        pair = ArtifactPair.objects.get(a_artifact_id=source)
        assert LocalItem.objects.get(pk=int(pair.b_artifact_id)).creation_marker == intent.marker
        rows = ArtifactActivity.objects.filter(source_side="A", artifact_id=source)
        assert [a.result for a in rows.filter(status="completed")] == ["associated"]
        assert set(rows.exclude(status="completed").values_list("status", flat=True)) <= {"cancelled"}
    pair = ArtifactPair.objects.get(a_artifact_id=changed)
    assert LocalItem.objects.get(pk=int(pair.b_artifact_id)).summary == "Changed during the crash"
    assert ArtifactActivity.objects.filter(source_side="A", result="created").count() == len(ids) - len(made)
    assert not CreationIntent.objects.exists()


@long_run
def test_workers_killed_mid_run_and_a_broker_restart_leave_exactly_one_twin_each(
    fast, processes, redis_server
):
    ids = make_items(1000)
    processes.beat()
    processes.worker()
    for step in range(1, 5):
        wait_for(lambda s=step: pairs() >= s * 180, 240, f"not {step * 180} pairs", processes)
        processes.kill("worker")  # SIGKILL: wherever it was, even between create and pair
        processes.worker()
    wait_for(lambda: pairs() >= 800, 240, "not 800 pairs", processes)
    redis_server.stop()
    redis_server.start()
    wait_for(lambda: pairs() == len(ids), 300, "not every item got its twin", processes)
    wait_for(
        lambda: not ArtifactActivity.objects.filter(status__in=["pending", "processing"]).exists(),
        120,
        "activities left",
        processes,
    )
    assert_exactly_one_right_twin_each(ids)
    assert not ArtifactActivity.objects.filter(status="failed").exists()


@long_run
def test_two_workers_share_5000_activities_without_processing_any_twice(fast, processes):
    ids = make_items(5000)
    processes.beat()
    processes.worker("worker")
    processes.worker("worker2")
    wait_for(lambda: pairs() == len(ids), 900, "not every item got its twin", processes)
    assert_exactly_one_right_twin_each(ids)
    completed = ArtifactActivity.objects.filter(status="completed")
    assert completed.count() == len(ids)
    # One remote write per item: a create in beta (revision 1), nothing written back to alpha.
    assert LocalItem.objects.filter(project__tracker__name="beta").aggregate(s=Sum("revision"))["s"] == len(
        ids
    )
    assert LocalItem.objects.filter(project__tracker__name="alpha").aggregate(s=Sum("revision"))["s"] == len(
        ids
    )
    assert len(set(completed.values_list("claimed_by", flat=True))) == 2  # both workers took part


def killed_processes(rows) -> set[int]:
    """The pids a set of claims names (``host:pid:nonce``)."""
    return {int(holder.split(":")[1]) for holder in rows.values_list("claimed_by", flat=True)}


@pytest.mark.parametrize("what_dies", ["pool child", "parent and pool child"])
def test_claims_of_a_killed_prefork_worker_are_recovered_within_30_seconds(
    fast, processes, tmp_path, what_dies
):
    """The production shape (``--pool prefork``): the claims are held by a pool child. Whatever is
    killed, the claims come back once its heartbeat has stopped for ``heartbeat.TIMEOUT``, and the
    twins made before the kill are found by their markers."""
    import signal
    import time

    ids = make_items(3)
    sentinel = tmp_path / "twin-created"
    worker = processes.worker(
        concurrency=2, include="tests.engine.crash_point", env={"HUB_TEST_CRASH_SENTINEL": str(sentinel)}
    )
    processes.beat()
    wait_for(sentinel.exists, 90, "the worker did not reach the remote create", processes)
    claimed = ArtifactActivity.objects.filter(status="processing")
    child = int(sentinel.with_name(sentinel.name + ".pid").read_text())  # the pool child that hangs
    assert child in killed_processes(claimed)
    assert child != worker.pid  # a pool child holds the claims, not the process systemd started

    os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    if what_dies == "parent and pool child":
        processes.kill("worker")
        processes.worker("worker2", concurrency=2)

    wait_for(
        lambda: not claimed.filter(claimed_by__contains=f":{child}:").exists(),
        45,
        "the killed child's claims were not released",
        processes,
    )
    recovery = time.monotonic() - killed_at
    print(f"\n{what_dies} killed: claims released after {recovery:.1f} s")  # noqa: T201 - the figure
    assert recovery <= 30
    wait_for(lambda: pairs() == len(ids) and settled(), 120, "not every item got its twin", processes)
    assert_exactly_one_right_twin_each(ids)
    assert not CreationIntent.objects.exists()
