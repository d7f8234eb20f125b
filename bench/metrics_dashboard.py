"""Times the Metrics dashboard over two years of daily counters for 50 integrations.

    PYTHONPATH=$PWD .venv/bin/python bench/metrics_dashboard.py [--database URL] [--repeat 20]

Without ``--database`` it runs on SQLite in a fresh data directory; with a PostgreSQL URL such as
postgres://postgres@127.0.0.1:5432/hub_bench_metrics it uses that database (created if missing).
Fills 50 integrations × 2 target repositories × 730 days of ``DailyCount`` rows (73,000) and
20,000 person sightings, then requests the dashboard ``--repeat`` times per case through the
Django test client (the whole middleware stack, no network) and prints the median and the 90th
percentile of the wall time, the median CPU time of the process (SQLite runs inside it, so
that is the whole work; on a shared, loaded machine the wall time is mostly waiting for a core),
the median wall time spent in SQL (the queries as Django timed them) and the number of queries.
Every edition, range, filter and chart-by variant is a case, and the HTMX partial a filter change
loads; the Basic edition is what ``metrics.views.advanced_edition`` answers for a Basic license.
Target (issue 16): ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup_django, signed_in_client  # noqa: E402

INTEGRATIONS, DAYS = 50, 730


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="")
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args()


def fill() -> None:
    from django.utils import timezone

    from integrations.models import Integration, Model, Repository
    from metrics import dashboard
    from metrics.models import DailyCount, PersonSighting

    if DailyCount.objects.count() >= INTEGRATIONS * 2 * DAYS:
        dashboard.rebuild_people_seen()  # a database filled before the rollup existed
        return
    rng = random.Random(16)
    model = Model.objects.get_or_create(name="Bench model")[0]
    repositories = [
        Repository.objects.get_or_create(label=f"Bench repository {n}", defaults={"kind": "local"})[0]
        for n in range(10)
    ]
    integrations = [
        Integration.objects.get_or_create(name=f"Bench integration {n}")[0] for n in range(INTEGRATIONS)
    ]
    today = timezone.localdate()
    rows = [
        DailyCount(
            day=today - timedelta(days=d),
            integration_id=i.pk,
            repository_id=repositories[(n + side) % len(repositories)].pk,
            model_id=model.pk,
            created=rng.randint(0, 20),
            updated=rng.randint(0, 80),
        )
        for n, i in enumerate(integrations)
        for side in (0, 1)
        for d in range(DAYS)
    ]
    DailyCount.objects.bulk_create(rows, batch_size=5000)
    PersonSighting.objects.bulk_create(
        [
            PersonSighting(
                month=(today - timedelta(days=30 * (n % 24))).replace(day=1),
                repository_id=repositories[n % len(repositories)].pk,
                person_id=str(n % 3000),
                integration_id=integrations[n % INTEGRATIONS].pk,
                project="P",
                field=f"f{n}",
            )
            for n in range(20_000)
        ],
        batch_size=5000,
    )
    dashboard.rebuild_totals()
    dashboard.rebuild_people_seen()


def main() -> None:
    args = parse()
    setup_django(args.database)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hub import licensing

    licensing.ensure_evaluation_license()  # Advanced edition: every filter
    fill()
    client = signed_in_client("bench", "viewer")
    print(f"Metrics dashboard on {connection.vendor}: {INTEGRATIONS} integrations × {DAYS} days")
    print(f"  load before: {load()}")
    for edition, name, url, headers in cases():
        timings, cpu, sql, queries = [], [], [], 0
        with mock.patch("metrics.views.advanced_edition", return_value=edition == "advanced"):
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as captured:
                    began, began_cpu = time.perf_counter(), time.process_time()
                    response = client.get(url, **headers)
                    timings.append((time.perf_counter() - began) * 1000)
                    cpu.append((time.process_time() - began_cpu) * 1000)
                assert response.status_code == 200, response.status_code
                assert b"Total Artifacts Created" in response.content
                queries = len(captured)
                sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        timings.sort()
        p90 = timings[max(int(len(timings) * 0.9) - 1, 0)]
        print(
            f"  {edition:8} {name:44} median {statistics.median(timings):7.1f} ms   p90 {p90:7.1f} ms"
            f"   CPU median {statistics.median(cpu):7.1f} ms   SQL median {statistics.median(sql):7.1f} ms"
            f"   {queries:2} queries"
        )
    print(f"  load after: {load()}")


def cases() -> list[tuple[str, str, str, dict]]:
    """Every edition, range, filter and chart variant of the page, and the HTMX partial a filter
    change loads."""
    from django.utils import timezone

    from integrations.models import Integration, Model, Repository

    start = (timezone.localdate() - timedelta(days=DAYS - 1)).isoformat()
    two_years = f"range=custom&start={start}&end={timezone.localdate().isoformat()}"
    first_five = Integration.objects.order_by("pk").values_list("pk", flat=True)[:5]
    integrations = "&".join(f"integration={pk}" for pk in first_five)
    repository = Repository.objects.order_by("pk").values_list("pk", flat=True).first()
    model = Model.objects.order_by("pk").values_list("pk", flat=True).first()
    htmx = {"HTTP_HX_REQUEST": "true"}
    return [
        ("basic", "last 30 days, by integration (all it has)", "/metrics/", {}),
        ("advanced", "last 7 days", "/metrics/?range=7", {}),
        ("advanced", "last 30 days", "/metrics/?range=30", {}),
        ("advanced", "last 90 days", "/metrics/?range=90", {}),
        ("advanced", "two years (custom)", f"/metrics/?{two_years}", {}),
        ("advanced", "two years, by repository", f"/metrics/?{two_years}&chart_by=repository", {}),
        ("advanced", "two years, by model", f"/metrics/?{two_years}&chart_by=model", {}),
        ("advanced", "two years, 5 integrations", f"/metrics/?{two_years}&{integrations}", {}),
        ("advanced", "two years, 1 repository", f"/metrics/?{two_years}&repository={repository}", {}),
        ("advanced", "two years, 1 model", f"/metrics/?{two_years}&model={model}", {}),
        ("advanced", "two years, all three filters, by model",
         f"/metrics/?{two_years}&{integrations}&repository={repository}&model={model}&chart_by=model", {}),
        ("advanced", "HTMX partial: two years, by repository",
         f"/metrics/?{two_years}&chart_by=repository", htmx),
    ]  # fmt: skip


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
