"""``celery`` as bench/sync.py --people starts it: the same worker, except that

- the integrations named "... (no foundation)" write no person sightings, so one run times the
  sync with and without the user-count data foundation on the same workers and database;
- every SQL statement the worker sends is counted (an ``execute_wrapper`` on each of its
  connections, installed when the connection opens), and the remote-control command
  ``bench_queries`` answers with the count so far and the worker's CPU seconds, so the bench can
  take the queries of each phase;
- on PostgreSQL, the CPU seconds of each of the worker's server backends are read from
  /proc/<backend>/stat just before the worker closes that connection (Celery closes them after
  every task, too quickly for the bench to sample), summed, and answered by ``bench_queries``
  too (``backend_cpu``, the connection still open included)."""

from __future__ import annotations

import os
import sys

WITHOUT = "(no foundation)"
QUERIES = [0]
CLOSED_BACKENDS = [0.0]  # CPU seconds of the backends of the connections closed so far


def counted(execute, sql, params, many, context):
    QUERIES[0] += 1  # an executemany is one statement sent, as the engine's bulk writes are
    return execute(sql, params, many, context)


def process_cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115, PTH123
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime stime


def backend_cpu(connection) -> float:
    pid = getattr(connection, "bench_backend", None)
    try:
        return process_cpu(pid) if pid else 0.0
    except OSError:
        return 0.0


def count_queries(sender, connection, **kwargs) -> None:
    """On each new connection: count its statements, and on PostgreSQL learn its backend's pid
    (through the driver's own cursor, so neither counted nor part of a transaction) and read that
    backend's CPU when the connection is closed."""
    if counted not in connection.execute_wrappers:
        connection.execute_wrappers.append(counted)
    if connection.vendor != "postgresql":
        return
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        connection.bench_backend = cursor.fetchone()[0]
    if not getattr(connection, "bench_close", False):
        close = connection._close

        def closing():
            CLOSED_BACKENDS[0] += backend_cpu(connection)
            connection.bench_backend = None
            return close()

        connection._close, connection.bench_close = closing, True


def main() -> int:
    import django

    django.setup()  # DJANGO_SETTINGS_MODULE comes from bench/sync.py's environment
    from celery.__main__ import main as celery
    from celery.worker.control import inspect_command
    from django.db import connections
    from django.db.backends.signals import connection_created

    from integrations.engine import counters

    sight_persons = counters.sight_persons

    def only_with_foundation(processor, today, batch=None) -> None:
        if not processor.integration.name.endswith(WITHOUT):
            sight_persons(processor, today, batch)

    counters.sight_persons = only_with_foundation
    connection_created.connect(count_queries)

    @inspect_command()
    def bench_queries(state) -> dict:
        times = os.times()
        open_backends = sum(backend_cpu(c) for c in connections.all(initialized_only=True))
        return {
            "queries": QUERIES[0],
            "cpu": times.user + times.system,
            "backend_cpu": CLOSED_BACKENDS[0] + open_backends,
            "pid": os.getpid(),
        }

    sys.argv[0] = "celery"
    return celery()


if __name__ == "__main__":
    sys.exit(main())
