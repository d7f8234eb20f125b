"""One payload's path through the Gateway endpoint, in process: where an accepted payload's CPU goes.

    PYTHONPATH=$PWD .venv/bin/python bench/gateway_profile.py [--posts 300] [--database postgres://…]

Configures what ``bench/gateway.py`` configures (a gateway collection on the Defect model, a running
Gateway integration) in a database of its own (default: a new PostgreSQL database, dropped after),
then posts ``--posts`` model-shaped payloads through Django's WSGI handler (``django.test.Client``:
the whole middleware stack, no network) after 50 warm-up posts. Prints the CPU per accepted payload
(thread time), the queries per payload, and the functions cProfile finds most expensive, so the
endpoint's own cost can be told from the machine's and the senders'. No assertion.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--database", default="")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    name = f"hub_bench_gwp_{uuid.uuid4().hex[:8]}"
    database = args.database or f"postgres://postgres@127.0.0.1:5432/{name}"
    setup_django(database)
    try:
        run(args)
    finally:
        if not args.database:
            from django.db import connections

            connections.close_all()
            import psycopg2

            admin = psycopg2.connect("postgres://postgres@127.0.0.1:5432/postgres")
            admin.autocommit = True
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def run(args) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from gateway import configure

    collection_id, token = configure()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/gateway/{collection_id}/artifacts"

    def post(n: int) -> int:
        body = json.dumps({"title": f"Profiled payload {n}", "priority": "High"})
        return client.post(url, body, content_type="application/json").status_code

    statuses = [post(n) for n in range(50)]  # warm-up: imports, the door, the connection
    assert set(statuses) == {202}, statuses
    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.thread_time()
        for n in range(args.posts):
            post(n)
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
    print(
        f"{args.posts} posts: {cpu / args.posts * 1000:.2f} ms CPU, "
        f"{wall / args.posts * 1000:.2f} ms wall each; {len(queries) / args.posts:.2f} queries each"
    )
    profile = cProfile.Profile()
    profile.enable()
    for n in range(args.posts):
        post(n)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
