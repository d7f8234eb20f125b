"""A running embedded Hub (web, worker, beat) moved to PostgreSQL and to MariaDB by the transfer job
its own worker runs: runhub restarts every process on the new database and Hub answers from there.

The Hub holds a running integration (local trackers, DEMO ↔ WEB, detection every 5 s) that has
synchronized an item, a stopped one with thousands of artifact pairs and completed activities,
configuration history and a repository secret. After the switch the row counts of those tables
match the embedded database's, table by table; the transfer job's own comparison found no table
that differed; the secret decrypts under the same master password in a new process; and the running
integration goes on: an item made after the switch gets its twin, the first item no second one."""

import json
import os
import sqlite3
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

PAIRS = 3000  # the stopped integration's; plus as many completed activities
CHANGES = 1000  # configuration history entries
SECRET = "Live-transfer-secret-5c2a"
TWIN_DEADLINE = 240.0  # detection every 5 s, on a loaded machine; polled, not slept

SEED = """
from django.utils import timezone
from activity.models import ArtifactActivity, ArtifactPair
from connectors.local import service
from hub.models import ConfigurationChange
from integrations import services
from integrations.models import Integration, Model, ModelField, Repository
from tests.integrations.factories import mapped_collection, running_integration
alpha, beta = service.tracker("alpha"), service.tracker("beta")
for tracker, key, name in ((alpha, "DEMO", "Demo"), (alpha, "OPS", "Operations"), (beta, "WEB", "Website"),
                           (beta, "OPS", "Operations")):
    service.create_project(tracker, key, name)
model = Model.objects.create(name="Defect")
ModelField.objects.create(model=model, key="title", label="Title", type="string", required=True, position=0)
ModelField.objects.create(model=model, key="priority", label="Priority", type="single_select", position=1,
                          options=[{"id": "high", "label": "High"}, {"id": "low", "label": "Low"}])
a = Repository.objects.create(label="Alpha", kind="local", url="local://alpha", password="__SECRET__")
b = Repository.objects.create(label="Beta", kind="local", url="local://beta")
live = running_integration("Live", mapped_collection("Alpha defects", a, "DEMO", model),
                           mapped_collection("Beta defects", b, "WEB", model), "DEMO", "WEB")
live.running, live.detection_interval = False, 5
live.save()
services.start(live)
archive = running_integration("Archive", mapped_collection("Alpha operations", a, "OPS", model),
                              mapped_collection("Beta operations", b, "OPS", model), "OPS", "OPS")
services.stop(archive)
pairs = ArtifactPair.objects.bulk_create(
    ArtifactPair(integration_id=archive.pk, a_artifact_id=f"old-{n}", b_artifact_id=f"older-{n}",
                 a_summary=f"Archived item {n}") for n in range(__PAIRS__))
ArtifactActivity.objects.bulk_create(
    ArtifactActivity(integration_id=archive.pk, source_side="A", artifact_id=pair.a_artifact_id,
                     status=ArtifactActivity.Status.COMPLETED) for pair in pairs)
ConfigurationChange.objects.bulk_create(
    ConfigurationChange(source="command", action="update", element_type="Integration",
                        element_name="Archive", element_id=str(archive.pk)) for _ in range(__CHANGES__))
print(live.pk, archive.pk)
"""

ENQUEUE = """
from hub import storage, vault
from settings_app import transfer
stored = storage.StorageSettings(__KIND__, __LOCATION__, __USER__)
job = transfer.start_transfer(stored, vault.encrypt("", transfer.PENDING_CONTEXT), "live test")
print(job.pk)
"""

NEW_ITEM = """
from tests.engine.sync import new_item
new_item("alpha", "DEMO", __SUMMARY__)
"""

WEB = """
import json
from django.db import connection
from tests.engine.sync import items
print(json.dumps({"vendor": connection.vendor, "web": [item.summary for item in items("beta", "WEB")]}))
"""

STATE = """
import json
from django.db import connection
from activity.models import BackgroundJob
from integrations.models import Repository
from settings_app import transfer
job = BackgroundJob.objects.get(pk=__JOB__)
print(json.dumps({
    "vendor": connection.vendor,
    "counts": transfer.row_counts("default"),
    "status": job.status,
    "details": {key: job.details.get(key) for key in ("rows", "tables", "differing")},
    "secret": Repository.objects.get(label="Alpha").password.reveal(),
}))
"""

