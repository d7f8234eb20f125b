"""Measures the initial stream of an Enterprise Data Stream: N local-tracker artifacts into a table
of PostgreSQL and of MariaDB, in rows per second, against a plain ``executemany`` of the same rows.

    PYTHONPATH=$PWD .venv/bin/python bench/eds.py [--items 10000] [--targets postgres,mariadb]

Hub's operational database is SQLite in a fresh data directory (the local tracker's items live
there); each target is a database of its own (``hub_bench_eds_<random>``, dropped after). For each
target:

1. *Stream*: ``eds.stream(full=True)`` of a running EDS integration over an empty table — reading the
   tracker page by page, mapping each artifact through the collection's mapping and upserting the
   rows (``INSERT … ON CONFLICT`` / ``ON DUPLICATE KEY UPDATE``), one transaction per page of 500.
2. *Limit*: the rows the stream wrote, read back, then inserted into a second table of the same
   shape with the driver's plain ``cursor.executemany`` and one commit: no reading, no mapping.
3. *Write path alone*: the same rows through Hub's ``Table.upsert`` into a third table, to tell the
   cost of writing from the cost of reading the tool.

Prints rows/s of both, their ratio (target ≥ 50 %) and the load average. No assertion: the figures go
to docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import defect_model, setup_django  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--targets", default="postgres,mariadb")
    return parser.parse_args()


def seed(items: int):
    """The Defect model (title, priority, due), the collection of alpha's DEMO, ``items`` items."""
    from connectors.local import service
    from connectors.local.models import LocalItem, LocalProject
    from hub import licensing, vault
    from integrations.models import FieldMapping, Repository
    from tests.integrations.factories import mapped_collection

    vault.set_master_password("bench master password")
    licensing.ensure_evaluation_license()
    tracker = service.tracker("alpha")
    project = LocalProject.objects.filter(tracker=tracker, key="DEMO").first() or service.create_project(
        tracker, "DEMO", "Demo"
    )
    model = defect_model(due=True)
    alpha = Repository.objects.create(label="Alpha", kind="local", url="local://alpha")
    source = mapped_collection("Alpha defects", alpha, "DEMO", model)
    FieldMapping.objects.create(
        collection=source,
        repository_fields=["due_date"],
        repository_field_types={"due_date": "date"},
        model_fields=["due"],
        model_field_types={"due": "date"},
        direction="to_model",
    )
    now = dt.datetime.now(dt.UTC)
    LocalItem.objects.bulk_create(
        [
            LocalItem(
                project=project, number=n, type="bug", summary=f"Item {n}", description="Steps " * 10,
                priority="high" if n % 3 else "low", due_date=dt.date(2026, 12, 1 + n % 28),
                created=now, updated=now - dt.timedelta(seconds=n % 600),
            )
            for n in range(1, items + 1)
        ],
        batch_size=1000,
    )  # fmt: skip
    return model, source


def target_url(engine: str, name: str) -> str:
    if engine == "postgres":
        return f"postgres://postgres@127.0.0.1:5432/{name}"
    return f"mysql://root@127.0.0.1:3306/{name}"


def measure(engine: str, model, source, items: int) -> tuple[float, float]:
    from integrations import eds
    from integrations.models import Integration, SqlCollection
    from tests.support.server import ServerDatabase

    database = ServerDatabase(engine, name=f"hub_bench_eds_{uuid.uuid4().hex[:8]}")
    database.create()
    try:
        target = SqlCollection.objects.create(
            name=f"Report {engine}",
            database_url=target_url(engine, database.name),
            table="defects",
            model=model,
        )
        integration = Integration.objects.create(
            name=f"Stream {engine}", style="enterprise_data_stream", collection_a=source,
            sql_collection=target, running=True,
        )  # fmt: skip
        eds.create_table(target)
        started, started_cpu = time.monotonic(), time.process_time()
        written = eds.stream(integration.pk, full=True)
        stream_seconds = time.monotonic() - started
        stream_cpu = time.process_time() - started_cpu
        if written != items:
            print(f"{engine}: the stream wrote {written} rows, not {items}", flush=True)
        columns = eds.columns(target)
        with eds.open_table(target) as table:
            cursor = table.connection.cursor()
            names = ", ".join(table.quote(c.name) for c in columns)
            cursor.execute(f"SELECT {names} FROM defects")  # noqa: S608 - Hub's own column names
            rows = [list(row) for row in cursor.fetchall()]
            ddl = eds.proposed_ddl(target)
            for copy in ("plain_copy", "upsert_copy"):
                cursor.execute(ddl.replace(table.quote("defects"), table.quote(copy), 1))
            table.connection.commit()
            marks = ", ".join(["%s"] * len(columns))
            started, started_cpu = time.monotonic(), time.process_time()
            cursor.executemany(f"INSERT INTO {table.quote('plain_copy')} ({names}) VALUES ({marks})", rows)  # noqa: S608
            table.connection.commit()
            plain_seconds = time.monotonic() - started
            plain_cpu = time.process_time() - started_cpu
            # Hub's write path alone (cells, upsert statement, batches), without reading the tool.
            table.table = "upsert_copy"
            keyed = [dict(zip([c.name for c in columns], row, strict=True)) for row in rows]
            started = time.monotonic()
            table.upsert(columns, keyed)
            upsert_seconds = time.monotonic() - started
        print(
            f"{engine}: CPU time of this process (the database server's not included): stream "
            f"{stream_cpu:.2f} s for {stream_seconds:.2f} s wall, plain executemany {plain_cpu:.2f} s for "
            f"{plain_seconds:.2f} s wall",
            flush=True,
        )
        return written / stream_seconds, len(rows) / plain_seconds, len(rows) / upsert_seconds
    finally:
        database.drop()


def main() -> None:
    args = arguments()
    setup_django("")
    from django.urls import reverse

    from connectors import registry

    reverse("integrations")  # a running Hub has its URLs loaded; not part of the stream's time
    registry.connector_class("local")  # nor is importing the connectors (about 0.9 s here)
    load_before = os.getloadavg()
    started = time.monotonic()
    model, source = seed(args.items)
    print(f"seeded {args.items} local items in {time.monotonic() - started:.1f} s", flush=True)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in load_before)} ({os.cpu_count()} cores)")
    for engine in args.targets.split(","):
        stream_rate, plain_rate, upsert_rate = measure(engine, model, source, args.items)
        print(
            f"{engine}: stream {stream_rate:,.0f} rows/s, plain executemany {plain_rate:,.0f} rows/s, "
            f"ratio {stream_rate / plain_rate:.0%}; Hub's upsert of the same rows alone {upsert_rate:,.0f} "
            f"rows/s ({upsert_rate / plain_rate:.0%} of executemany)",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
