"""Crash safety and shared work on PostgreSQL (or MariaDB) with Redis: workers killed with SIGKILL,
the broker stopped and restarted, two workers sharing one queue — every item ends with exactly one
twin with the right values, and nothing is processed twice."""

import os
import subprocess

import pytest
from django.db.models import Count, Sum

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local import service
from connectors.local.models import LocalItem, LocalProject
from tests.engine.workers import Processes, wait_for
from tests.support.server import free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The issue asks for crash safety on PostgreSQL + Redis; the PostgreSQL stage of .ci/run runs these
    # (about ten minutes together), the SQLite and MariaDB stages leave them to it.
    pytest.mark.skipif(
        os.environ.get("HUB_TEST_DB", "sqlite") != "postgres", reason="crash tests run on PostgreSQL"
    ),
]


class RedisServer:
    """A Redis of this test's own (the shared one is not ours to restart)."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10, "redis-server did not start")

    def answers(self) -> bool:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return result.stdout.strip() == "PONG"

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


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
