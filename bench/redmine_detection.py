"""Redmine change detection against the limit: a real Redmine (Debian's, as the connector tests
start it, ``tests/connectors/peers.py``) with N issues, listed once through Hub's connector
(``changed_since`` paged as the engine pages it, ``detection.PAGE_SIZE``) and once by a plain httpx
loop that pages the same list (same filters, same sort, Redmine's 100 a request). Prints the wall
time, requests and requests per detected change of each, and the ratio Hub / plain. Then reads the
field values of 1,000 of them through ``read_field_values`` (one list request per 100 ids) and
one by one (``read_artifact``), as the Enterprise Data Stream would have before.

    PYTHONPATH=$PWD .venv/bin/python bench/redmine_detection.py --issues 10000

The issues are copied in Redmine's own SQLite database from one made through the API (the REST
API would take minutes to make 10,000); each gets its own id, subject and ``updated_on``. Not a
test: it prints figures, it asserts nothing. Everything it makes is removed after it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=1_000, help="issues whose field values are read")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each listing, interleaved")
    return parser.parse_args()


def copy_issues(db_file: Path, template_id: int, count: int) -> None:
    """``count`` copies of issue ``template_id``, one a minute back from now, each its own root."""
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=count + 1)
    with sqlite3.connect(db_file) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(issues)") if row[1] != "id"]
        varying = {"subject", "updated_on", "created_on", "root_id", "lft", "rgt"}
        kept = ", ".join(c for c in columns if c not in varying)
        db.execute(
            f"INSERT INTO issues ({kept}, subject, created_on, updated_on, lft, rgt)"  # noqa: S608 - Redmine's own columns
            f" WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            f" SELECT {kept}, 'Bench issue ' || i,"
            f" strftime('%Y-%m-%d %H:%M:%S', ?, '+' || i || ' minutes'),"
            f" strftime('%Y-%m-%d %H:%M:%S', ?, '+' || i || ' minutes'), 1, 2"
            f" FROM n, issues WHERE issues.id = ?",
            (count, start.isoformat(" "), start.isoformat(" "), template_id),
        )
        db.execute("UPDATE issues SET root_id = id WHERE root_id IS NULL OR id <> ?", (template_id,))


def counted(client) -> list[str]:
    sent: list[str] = []
    client.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    return sent


def hub_listing(connector, project: str, page_size: int) -> tuple[float, int, int, float]:
    """Wall seconds, list requests, issues seen and this process's CPU seconds (Hub's own work:
    Redmine's is in its server process) of one whole listing through ``changed_since``."""
    sent = counted(connector.api.http.client)
    started, cpu, cursor, seen = time.monotonic(), time.process_time(), None, 0
    while True:
        page = connector.changed_since(project, None, cursor=cursor, page_size=page_size)
        seen += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    requests = len([p for p in sent if p == "/issues.json"])
    connector.api.http.client.event_hooks["request"].pop()
    return time.monotonic() - started, requests, seen, time.process_time() - cpu


def plain_listing(server, project_id: str) -> tuple[float, int, int, float]:
    import httpx

    params = {"project_id": project_id, "subproject_id": "!*", "status_id": "*", "sort": "updated_on,id"}
    started, cpu, requests, seen, offset = time.monotonic(), time.process_time(), 0, 0, 0
    with httpx.Client(base_url=server.url, headers=server.api_headers(), timeout=120) as client:
        while True:
            body = client.get("/issues.json", params={**params, "limit": 100, "offset": offset}).json()
            requests += 1
            rows = body["issues"]
            seen += len(rows)
            offset += len(rows)
            if not rows or offset >= body["total_count"]:
                break
    return time.monotonic() - started, requests, seen, time.process_time() - cpu


def redmine_cpu_seconds(server) -> float:
    """CPU seconds so far of the Redmine server process (and its reaped children)."""
    pid = server.process.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def interleaved(args, connector, redmine, page_size: int) -> None:
    """Hub and the plain loop in turn, A B A B …, ``--repeat`` times each: the load drifts between
    two runs far less than between two halves of a session, so the ratio of each pair is the
    figure, and the median of those ratios. CPU seconds are this process's (Hub's own work, the
    connector's or the plain loop's) and Redmine's, per list request."""
    hub_runs, plain_runs, ratios = [], [], []
    for n in range(args.repeat):
        runs = {}
        for name in ("hub", "plain") if n % 2 == 0 else ("plain", "hub"):  # who goes first alternates
            before = redmine_cpu_seconds(redmine.server)
            if name == "hub":
                result = hub_listing(connector, redmine.project_id, page_size)
            else:
                result = plain_listing(redmine.server, redmine.project_id)
            runs[name] = (*result, redmine_cpu_seconds(redmine.server) - before)
        hub_runs.append(runs["hub"])
        plain_runs.append(runs["plain"])
        ratios.append(runs["hub"][0] / runs["plain"][0])
        print(
            f"  pair {n + 1}: Hub {runs['hub'][0]:.2f} s, plain {runs['plain'][0]:.2f} s,"
            f" ratio {ratios[-1]:.2f}; load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}",
            flush=True,
        )
    for name, results in (("Hub changed_since", hub_runs), ("plain httpx loop", plain_runs)):
        wall = statistics.median(r[0] for r in results)
        requests, seen = results[0][1], results[0][2]
        client_cpu = statistics.median(r[3] for r in results)
        server_cpu = statistics.median(r[4] for r in results)
        print(
            f"  {name}: {seen} issues, median {wall:.2f} s ({seen / wall:.0f}/s), {requests} list requests"
            f" = {requests / seen:.4f} per detected change; CPU per request: this process"
            f" {1000 * client_cpu / requests:.1f} ms, Redmine {1000 * server_cpu / requests:.0f} ms"
        )
    print(
        f"  ratio Hub / plain (wall): median {statistics.median(ratios):.2f}"
        f" (min {min(ratios):.2f}, max {max(ratios):.2f}, {len(ratios)} pairs)"
    )


def main() -> None:
    args = arguments()
    home = Path(tempfile.mkdtemp(prefix="hub-bench-redmine-"))
    os.environ.update({"HUB_HOME": str(home), "DJANGO_SETTINGS_MODULE": "hub.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from connectors import registry
    from integrations.engine.detection import PAGE_SIZE
    from tests.connectors.peers import prepare_redmine

    redmine = prepare_redmine(home / "redmine")
    try:
        with registry.connect(redmine.settings()) as connector:
            template = connector.create_artifact(redmine.project_id, "1", {"subject": "Template"})
            copy_issues(redmine.db_file, int(template.id), args.issues - 1)
            load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            print(f"Redmine {redmine.server.url}: {args.issues} issues; load average {load}")
            interleaved(args, connector, redmine, PAGE_SIZE)

            ids = [str(n) for n in range(int(template.id), int(template.id) + args.reads)]
            sent = counted(connector.api.http.client)
            started = time.monotonic()
            batched = connector.read_field_values(ids)
            batched_seconds, batched_requests = time.monotonic() - started, len(sent)
            sent.clear()
            started = time.monotonic()
            for artifact_id in ids[:100]:
                connector.read_artifact(artifact_id)
            single_seconds, single_requests = (time.monotonic() - started) * len(ids) / 100, len(sent)
            print(
                f"  field values of {len(batched)} issues: read_field_values {batched_seconds:.2f} s,"
                f" {batched_requests} requests; one by one (100 read, scaled) {single_seconds:.1f} s,"
                f" {single_requests * len(ids) // 100} requests"
            )
            print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    finally:
        redmine.server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
