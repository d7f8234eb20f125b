"""Measures the Gateway endpoint over loopback HTTP with concurrent senders, on PostgreSQL.

    PYTHONPATH=$PWD .venv/bin/python bench/gateway.py [--senders 20] [--seconds 10] [--web-workers 2]
        [--client raw|requests] [--sender-processes 2]

Makes its own database ``hub_bench_gw_<random>`` and data directory (dropped after), configures a
gateway collection on the Defect model and a running Gateway integration into a local tracker,
starts ``gunicorn hub.wsgi`` (the given number of processes, 8 threads each) and then:

1. *Endpoint*: ``--senders`` senders post model-shaped payloads as fast as they get answers, for
   ``--seconds``; prints accepted payloads per second and the answer time p50 / p95 / max. The
   senders are keep-alive ``http.client`` connections, threads of ``--sender-processes`` processes
   of their own (``--client requests``: ``requests`` sessions in threads of this process, as the
   figures before 2026-12-03 were measured; they cost the 2 cores more than the endpoint does).
   The server's rate limit is raised to ``--rate-limit`` (100,000/s): at the default 1,000/s the
   senders' bursts get 429s, which are quick answers that are not accepted payloads.
2. *End to end*: while one worker thread in this process drains the queue (``process_due``), 4
   senders post 400 payloads; prints payload → target artifact p50 / p95 (the payload's ``received``
   to its activity's completion, both stamped by this machine).

No assertion: figures go to docs/performance.md. Targets (issue 15): ≥ 500 accepted/s and p95 answer
≤ 50 ms with 20 senders on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import defect_model, setup_django  # noqa: E402

ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument(
        "--client",
        choices=["raw", "requests"],
        default="raw",
        help="raw: http.client senders in --sender-processes processes; requests: threads of this process",
    )
    parser.add_argument("--sender-processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads of each gunicorn process")
    parser.add_argument(
        "--group-commit", choices=["on", "off"], default="on", help="off: one commit per payload (A/B)"
    )
    parser.add_argument(
        "--gc-freeze", choices=["on", "off"], default="on", help="off: no gc.freeze() after start-up (A/B)"
    )
    parser.add_argument("--no-end-to-end", action="store_true", help="measure the endpoint only")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=100_000,
        help="hub.gateway.rateLimit of the server (default 1,000/s, which 20 fast senders reach: 429)",
    )
    return parser.parse_args()


def configure() -> tuple[int, str]:
    from connectors.local import service
    from hub import licensing, vault
    from integrations.models import GatewayCollection, Integration, Repository
    from integrations.services import new_gateway_token
    from tests.integrations.factories import mapped_collection

    vault.set_master_password("bench master password")
    licensing.ensure_evaluation_license()
    service.create_project(service.tracker("beta"), "WEB", "Website")
    model = defect_model()
    beta = Repository.objects.create(label="Beta", kind="local", url="local://beta")
    target = mapped_collection("Beta defects", beta, "WEB", model)
    collection = GatewayCollection(name="CI", model=model)
    token = new_gateway_token(collection)
    collection.save()
    Integration.objects.create(
        name="CI → Beta", style="gateway", gateway_collection=collection, collection_b=target, running=True
    )
    return collection.pk, token


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load(url: str, token: str, senders: int, seconds: float, client: str = "raw", processes: int = 2):
    """``senders`` senders posting for ``seconds``; (accepted, other answers, answer times in s).
    ``client``: ``raw`` (http.client, keep-alive, the senders spread over ``processes`` processes so
    that they do not queue behind one GIL) or ``requests`` (threads of this process, as before)."""
    if client == "requests":
        return _load_requests(url, token, senders, seconds)
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no Django, no database connection in the senders
    shares = [senders // processes + (1 if n < senders % processes else 0) for n in range(processes)]
    starts = [sum(shares[:n]) for n in range(processes)]
    with context.Pool(processes) as pool:
        parts = pool.starmap(
            raw_senders,
            [
                (url, token, first, share, seconds)
                for first, share in zip(starts, shares, strict=True)
                if share
            ],
        )
    accepted = sum(part[0] for part in parts)
    other: dict[int, int] = {}
    for part in parts:
        for status, count in part[1].items():
            other[status] = other.get(status, 0) + count
    return accepted, other, [took for part in parts for took in part[2]]


def raw_senders(
    url: str, token: str, first: int, count: int, seconds: float
) -> tuple[int, dict, list[float]]:
    """``count`` sender threads of one process, each on one keep-alive ``http.client`` connection."""
    import contextlib
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def connect():
        return contextlib.closing(http.client.HTTPConnection(where.hostname, where.port, timeout=30))

    def post(connection, body: str) -> int:
        connection.request("POST", where.path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status

    return _senders(range(first, first + count), seconds, connect, post)


def _load_requests(url: str, token: str, senders: int, seconds: float) -> tuple[int, dict, list[float]]:
    import requests

    def post(session, body: str) -> int:
        return session.post(
            url, data=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code

    return _senders(range(senders), seconds, requests.Session, post)


def _senders(numbers, seconds: float, connect, post) -> tuple[int, dict, list[float]]:
    """One thread per number, posting model-shaped payloads on its own ``connect()`` until the
    deadline; (accepted, other answers by status, every answer's time in seconds)."""
    deadline = time.monotonic() + seconds
    accepted, other, times = [0], {}, []
    lock = threading.Lock()

    def sender(number: int) -> None:
        with connect() as session:
            n = 0
            while time.monotonic() < deadline:
                body = json.dumps({"title": f"Sender {number} payload {n}", "priority": "High"})
                started = time.perf_counter()
                status = post(session, body)
                took = time.perf_counter() - started
                with lock:
                    times.append(took)
                    if status == 202:
                        accepted[0] += 1
                    else:
                        other[status] = other.get(status, 0) + 1
                n += 1

    with ThreadPoolExecutor(len(numbers)) as pool:
        list(pool.map(sender, numbers))
    return accepted[0], other, times


def end_to_end(url: str, token: str) -> list[float]:
    import requests
    from django.db import connection

    from activity.models import ArtifactActivity
    from integrations.gateway import work
    from integrations.models import GatewayPayload

    GatewayPayload.objects.all().delete()
    ArtifactActivity.objects.all().delete()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            if not work.process_due(limit=100, worker="bench"):
                time.sleep(0.01)  # idle poll of the bench's own worker loop, not a synchronisation
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()

    def sender(number: int) -> None:
        with requests.Session() as session:
            for n in range(100):
                body = json.dumps({"title": f"E2E {number}.{n}"})
                session.post(url, data=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
                time.sleep(0.02)  # a steady rate of senders, not a burst

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(sender, range(4)))
    deadline = time.monotonic() + 120
    while ArtifactActivity.objects.filter(status="completed").count() < 400 and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    thread.join()
    received = dict(GatewayPayload.objects.values_list("pk", "received"))
    return [
        (activity.updated - received[int(activity.artifact_id.split(".")[0])]).total_seconds()
        for activity in ArtifactActivity.objects.filter(status="completed")
    ]


def commits(name: str) -> int:
    """Transactions committed in database ``name`` so far (every backend's, as PostgreSQL counts)."""
    import psycopg2

    admin = psycopg2.connect(ADMIN)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [name])
            return cursor.fetchone()[0]
    finally:
        admin.close()