# Tables the running Hub writes to on its own after the copy (the jobs' rows, blockers, sessions,
# worker heartbeats; pairs and activities are compared apart): their counts may move. The instance
# lease moves with the instance: released on the embedded database when its processes stop.
MOVING = {
    "activity_artifactactivity",
    "activity_artifactpair",
    "activity_backgroundjob",
    "activity_blocker",
    "django_session",
    "integrations_workerheartbeat",
    "hub_instancelease",
}
STABLE = ("activity_artifactpair", "hub_configurationchange", "hub_masterkey", "integrations_repository")


def shell(environment: dict, script: str) -> str:
    return manage(environment, "shell", "-c", script)


def web_items(environment: dict) -> dict:
    return json.loads(shell(environment, WEB).strip().splitlines()[-1])


def wait_for_web(environment: dict, expected: list[str], vendor: str) -> None:
    deadline = time.monotonic() + TWIN_DEADLINE
    while True:
        seen = web_items(environment)
        if seen["web"] == expected:
            assert seen["vendor"] == vendor
            return
        assert len(seen["web"]) <= len(expected), seen  # never a second twin
        assert time.monotonic() < deadline, f"beta's WEB holds {seen}, not {expected}"
        time.sleep(1)


def sqlite_counts(path, tables) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - model tables
            for table in tables
        }


def external(target: ServerDatabase) -> tuple[str, str, str]:
    if target.engine == "postgres":
        return "postgresql", f"postgres://127.0.0.1:5432/{target.name}", "postgres"
    return "mysql", f"mysql://127.0.0.1:3306/{target.name}", "root"


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_a_running_embedded_hub_moves_to_an_external_database_and_runs_there(tmp_path, engine):
    source, target = ServerDatabase("sqlite"), ServerDatabase(engine)
    target.create()
    live = start_live_hub(tmp_path / "home", source)
    environment = live.environment
    vendor = {"postgres": "postgresql", "mariadb": "mysql"}[engine]
    try:
        seed = SEED.replace("__SECRET__", SECRET).replace("__PAIRS__", str(PAIRS))
        shell(environment, seed.replace("__CHANGES__", str(CHANGES)))
        shell(environment, NEW_ITEM.replace("__SUMMARY__", repr("Before the move")))
        wait_for_web(environment, ["Before the move"], "sqlite")

        kind, location, user = external(target)
        enqueue = ENQUEUE.replace("__KIND__", repr(kind)).replace("__LOCATION__", repr(location))
        job = int(
            shell(environment, enqueue.replace("__USER__", repr(user))).split()[-1]
        )  # the worker runs it
        deadline = time.monotonic() + 300
        while live.server.log().count("Hub is running: https") < 2:
            assert live.server.process.poll() is None, live.server.log()[-4000:]
            assert time.monotonic() < deadline, live.server.log()[-4000:]
            time.sleep(0.5)
        assert "restarts its processes" in live.server.log()
        status, body = live.server.get("/api/health")
        check = json.loads(body)["checks"]["databaseIsAvailable"]
        assert check["status"] == "pass" and vendor in check["reason"], body
        assert (live.server.home / "database.json").exists()
        assert SECRET not in (live.server.home / "database.json").read_text()

        # A new process (this shell) opens the external database: the copy, its counts, the secret.
        state = json.loads(shell(environment, STATE.replace("__JOB__", str(job))).strip().splitlines()[-1])
        assert state["vendor"] == vendor and state["status"] == "completed"
        assert state["secret"] == SECRET  # the vault's wrapped data key came along
        assert state["details"]["differing"] == {}, state["details"]  # the job's table-by-table check
        embedded = sqlite_counts(live.server.home / "hub.sqlite3", state["counts"])
        differing = {
            table: (embedded[table], count)
            for table, count in state["counts"].items()
            if count != embedded[table] and table not in MOVING
        }
        assert not differing  # every table the running Hub does not write to on its own
        assert {table: state["counts"][table] for table in STABLE} == {t: embedded[t] for t in STABLE}
        assert state["counts"]["activity_artifactpair"] == PAIRS + 1
        assert state["counts"]["hub_configurationchange"] >= CHANGES
        assert state["counts"]["activity_artifactactivity"] >= PAIRS

        # The running integration goes on from the external database, without a second twin.
        shell(environment, NEW_ITEM.replace("__SUMMARY__", repr("After the move")))
        wait_for_web(environment, ["Before the move", "After the move"], vendor)
    finally:
        live.server.stop()
        target.drop()
