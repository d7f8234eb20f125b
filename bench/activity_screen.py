"""Times the Activity screen against a full ledger in PostgreSQL.

    PYTHONPATH=$PWD .venv/bin/python bench/activity_screen.py \
        [--database postgres://postgres@127.0.0.1:5432/hub_bench] [--pairs 1000000] [--repeat 20]

Fills the database (once; later runs reuse the rows) with 100,000 completed and 10,000 failed
activities and the given number of pairs through COPY, then requests each tab's first page and each
filter ``--repeat`` times through the Django test client (the whole middleware stack, no network)
and prints the median and the 90th percentile per request, the banner counts, and the time to the
first byte of a 100,000-row CSV download. Targets (issue 7): pages and filters < 200 ms, banner
< 100 ms, CSV first byte < 1 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ensure_database  # noqa: E402


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/hub_bench")
    parser.add_argument("--completed", type=int, default=100_000)
    parser.add_argument("--failed", type=int, default=10_000)
    parser.add_argument(
        "--pending",
        type=int,
        default=0,
        help="pending activities too: the backlog of a large initial sync (issue #19: 200,000 pairs)",
    )
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args()


INTEGRATIONS = {1: "Jira Bugs ↔ Redmine Defects", 2: "GitLab Issues ↔ Jira Stories", 3: "ServiceNow ↔ Azure"}


def _copy(table: str, rows, columns: list[str] | None = None) -> None:
    """COPY rows (lists in ``columns`` order, or dicts naming their columns) into ``table``."""
    from django.db import connection

    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    if isinstance(first, dict):
        columns = list(first)
    rows = (list(row.values()) if isinstance(row, dict) else row for row in itertools.chain([first], rows))

    buffer = io.StringIO()

    def flush():
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
            )
        buffer.seek(0)
        buffer.truncate()

    writer = csv.writer(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow(["\\N" if value is None else value for value in row])
        if count % 100_000 == 0:
            flush()
            print(f"  {table}: {count:,}", file=sys.stderr, flush=True)
    flush()


def fill(args) -> None:
    from activity.models import ArtifactActivity, ArtifactPair

    now = datetime.now(UTC)

    def activity_rows(status: str, count: int, offset: int):
        failed, pending = status == "failed", status == "pending"
        for n in range(offset, offset + count):
            integration, side, artifact = 1 + n % 3, "AB"[n % 2], str(n)
            yield {
                "integration_id": integration,
                "integration_name": INTEGRATIONS[integration],
                "source_side": side,
                "source_collection_name": "Jira Bugs",
                "target_collection_name": "Redmine Defects",
                "source_project": "Project PROJ",
                "target_project": "Project web",
                "collection_pair_name": "Jira Bugs/Redmine Defects",
                "artifact_id": artifact,
                "formatted_id": f"PROJ-{n}",
                "summary": f"Login fails on page {n % 997} for user {n}",
                "url": f"https://jira.example.com/browse/PROJ-{n}",
                "status": status,
                "result": "" if failed or pending else "updated",
                "code": "CCRRTT-1002E" if failed else "",
                "message": "Connector failed to read the person." if failed else "",
                "retry_count": 3 if failed else 0,
                "priority": 0,
                "recreate": False,
                "twin_deleted": False,
                "claimed_by": "",
                "changed_fields": "{}"
                if failed or pending
                else '{"Summary": {"original": "Old", "new": "New"}}',
                "conflict": "",  # not null since the conflict decisions (no database default)
                "conflicts": "[]",
                "waiting_key": f"{integration}:{side}:{artifact}" if failed or pending else None,
                "created": (now - timedelta(seconds=n * 20)).isoformat(),
                "updated": now.isoformat(),
                "next_retry_at": (now + timedelta(minutes=5)).isoformat() if failed and n % 2 else None,
            }

    for status, wanted, offset in (
        ("completed", args.completed, 0),
        ("failed", args.failed, 5_000_000),
        ("pending", args.pending, 8_000_000),
    ):
        have = ArtifactActivity.objects.filter(status=status).count()
        if have < wanted:
            print(f"Loading {wanted - have:,} {status} activities", file=sys.stderr)
            _copy("activity_artifactactivity", activity_rows(status, wanted - have, offset + have))

    pair_columns = [
        "integration_id",
        "integration_name",
        *ArtifactPair.side_columns(),
        "a_snapshot",
        "b_snapshot",
        "comment_map",
        "attachment_map",
        "time_entry_map",  # NOT NULL without a database default (activity 0005): COPY must name it
        "a_settled",  # the same (activity 0007)
        "b_settled",
        "created",
        "updated",
        "last_synced_at",
    ]

    def pair_rows(count: int, offset: int):
        stamp = now.isoformat()
        for n in range(offset, offset + count):
            integration = 1 + n % 3
            yield [
                integration,
                INTEGRATIONS[integration],
                str(n),
                f"PROJ-{n}",
                f"Checkout button broken on device {n}",
                f"https://jira.example.com/browse/PROJ-{n}",
                "PROJ",
                str(5_000_000 + n),
                f"#{5_000_000 + n}",
                f"Checkout button broken on device {n}",
                f"https://redmine.example.com/issues/{5_000_000 + n}",
                "web",
                '{"Summary": "Checkout", "Priority": "High"}',
                '{"Summary": "Checkout", "Priority": "Urgent"}',
                '{"A:1": "B:7"}',
                "{}",
                "{}",
                "",
                "",
                stamp,
                stamp,
                stamp,
            ]

    have = ArtifactPair.objects.count()
    if have < args.pairs:
        print(f"Loading {args.pairs - have:,} pairs", file=sys.stderr)
        started = time.perf_counter()
        _copy("activity_artifactpair", pair_rows(args.pairs - have, have), pair_columns)
        print(f"  pairs loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE activity_artifactactivity")
        cursor.execute("VACUUM ANALYZE activity_artifactpair")


def timed(client, url: str, repeat: int) -> tuple[float, float]:
    client.get(url)  # warm: template compilation, first connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if response.streaming:
            next(iter(response.streaming_content))
            response.close()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def main() -> None:
    args = parse()
    ensure_database(args.database)
    os.environ["HUB_HOME"] = tempfile.mkdtemp(prefix="hub-bench-")
    os.environ["HUB_DATABASE_URL"] = args.database
    os.environ["HUB_BROKER_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from activity import services
    from hub.roles import set_role

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    fill(args)
    services.set_integration_hooks(state=lambda i: services.RUNNING if i in (1, 2) else services.STOPPED)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    set_role(user, "administrator")
    client = Client(HTTP_HOST="localhost", secure=True)
    client.force_login(user)
    today = datetime.now(UTC).date()
    cases = [
        ("banner counts", "/activity/banner/", 100),
        ("Blockers", "/activity/blockers/", 200),
        ("Jobs: processing", "/activity/jobs/processing/", 200),
        ("Activities: pending", "/activity/activities/pending/", 200),
        ("Activities: failed", "/activity/activities/failed/", 200),
        ("Activities: ignored", "/activity/activities/ignored/", 200),
        ("Activities: completed", "/activity/activities/completed/", 200),
        ("Completed, search 'page 42 '", "/activity/activities/completed/?q=page+42+", 200),
        ("Completed, without 'user 1'", "/activity/activities/completed/?without=user+1", 200),
        ("Completed, integration 2", "/activity/activities/completed/?integration=2", 200),
        ("Completed, integration running", "/activity/activities/completed/?integration_state=running", 200),
        ("Completed, last 3 days", "/activity/activities/completed/?last_days=3", 200),
        (
            "Completed, created range",
            f"/activity/activities/completed/?created_from={today - timedelta(days=10)}&created_to={today}",
            200,
        ),
        ("Failed, search 'PROJ-5000123'", "/activity/activities/failed/?q=PROJ-5000123", 200),
        ("Pairs", "/activity/pairs/", 200),
        ("Pairs, page 2000", "/activity/pairs/?page=2000", 200),
        ("Pairs, integration 3", "/activity/pairs/?integration=3", 200),
        ("Pairs, search id 'PROJ-123456'", "/activity/pairs/?q=PROJ-123456", 200),
        ("Pairs, search summary 'device 77777'", "/activity/pairs/?q=device+77777", 200),
        ("CSV first byte, 100,000 completed", "/activity/activities/completed/download/", 1000),
    ]
    print("| request | median ms | p90 ms | target ms |\n|---|---:|---:|---:|")
    for label, url, target in cases:
        median, p90 = timed(client, url, args.repeat)
        flag = "" if median < target else " **over**"
        print(f"| {label} | {median:.0f}{flag} | {p90:.0f} | {target} |", flush=True)


if __name__ == "__main__":
    main()
