"""One heartbeat table for every reader: the claim rounds, System Information, health and
``/metrics`` all read ``integrations.WorkerHeartbeat``; the migration moved metrics' rows into it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from activity.models import ArtifactActivity
from hub import workers
from integrations.engine import health as engine_health
from integrations.engine import heartbeat
from integrations.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_a_worker_node_is_listed_by_its_name_once_however_many_processes_beat_under_it():
    now = timezone.now()
    heartbeat.beat("h:1:aa", now, name="celery@h")
    heartbeat.beat("h:2:bb", now - dt.timedelta(seconds=3), name="celery@h")
    heartbeat.beat("h:3:cc", now)  # a process of no worker (a command): listed as itself
    heartbeat.beat("old:4:dd", now - workers.RECENT - dt.timedelta(seconds=1), name="celery@old")

    assert workers.seen_recently(now) == ["celery@h", "h:3:cc"]
    assert heartbeat.recent(workers.RECENT, now)["celery@h"] == now
    row = WorkerHeartbeat.objects.get(worker="h:1:aa")
    assert (row.name, row.started) == ("celery@h", now)
    heartbeat.beat("h:1:aa", now + dt.timedelta(seconds=5))  # a later beat keeps the name
    assert WorkerHeartbeat.objects.get(worker="h:1:aa").name == "celery@h"


def _processing(holder: str, claimed_ago: dt.timedelta) -> None:
    ArtifactActivity.objects.create(
        integration_id=1,
        source_side="A",
        artifact_id="7",
        status="processing",
        claimed_by=holder,
        claimed_at=timezone.now() - claimed_ago,
    )


@pytest.fixture
def work_allowed(monkeypatch):
    monkeypatch.setattr("hub.gates.integration_work_allowed", lambda: (True, ""))


def test_health_calls_activities_stuck_once_their_worker_stopped_beating_for_the_timeout(work_allowed):
    _processing("dead:1:aa", claimed_ago=heartbeat.TIMEOUT + dt.timedelta(seconds=1))
    result = engine_health.activities_can_process()
    assert result.status == "fail" and "no heartbeat" in result.reason


def test_health_leaves_a_long_batch_of_a_live_worker_alone(work_allowed):
    _processing("busy:1:aa", claimed_ago=dt.timedelta(hours=1))
    heartbeat.beat("busy:1:aa")
    assert engine_health.activities_can_process().status == "pass"


def test_health_waits_out_the_timeout_before_calling_a_fresh_claim_stuck(work_allowed):
    _processing("quiet:1:aa", claimed_ago=dt.timedelta(seconds=1))
    assert engine_health.activities_can_process().status == "pass"


BEFORE = [("integrations", "0009_creation_intent_source_values"), ("metrics", "0003_sighting_indexes")]
AFTER = [("integrations", "0010_one_worker_heartbeat"), ("metrics", "0004_heartbeat_moved")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_metrics_heartbeats_into_the_engine_table_and_back():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    old_apps = executor.loader.project_state(BEFORE).apps
    seen = timezone.now().replace(microsecond=0)
    old_apps.get_model("metrics", "WorkerHeartbeat").objects.create(
        name="celery@node1", pid=42, started=seen - dt.timedelta(hours=1), seen=seen
    )
    old_apps.get_model("integrations", "WorkerHeartbeat").objects.create(
        worker="node1:43:ab", started=seen, beat_at=seen
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    moved = WorkerHeartbeat.objects.get(name="celery@node1")
    assert (moved.worker, moved.pid, moved.beat_at) == ("celery@node1", 42, seen)
    assert WorkerHeartbeat.objects.get(worker="node1:43:ab").name == ""
    assert workers.seen_recently(seen) == ["celery@node1", "node1:43:ab"]

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    back = executor.loader.project_state(BEFORE).apps.get_model("metrics", "WorkerHeartbeat")
    assert list(back.objects.values_list("name", "pid", "seen")) == [("celery@node1", 42, seen)]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
