"""The schema-migration lock: one Hub instance upgrades the database at a time.

The first start after an upgrade migrates the operational database (``firststart.migrate``). A
second instance started on the same database meanwhile must neither run the same migrations nor
start on a half-migrated schema: it sees **CCRRTT-30011E** ("The database is locked for maintenance
and cannot currently be used") on its console, waits for the lock, and goes on once the first one
has finished (by then nothing is left to migrate, and the instance lease, 30012E, decides which of
the two runs). If the lock is not free within ``HUB_MAINTENANCE_WAIT_SECONDS`` it stops with the
same code and no traceback.

The lock lives where both instances see it, without a table (the schema is what is changing):
PostgreSQL's session advisory lock, MariaDB's ``GET_LOCK``, and for the embedded SQLite database an
exclusive ``flock`` on a file in ``HUB_HOME/run`` (its instances share that data directory). All
three go when the holding process ends, so a crash mid-migration never leaves Hub locked.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from hub.config import StartupError
from hub.storage import LOCKED_CODE

LOCK_NAME = "hub-schema-migration"
ADVISORY_KEY = zlib.crc32(LOCK_NAME.encode())  # a fixed 32-bit key: PostgreSQL's advisory locks take a bigint
POLL_SECONDS = 0.5
log = logging.getLogger("hub.maintenance")
MESSAGE = f"{LOCKED_CODE} – The database is locked for maintenance and cannot currently be used."


class _Lock:
    def try_acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class _FileLock(_Lock):
    def __init__(self, path: Path):
        self.path = path
        self.file = None

    def try_acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+")  # noqa: SIM115 — held open for as long as the lock
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self.file = file
        return True

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing drops the flock
            self.file = None


class _ServerLock(_Lock):
    """A session lock on the connection the migrations use (the default alias of this thread)."""

    def __init__(self, connection):
        self.connection = connection
        if connection.vendor == "postgresql":
            self.take, self.give, self.argument = (
                "SELECT pg_try_advisory_lock(%s)",
                "SELECT pg_advisory_unlock(%s)",
                ADVISORY_KEY,
            )
        else:
            # MariaDB's named locks are the server's, not the database's (PostgreSQL's advisory
            # locks are per database): two Hubs on one server, each with its own database, must
            # not wait for each other. A name is at most 64 characters.
            self.take, self.give, self.argument = (
                "SELECT GET_LOCK(%s, 0)",
                "SELECT RELEASE_LOCK(%s)",
                server_lock_name(connection.settings_dict["NAME"]),
            )

    def try_acquire(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute(self.take, [self.argument])
            return bool(cursor.fetchone()[0])

    def release(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(self.give, [self.argument])


def server_lock_name(database: str) -> str:
    name = f"{LOCK_NAME}:{database}"
    return name if len(name) <= 64 else f"{LOCK_NAME}:{zlib.crc32(database.encode()):08x}"


def lock_file() -> Path:
    return Path(settings.HUB_HOME) / "run" / "schema-migration.lock"


def _lock(connection) -> _Lock:
    if connection.vendor in ("postgresql", "mysql"):
        return _ServerLock(connection)
    return _FileLock(lock_file())


@contextmanager
def schema_lock(
    say: Callable[..., None] | None = None, *, wait_seconds: float | None = None
) -> Iterator[None]:
    """Hold the schema-migration lock for the block; wait for it (saying 30011E) if another holds it."""
    from django.db import connection

    say = say or (lambda message, level=logging.INFO: log.log(level, message))
    wait = settings.HUB_MAINTENANCE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    lock = _lock(connection)
    deadline = time.monotonic() + wait
    told = False
    while not lock.try_acquire():
        if not told:
            say(
                f"{MESSAGE} Another Hub instance is migrating the database; this one waits for it "
                f"(up to {wait:g} s).",
                logging.WARNING,
            )
            told = True
        if time.monotonic() >= deadline:
            raise StartupError(
                f"{MESSAGE} Another Hub instance has been migrating the database for more than {wait:g} s. "
                "Start this instance again once the other one has finished its upgrade; a second instance "
                "cannot run while the first upgrades the database."
            )
        time.sleep(POLL_SECONDS)  # waiting for another process, not synchronising a test
    if told:
        say("The database is no longer locked for maintenance; this instance goes on.")
    try:
        yield
    finally:
        lock.release()
