"""The backup of docs/operations.md on an external operational database, taken without stopping
Hub (row 8.24): ``pg_dump`` / ``mariadb-dump --single-transaction`` of the database while the
engine keeps detecting and creating twins, restored into a fresh database. The restored copy is
one consistent moment (every pair's twin is there; a twin whose pair was not yet committed has its
creation intent), and the engine on it goes on with exactly one twin per artifact.

The local trackers live in the operational database, so they are restored to the same moment as
Hub: this checks the database's consistency and the engine's recovery from it, not a remote tool
that kept the twins made after the backup (docs/operations.md says what that costs). The embedded
variant with HUB_HOME, safe mode and the master password file: tests/hub/test_backup_restore.py."""

import os
import subprocess
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.db.models import Count

from activity.models import ArtifactPair
from connectors.local.models import LocalItem
from integrations.models import CreationIntent
from tests.engine.conftest import running  # noqa: F401 — the fixture
from tests.engine.sync import new_item, run
from tests.hub.security_fixtures import (  # noqa: F401
    isolated_security,
    issue,
    licensed,
    signing_key,
)
from tests.integrations.factories import *  # noqa: F403
from tests.support.server import ServerDatabase

DATABASE = os.environ.get("HUB_TEST_DB", "sqlite")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    # the dump tools of a server database; the embedded variant is tests/hub/test_backup_restore.py
    pytest.mark.skipif(DATABASE == "sqlite", reason="pg_dump / mariadb-dump need a server database"),
]


def dump(name: str, path) -> None:
    """The administrator's online backup of the operational database."""
    if DATABASE == "postgres":
        command = ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-Fc", "-f", str(path), name]
        subprocess.run(command, check=True, capture_output=True)
    else:
        with open(path, "wb") as out:
            command = ["mariadb-dump", "-h", "127.0.0.1", "-uroot", "--single-transaction", name]
            subprocess.run(command, check=True, stdout=out, stderr=subprocess.PIPE)


def restore(path, into: ServerDatabase) -> None:
    into.create()
    if DATABASE == "postgres":
        command = ["pg_restore", "-h", "127.0.0.1", "-U", "postgres", "--no-owner", "-d", into.name]
        command.append(str(path))
        subprocess.run(command, check=True, capture_output=True)
    else:
        with open(path, "rb") as dumped:
            command = ["mariadb", "-h", "127.0.0.1", "-uroot", into.name]
            subprocess.run(command, check=True, stdin=dumped, capture_output=True)


@contextmanager
def on_database(name: str):
    """This process's default connection on another database of the same server (the restored
    one), then back on the suite's, which the test's teardown empties."""
    default = connections["default"]
    original = default.settings_dict["NAME"]
    default.close()
    default.settings_dict["NAME"] = name
    try:
        yield
    finally:
        default.close()
        default.settings_dict["NAME"] = original


def twins_per_artifact() -> dict[str, int]:
    return dict(
        ArtifactPair.objects.values("a_artifact_id").annotate(n=Count("id")).values_list("a_artifact_id", "n")
    )


def test_an_online_backup_restores_one_consistent_moment_and_syncs_on_without_duplicates(
    running,  # noqa: F811 — the imported fixture
    tmp_path,
):
    new_item("alpha", "DEMO", "Before the backup", priority="high")
    run(running)
    assert ArtifactPair.objects.count() == 1

    rounds, failures, stop = [], [], threading.Event()

    def hub_keeps_working():  # what a running Hub does meanwhile: new artifacts, their twins
        try:
            while not stop.is_set():
                new_item("alpha", "DEMO", f"During the backup {len(rounds)}", priority="high")
                run(running, rounds=2)
                rounds.append(time.monotonic())
        except Exception as error:  # noqa: BLE001 — reported by the test below
            failures.append(error)
        finally:
            connection.close()

    writer = threading.Thread(target=hub_keeps_working, daemon=True)
    writer.start()
    deadline = time.monotonic() + 60
    while not rounds and not failures:
        assert time.monotonic() < deadline, "the engine did not complete a round"
        time.sleep(0.05)
    started = time.monotonic()
    dump(connection.settings_dict["NAME"], tmp_path / "hub.dump")
    while not failures and not [at for at in rounds if at > started]:  # it wrote while the dump ran
        assert time.monotonic() < deadline, "the engine did not go on during the backup"
        time.sleep(0.05)
    stop.set()
    writer.join(timeout=60)
    assert not failures and not writer.is_alive(), failures
    live_pairs = ArtifactPair.objects.count()

    restored = ServerDatabase(DATABASE)
    restore(tmp_path / "hub.dump", restored)
    try:
        with on_database(restored.name):
            pairs = ArtifactPair.objects.count()
            assert 1 <= pairs < live_pairs  # the moment of the backup, not of the end
            twins = LocalItem.objects.filter(project__tracker__name="beta")
            paired = set(ArtifactPair.objects.values_list("b_artifact_id", flat=True))
            assert paired <= {str(pk) for pk in twins.values_list("pk", flat=True)}
            unpaired = twins.exclude(pk__in=[int(pk) for pk in paired]).count()
            assert unpaired <= CreationIntent.objects.count()  # a twin caught mid-create has its intent

            # Hub on the restored database: detection goes on from the restored watermarks.
            new_item("alpha", "DEMO", "After the restore", priority="high")
            run(running)
            sources = LocalItem.objects.filter(project__tracker__name="alpha")
            assert twins.count() == sources.count() == ArtifactPair.objects.count()
            assert set(twins_per_artifact().values()) == {1}
            assert not twins.values("creation_marker").annotate(n=Count("id")).filter(n__gt=1).exists()
    finally:
        restored.drop()
