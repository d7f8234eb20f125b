"""A payload answered with 202 is processed exactly once even when the worker is killed with
SIGKILL while processing it: on PostgreSQL (or MariaDB) with Redis and real worker processes."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from activity.models import ArtifactActivity
from connectors.local.models import LocalItem
from integrations.models import GatewayPayload
from tests.engine.conftest import redis_server  # noqa: F401 - fixture
from tests.engine.workers import Processes, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("HUB_TEST_DB", "sqlite") == "sqlite",
        reason="worker processes need a server database (the suite's SQLite database is in memory)",
    ),
]


@pytest.fixture
def processes(redis_server):  # noqa: F811
    started = Processes(redis_server.url)
    yield started
    started.stop_all()


def test_a_worker_killed_while_transforming_a_payload_leaves_it_to_be_processed_exactly_once(
    gateway, processes, tmp_path
):
    answer = Client().post(
        f"/api/v1/gateway/{gateway.collection.pk}/artifacts",
        data='{"title": "Survives a crash"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {gateway.token}",
    )
    assert answer.status_code == 202
    sentinel = tmp_path / "transformed"
    processes.worker(include="tests.gateway.crash_point", env={"HUB_TEST_CRASH_SENTINEL": str(sentinel)})
    processes.beat()
    wait_for(sentinel.exists, 90, "the worker did not reach the transformation", processes)
    assert GatewayPayload.objects.get().status == "received" and not ArtifactActivity.objects.exists()

    processes.kill("worker")
    processes.worker()

    wait_for(
        lambda: ArtifactActivity.objects.filter(status="completed").exists(),
        120,
        "the payload was not processed after the restart",
        processes,
    )
    assert GatewayPayload.objects.get().status == "transformed"
    assert ArtifactActivity.objects.count() == 1
    assert LocalItem.objects.filter(summary="Survives a crash").count() == 1
