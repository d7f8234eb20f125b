"""Change detection alone, in-process: an initial detection over N local-tracker items, against a
plain loop that pages the same list with the same page size through the same connector (what
detection cannot go below), and against the old write path (``bulk_create`` of model instances).
Prints wall and CPU seconds of each (CPU: this process; ``--database postgres`` adds the server
backend's), so a loaded machine still gives comparable figures.

    PYTHONPATH=. python bench/detection.py --items 10000 --database postgres://postgres@127.0.0.1:5432/hub_bench_detect

Not a test: it prints figures, it asserts nothing. The database is emptied of Hub's tables first
(``migrate``); use a database of its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--database", default="", help="a database URL (empty: SQLite in a new directory)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is printed")
    return parser.parse_args()


def backend_cpu() -> float:
    """CPU seconds so far of this connection's server process (PostgreSQL), else 0."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    from bench.sync import cpu_seconds

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cpu_seconds(cursor.fetchone()[0])


def measured(work) -> tuple[float, float]:
    """Wall and CPU seconds (this process + its database backend) of ``work()``."""
    wall, cpu, server = time.monotonic(), time.process_time(), backend_cpu()
    work()
    return time.monotonic() - wall, time.process_time() - cpu + backend_cpu() - server


def old_write_path(model, common, rows, *, ignore_conflicts=False, **_):
    """How detection wrote its activities before hub.bulk: model instances and ``bulk_create``."""
    model.objects.bulk_create([model(**common, **row) for row in rows], ignore_conflicts=ignore_conflicts)
    return len(rows)


def main() -> None:
    args = arguments()
    from bench.common import setup_django

    setup_django(args.database)
    from activity.models import ArtifactActivity
    from bench.sync import configure
    from integrations.engine import detection
    from integrations.engine.context import IntegrationContext
    from integrations.models import ChangeWatermark, Integration

    integration_id = configure(SimpleNamespace(items=args.items, interval=60, extension=False))
    Integration.objects.filter(pk=integration_id).update(running=True)
    context = IntegrationContext.load(integration_id)
    side = context.sides["A"]

    def plain_loop():
        cursor, seen = None, 0
        while True:
            page = side.connector.changed_since(
                "DEMO", None, artifact_types=side.collection.artifact_types, cursor=cursor,
                page_size=detection.PAGE_SIZE,
            )  # fmt: skip
            seen += len(page.items)
            cursor = page.next_cursor
            if not cursor:
                return seen

    def detection_of_side_a():
        ArtifactActivity.objects.all().delete()
        ChangeWatermark.objects.all().delete()
        return lambda: detection.detect_side(context, "A")

    figures = {}
    for name, prepare, patch in (
        ("plain paging loop", lambda: plain_loop, None),
        ("detection (hub.bulk.insert_rows)", detection_of_side_a, None),
        ("detection (old: bulk_create)", detection_of_side_a, old_write_path),
    ):
        runs = []
        for run in range(args.repeat + 1):  # the first is a warm-up (queries compiled, caches filled)
            work = prepare()
            if patch is not None:
                detection.insert_rows, original = patch, detection.insert_rows
            try:
                figure = measured(work)
                if run:
                    runs.append(figure)
            finally:
                if patch is not None:
                    detection.insert_rows = original
        figures[name] = min(runs, key=lambda run: run[1])
        wall, cpu = figures[name]
        print(
            f"{name}: {args.items} items, wall {wall:.2f} s, CPU {cpu:.2f} s "
            f"({args.items / cpu:.0f} items per CPU second)",
            flush=True,
        )
    assert ArtifactActivity.objects.count() == args.items  # noqa: S101 - the runs did their work
    plain = figures["plain paging loop"][1]
    for name in ("detection (hub.bulk.insert_rows)", "detection (old: bulk_create)"):
        print(f"{name} / plain loop by CPU: {figures[name][1] / plain:.2f}")
    context.close()
    print("load average: " + " ".join(Path("/proc/loadavg").read_text().split()[:3]))


if __name__ == "__main__":
    main()
