"""End to end through real Celery processes: beat schedules detection, workers claim and process,
on the suite's database (SQLite with the filesystem broker, or PostgreSQL/MariaDB with Redis)."""

import os

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local.models import LocalItem
from tests.engine.sync import change, items, new_item
from tests.engine.workers import Processes, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The suite's SQLite database lives in memory, which another process cannot open; the embedded
    # default is covered in-process by test_sync.py. Run with HUB_TEST_DB=postgres or mariadb.
    pytest.mark.skipif(os.environ.get("HUB_TEST_DB", "sqlite") == "sqlite", reason="needs a server database"),
]


@pytest.fixture
def processes(redis_server):
    started = Processes(redis_server.url)
    yield started
    started.stop_all()


@pytest.fixture
def fast(running):
    running.detection_interval = 1
    running.save()
    return running


def twin_summary(item):
    pair = ArtifactPair.objects.filter(a_artifact_id=str(item.pk)).first()
    return pair and LocalItem.objects.get(pk=int(pair.b_artifact_id)).summary


def test_change_in_one_tracker_appears_in_the_other_within_a_detection_interval(fast, processes):
    processes.worker()
    processes.beat()
    item = new_item("alpha", "DEMO", "Made in alpha")
    wait_for(lambda: twin_summary(item) == "Made in alpha", 60, "the twin was not created", processes)
    twin = items("beta", "WEB")[0]
    change(twin, summary="Edited in beta")
    wait_for(
        lambda: LocalItem.objects.get(pk=item.pk).summary == "Edited in beta",
        120,
        "the change made in beta did not reach alpha",
        processes,
    )
    assert len(items("beta", "WEB")) == 1
    assert not ArtifactActivity.objects.filter(status="failed").exists()
    # the one heartbeat table: the worker's process beat under its Celery node name
    from hub.workers import seen_recently

    assert any(name.startswith("worker@") for name in seen_recently())


def test_changes_made_while_hub_is_stopped_arrive_when_it_starts_again(fast, processes):
    processes.worker()
    processes.beat()
    first = new_item("alpha", "DEMO", "Before the stop")
    wait_for(lambda: twin_summary(first) == "Before the stop", 60, "no twin before the stop", processes)
    processes.stop_all()
    change(first, summary="Changed while stopped")
    second = new_item("alpha", "DEMO", "Created while stopped")
    twin = items("beta", "WEB")[0]
    change(twin, priority="high")  # flows A → B only: must not arrive, nor be overwritten
    processes.worker()
    processes.beat()
    wait_for(
        lambda: (
            twin_summary(first) == "Changed while stopped" and twin_summary(second) == "Created while stopped"
        ),
        60,
        "changes made while stopped did not arrive",
        processes,
    )
    assert len(items("beta", "WEB")) == 2


def test_changes_made_while_the_worker_restarts_arrive(fast, processes):
    processes.worker()
    processes.beat()
    first, other = new_item("alpha", "DEMO", "Before the restart"), new_item("alpha", "DEMO", "Other")
    wait_for(
        lambda: twin_summary(first) == "Before the restart" and twin_summary(other) == "Other",
        60,
        "no twins before the restart",
        processes,
    )
    processes.kill("worker")  # beat keeps scheduling detection; its messages wait in the broker
    change(first, summary="Changed in alpha while the worker was down")
    pair = ArtifactPair.objects.get(a_artifact_id=str(other.pk))
    change(LocalItem.objects.get(pk=int(pair.b_artifact_id)), summary="Changed in beta while it was down")
    second = new_item("alpha", "DEMO", "Created while the worker was down")
    processes.worker()
    wait_for(
        lambda: (
            twin_summary(first) == "Changed in alpha while the worker was down"
            and twin_summary(second) == "Created while the worker was down"
            and LocalItem.objects.get(pk=other.pk).summary == "Changed in beta while it was down"
        ),
        60,
        "changes made while the worker restarted did not arrive",
        processes,
    )
    assert len(items("alpha", "DEMO")) == len(items("beta", "WEB")) == 3
