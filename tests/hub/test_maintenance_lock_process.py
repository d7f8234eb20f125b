"""A second Hub instance, a real ``runhub`` process, started while another holds the schema-migration
lock (the first instance upgrading the database): it says CCRRTT-30011E on its console and
migrates nothing until the lock is free, then goes on. The lock holder here is this test process,
which is another process for ``flock`` just as the first instance would be. The in-process
behaviour on every engine is in test_maintenance_lock.py; this one is about the real start, so it
runs once, on the embedded database (the lock is a file in HUB_HOME/run)."""

import fcntl
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.support.server import REPO, HubServer, free_port, processes_of

pytestmark = pytest.mark.slow
DEADLINE = 90.0  # a loaded 2-core machine imports Django slowly; polled, not slept


def wait_for(server: HubServer, text: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while text not in server.log():
        assert server.process.poll() is None, (
            f"runhub exited with {server.process.returncode}:\n{server.log()[-3000:]}"
        )
        assert time.monotonic() < deadline, f"no {text!r} within {DEADLINE:g} s:\n{server.log()[-3000:]}"
        time.sleep(0.2)


def migrated_tables(home) -> int:
    database = home / "hub.sqlite3"
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'django_migrations'"
        ).fetchone()[0]


def test_a_second_instance_started_during_an_upgrade_waits_with_30011E_then_goes_on(tmp_path):
    home = tmp_path / "hub-home"
    (home / "run").mkdir(parents=True)
    lock = (home / "run" / "schema-migration.lock").open("a+")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the first instance, migrating
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_", "PYTEST"))}
    environment.update(
        HUB_HOME=str(home),
        HUB_SERVER_ADDRESS="127.0.0.1",
        HUB_SERVER_PORT=str(free_port()),
        HUB_SERVER_REDIRECT_PORT=str(free_port()),
        HUB_DATABASE_URL="",
    )
    log_path = home / "runhub.out"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runhub"],
        cwd=REPO,
        env=environment,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = HubServer(home, 0, 0, process, log_path, None)
    try:
        wait_for(
            server, "CCRRTT-30011E – The database is locked for maintenance and cannot currently be used."
        )
        assert "Another Hub instance is migrating the database" in server.log()
        assert migrated_tables(home) == 0  # it touched no schema while the other one migrates
        assert "Traceback" not in server.log()

        lock.close()  # the first instance has finished its upgrade

        wait_for(server, "The database is no longer locked for maintenance; this instance goes on.")
    finally:
        lock.close()
        server.stop(timeout=30)
    assert processes_of(home) == []  # stopped before it started web, worker and beat
