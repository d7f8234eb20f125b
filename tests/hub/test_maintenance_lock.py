"""A second instance cannot run while the first upgrades the database: a start that finds the
schema-migration lock taken says CCRRTT-30011E, waits, and goes on once the lock is free (with
nothing left to migrate), or stops with the same code, never a traceback, when the wait runs out.
On SQLite the lock is a file lock in HUB_HOME/run, on PostgreSQL and MariaDB a session lock of the
server, so this module runs on every engine."""

import logging

import pytest
from django.db import connection, connections

from hub import firststart, maintenance
from hub.config import StartupError

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]


class AnotherInstance:
    """The schema-migration lock as another Hub process holds it while it migrates."""

    def __init__(self):
        if connection.vendor == "sqlite":
            self.lock = maintenance._FileLock(maintenance.lock_file())  # its own open file: its own flock
            self.other = None
        else:
            self.other = connections.create_connection("default")
            self.lock = maintenance._ServerLock(self.other)
        assert self.lock.try_acquire()

    def finish(self) -> None:
        self.lock.release()
        if self.other is not None:
            self.other.close()


@pytest.fixture
def migrations_run(monkeypatch):
    runs = []
    monkeypatch.setattr(firststart, "pending_migrations", lambda: (120, 0))
    monkeypatch.setattr(firststart, "call_command", lambda *args, **kwargs: runs.append(args))
    return runs


@pytest.fixture
def home(settings, tmp_path):
    settings.HUB_HOME = tmp_path
    return tmp_path


def test_a_start_while_another_instance_migrates_waits_with_30011E_then_goes_on(home, migrations_run):
    first = AnotherInstance()
    said = []

    def say(message, level=logging.INFO):
        said.append((level, message))
        if level == logging.WARNING:
            first.finish()  # the first instance finishes its upgrade while this one waits

    firststart.migrate(say)

    assert said[0][0] == logging.WARNING and said[0][1].startswith(
        "CCRRTT-30011E – The database is locked for maintenance and cannot currently be used."
    )
    assert "no longer locked" in said[-1][1]
    assert migrations_run == [("migrate",)]
    # It let go of the lock: the next start takes it without waiting.
    AnotherInstance().finish()


def test_a_start_that_waits_too_long_stops_with_30011E_and_migrates_nothing(home, migrations_run, settings):
    settings.HUB_MAINTENANCE_WAIT_SECONDS = 0.2
    first = AnotherInstance()
    try:
        with pytest.raises(StartupError) as stopped:
            firststart.migrate(lambda *args: None)
    finally:
        first.finish()
    assert str(stopped.value).startswith("CCRRTT-30011E – The database is locked for maintenance")
    assert "cannot run while the first upgrades the database" in str(stopped.value)
    assert migrations_run == []


def test_a_free_lock_is_taken_at_once_and_released_after_migrating(home, migrations_run):
    said = []
    firststart.migrate(lambda message, level=logging.INFO: said.append(message))
    assert said == [] and migrations_run == [("migrate",)]
    AnotherInstance().finish()


def test_the_lock_is_released_when_the_migration_fails(home, monkeypatch):
    monkeypatch.setattr(firststart, "pending_migrations", lambda: (120, 3))

    def broken(*args, **kwargs):
        raise RuntimeError("a migration failed")

    monkeypatch.setattr(firststart, "call_command", broken)
    with pytest.raises(RuntimeError):
        firststart.migrate()
    AnotherInstance().finish()



@pytest.mark.mariadb
def test_two_hubs_with_their_own_databases_on_one_mariadb_server_do_not_wait_for_each_other(
    home, migrations_run
):
    """MariaDB's named locks belong to the server, not to a database: the lock's name carries the
    database's, so another Hub migrating its own database on the same server does not hold this
    one's start. (PostgreSQL's advisory locks are per database already.)"""
    if connection.vendor != "mysql":
        pytest.skip("MariaDB's server-wide named locks only")
    name = f"{connection.settings_dict['NAME']}_another_hub"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    another = connections.create_connection("default")
    another.settings_dict = {**another.settings_dict, "NAME": name}
    try:
        other_hub = maintenance._ServerLock(another)
        assert other_hub.try_acquire()
        said = []
        firststart.migrate(lambda message, level=logging.INFO: said.append(message))
        assert said == [] and migrations_run == [("migrate",)]
        other_hub.release()
    finally:
        another.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE `{name}`")


def test_a_long_database_name_still_gives_a_lock_name_mariadb_takes():
    long_names = {maintenance.server_lock_name(letter * 80) for letter in "xy"}
    assert len(long_names) == 2 and all(len(name) <= 64 for name in long_names)
