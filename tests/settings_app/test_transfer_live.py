"""A running embedded Hub (web, worker, beat) moved to PostgreSQL by the transfer job its own worker
runs: runhub restarts every process on the new database and Hub answers from there."""

import json
import os
import time

import pytest

from tests.support.live import manage, start_live_hub
from tests.support.server import ServerDatabase

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("HUB_TEST_DB", "sqlite") != "sqlite", reason="a transfer from SQLite needs SQLite"
    ),
]

ENQUEUE = """
from hub import storage, vault
from settings_app import transfer
stored = storage.StorageSettings("postgresql", "postgres://127.0.0.1:5432/{name}", "postgres")
job = transfer.start_transfer(stored, vault.encrypt("", transfer.PENDING_CONTEXT), "live test")
print(job.pk)
"""


def test_a_running_embedded_hub_moves_to_postgresql_and_runs_there(tmp_path):
    source, target = ServerDatabase("sqlite"), ServerDatabase("postgres")
    target.create()
    live = start_live_hub(tmp_path / "home", source)
    try:
        manage(live.environment, "shell", "-c", ENQUEUE.format(name=target.name))  # the worker runs it
        deadline = time.monotonic() + 240
        while live.server.log().count("Hub is running: https") < 2:
            assert live.server.process.poll() is None, live.server.log()[-4000:]
            assert time.monotonic() < deadline, live.server.log()[-4000:]
            time.sleep(0.5)
        assert "restarts its processes" in live.server.log()
        status, body = live.server.get("/api/health")
        check = json.loads(body)["checks"]["databaseIsAvailable"]
        assert check["status"] == "pass" and "postgresql" in check["reason"], body
        assert (live.server.home / "database.json").exists()
    finally:
        live.server.stop()
        target.drop()
