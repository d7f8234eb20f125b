"""Rows per second of the database transfer (Storage Settings) from the embedded SQLite database
to PostgreSQL or MariaDB.

    PYTHONPATH=$PWD .venv/bin/python bench/transfer.py [--activities 1000000] [--pairs 1000000] \
        [--target postgres://postgres@127.0.0.1:5432/hub_bench_transfer] [--batch-size 1000]

Fills a fresh SQLite Hub with the given numbers of completed activities and artifact pairs, then
runs the transfer job itself (``settings_app.transfer.DatabaseTransfer``) into the target database,
which is dropped and created first, and prints the migrate time, the copy time and rows per second.
The switch-over file is written into the bench's throw-away HUB_HOME, never into yours.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup_django  # noqa: E402


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--target", default="postgres://postgres@127.0.0.1:5432/hub_bench_transfer")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the job to FILE")
    return parser.parse_args()


def _recreate(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    if url.startswith("postgres"):
        import psycopg2

        admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
        admin.autocommit = True
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
    else:
        import MySQLdb

        admin = MySQLdb.connect(host="127.0.0.1", user="root")
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    admin.close()


def _multiply(model, template, count: int, varying: dict[str, str]) -> None:
    """``count`` copies of the ``template`` row, made by SQLite itself (one ``INSERT … SELECT`` over
    a recursive counter ``n``): the columns in ``varying`` take the SQL expression given, the others
    the template's value. Building 2 M model instances for ``bulk_create`` took longer than the
    transfer it prepares."""
    from django.db import connection

    columns = [
        field.column
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    ]
    chosen = ", ".join(varying.get(column, f'"{column}"') for column in columns)
    quoted = ", ".join(f'"{column}"' for column in columns)
    table = model._meta.db_table
    statement = (
        f'INSERT INTO "{table}" ({quoted}) WITH RECURSIVE counter(n) AS '  # noqa: S608 - bench-made names
        f"(SELECT %s UNION ALL SELECT n + 1 FROM counter WHERE n < %s) "
        f'SELECT {chosen} FROM counter, "{table}" WHERE "{table}".id = %s'
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [1, count - 1, template.pk])


def _fill(activities: int, pairs: int) -> None:
    """Completed activities and artifact pairs of one integration, as the engine writes them."""
    from activity.models import ArtifactActivity, ArtifactPair

    if pairs:
        template = ArtifactPair.objects.create(
            integration_id=1, a_artifact_id="0", b_artifact_id="0", a_snapshot={"title": "T0"}
        )
        _multiply(
            ArtifactPair,
            template,
            pairs,
            {
                "a_artifact_id": "CAST(n AS TEXT)",
                "b_artifact_id": "CAST(n AS TEXT)",
                "a_snapshot": "json_object('title', 'T' || n)",
            },
        )
    if activities:
        template = ArtifactActivity.objects.create(
            integration_id=1,
            source_side="a",
            artifact_id="0",
            status=ArtifactActivity.Status.COMPLETED,
            changed_fields={"title": {"original": "T0", "new": "U0"}},
        )
        _multiply(
            ArtifactActivity,
            template,
            activities,
            {
                "artifact_id": "CAST(n AS TEXT)",
                "changed_fields": "json_object('title', json_object('original', 'T' || n, 'new', 'U' || n))",
            },
        )


def main() -> None:
    options = parse()
    setup_django("")
    from activity import jobs
    from activity.models import BackgroundJob
    from hub import storage, vault
    from settings_app import transfer

    vault.set_master_password("bench master password")
    started = time.monotonic()
    _fill(options.activities, options.pairs)
    filled = time.monotonic() - started
    print(f"filled {options.activities} activities + {options.pairs} pairs in {filled:.1f} s")
    _recreate(options.target)
    kind = "postgresql" if options.target.startswith("postgres") else "mysql"
    user = options.target.split("//", 1)[1].split("@", 1)[0]
    location = options.target.replace(f"{user}@", "")
    stored = storage.StorageSettings(kind, location, user)
    job = transfer.start_transfer(stored, vault.encrypt("", transfer.PENDING_CONTEXT), "bench")
    parameters = {**job.parameters, "batch_size": options.batch_size}
    BackgroundJob.objects.filter(pk=job.pk).update(parameters=parameters)
    print(f"load average before the transfer: {_load()}; peak RSS so far {_peak_rss_mib():.0f} MiB")
    started, cpu = time.monotonic(), time.process_time()
    if options.profile:
        import cProfile

        profiler = cProfile.Profile()
        job = profiler.runcall(jobs.execute, job.pk)
        profiler.dump_stats(options.profile)
    else:
        job = jobs.execute(job.pk)
    total, cpu = time.monotonic() - started, time.process_time() - cpu
    if job.status != BackgroundJob.Status.COMPLETED:
        raise SystemExit(f"transfer failed: {job.code} {job.message}")
    rows, copy_seconds = job.details["rows"], job.details["seconds"]
    print(
        f"transfer to {kind}: {rows} rows of {job.details['tables']} tables; copy {copy_seconds:.1f} s "
        f"= {rows / copy_seconds:,.0f} rows/s ({job.details.get('cpu_seconds', 0):.1f} s CPU: "
        f"{rows / max(job.details.get('cpu_seconds', 0), 0.001):,.0f} rows per CPU second); "
        f"whole job (migrate + copy + checks) {total:.1f} s, "
        f"{cpu:.1f} s CPU in this process (the database server's is not counted)"
    )
    print(f"peak RSS of the bench process {_peak_rss_mib():.0f} MiB; load average after: {_load()}")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