def main() -> None:
    args = arguments()
    name = f"hub_bench_gw_{uuid.uuid4().hex[:8]}"
    database = f"postgres://postgres@127.0.0.1:5432/{name}"
    setup_django(database)
    collection_id, token = configure()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HUB_GATEWAY_RATELIMIT": str(args.rate_limit),
        "BENCH_GW_GROUP_COMMIT": args.group_commit,
        "BENCH_GW_GC_FREEZE": args.gc_freeze,
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "hub.wsgi:application",
            "-c",
            str(Path(__file__).with_name("gateway_gunicorn.py")),
            "-b",
            f"127.0.0.1:{args.port}",
            "-w",
            str(args.web_workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    url = f"http://127.0.0.1:{args.port}/api/v1/gateway/{collection_id}/artifacts"
    try:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.post(url, data="{}", timeout=5)  # 401 without a token: the server answers
                break
            except requests.RequestException:
                time.sleep(0.2)
        how = (args.client, args.sender_processes)
        load(url, token, args.senders, 1.0, *how)  # warm-up: connections, caches
        print(f"load average before: {os.getloadavg()}")
        commits_before = commits(name)
        accepted, other, times = load(url, token, args.senders, args.seconds, *how)
        time.sleep(1.5)  # the server's statistics reach pg_stat_database within a second, not a sync
        committed = commits(name) - commits_before
        print(
            f"senders: {args.senders} ({args.client}"
            + (f", {args.sender_processes} processes" if args.client == "raw" else ", threads")
            + f"), web workers: {args.web_workers} × {args.threads} threads, {args.seconds:.0f} s, "
            f"rate limit {args.rate_limit}/s, group commit {args.group_commit}, gc freeze {args.gc_freeze}"
        )
        print(f"accepted: {accepted} ({accepted / args.seconds:.0f}/s), other answers by status: {other}")
        print(
            "answer time p50 / p95 / max: "
            f"{statistics.median(times) * 1000:.1f} / {percentile(times, 0.95) * 1000:.1f} / "
            f"{max(times) * 1000:.1f} ms"
        )
        print(
            f"database commits during the endpoint's {args.seconds:.0f} s: {committed} "
            f"({committed / max(accepted, 1):.2f} per accepted payload, including the rate counts' reads)"
        )
        print(f"load average after the endpoint's {args.seconds:.0f} s: {os.getloadavg()}")
        e2e = None if args.no_end_to_end else end_to_end(url, token)
        if e2e is not None:
            print(
                f"end to end ({len(e2e)} payloads, one worker): p50 {statistics.median(e2e) * 1000:.0f} ms, "
                f"p95 {percentile(e2e, 0.95) * 1000:.0f} ms"
            )
        print(f"load average: {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(30)
        from django.db import connections

        connections.close_all()
        import psycopg2

        admin = psycopg2.connect(ADMIN)
        admin.autocommit = True
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
