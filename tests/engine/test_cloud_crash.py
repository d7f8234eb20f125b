"""A real worker killed with SIGKILL between the remote create in a cloud tool (its fake, on
loopback) and the pair record: the restarted worker finds the twin by its creation marker, so
every local item ends with exactly one twin in the tool. PostgreSQL (or MariaDB) and a Redis of
the test's own, as in ``test_crash.py``."""

from __future__ import annotations

import os

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from integrations.models import CreationIntent
from tests.engine.cloud import TOOLS, integration_with
from tests.engine.sync import new_item
from tests.engine.test_crash import processes, settled  # noqa: F401 - fixtures (redis_server is in conftest)
from tests.engine.workers import wait_for

DATABASE = os.environ.get("HUB_TEST_DB", "sqlite")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(DATABASE == "sqlite", reason="crash tests need a server database"),
]


@pytest.fixture(params=sorted(TOOLS))
def tool(request):
    made = TOOLS[request.param]()
    yield made
    made.close()


def test_worker_killed_between_the_remote_create_and_the_pair_leaves_one_twin_by_marker(
    trackers,
    master_password,
    licensed,
    tool,
    processes,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    integration_with(tool, detection_interval=1)
    made = [new_item("alpha", "DEMO", f"Item {n}").pk for n in range(3)]
    sentinel = tmp_path / "twin-created"
    connector = f"{tool.connector_class.__module__}:{tool.connector_class.__name__}"
    processes.worker(
        include="tests.engine.cloud_crash_point",
        env={"HUB_TEST_CRASH_SENTINEL": str(sentinel), "HUB_TEST_CRASH_CONNECTOR": connector},
    )
    processes.beat()
    wait_for(sentinel.exists, 90, "the worker did not reach the remote create", processes)
    twin = sentinel.read_text()
    # The batch's intents are committed before any remote create; the twin carries its one's marker.
    [intent] = CreationIntent.objects.filter(marker=tool.read(twin).marker)
    assert not ArtifactPair.objects.exists()  # the twin exists in the tool, nothing records it yet

    processes.kill("worker")
    processes.worker()

    wait_for(
        lambda: ArtifactPair.objects.count() == 3 and settled(), 180, "not every item got its twin", processes
    )
    assert len(tool.ids()) == 3  # no duplicate
    assert sorted(tool.read(i).title for i in tool.ids()) == ["Item 0", "Item 1", "Item 2"]
    pair = ArtifactPair.objects.get(a_artifact_id=intent.source_artifact_id)
    assert pair.b_artifact_id == twin
    rows = ArtifactActivity.objects.filter(source_side="A", artifact_id=intent.source_artifact_id)
    assert [a.result for a in rows.filter(status="completed")] == ["associated"]
    assert len(made) == 3 and not CreationIntent.objects.exists()
