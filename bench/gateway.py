"""Measures the Gateway endpoint over loopback HTTP with concurrent senders, on PostgreSQL.

    PYTHONPATH=$PWD .venv/bin/python bench/gateway.py [--senders 20] [--seconds 10] [--web-workers 2]

Makes its own database ``hub_bench_gw_<random>`` and data directory (dropped after), configures a
gateway collection on the Defect model and a running Gateway integration into a local tracker,
starts ``gunicorn hub.wsgi`` (the given number of processes, 8 threads each) and then:

1. *Endpoint*: ``--senders`` threads post model-shaped payloads as fast as they get answers, for
   ``--seconds``; prints accepted payloads per second and the answer time p50 / p95 / max.
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


def load(url: str, token: str, senders: int, seconds: float) -> tuple[int, int, list[float]]:
    import requests

    deadline = time.monotonic() + seconds
    accepted, other, times = [0], [0], []
    lock = threading.Lock()

    def sender(number: int) -> None:
        with requests.Session() as session:
            n = 0
            while time.monotonic() < deadline:
                body = json.dumps({"title": f"Sender {number} payload {n}", "priority": "High"})
                started = time.perf_counter()
                answer = session.post(
                    url, data=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
                )
                took = time.perf_counter() - started
                with lock:
                    times.append(took)
                    if answer.status_code == 202:
                        accepted[0] += 1
                    else:
                        other[0] += 1
                n += 1

    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(sender, range(senders)))
    return accepted[0], other[0], times


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


def main() -> None:
    args = arguments()
    name = f"hub_bench_gw_{uuid.uuid4().hex[:8]}"
    database = f"postgres://postgres@127.0.0.1:5432/{name}"
    setup_django(database)
    collection_id, token = configure()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "hub.wsgi:application",
            "-b",
            f"127.0.0.1:{args.port}",
            "-w",
            str(args.web_workers),
            "--threads",
            "8",
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
        load(url, token, args.senders, 1.0)  # warm-up: connections, caches
        accepted, other, times = load(url, token, args.senders, args.seconds)
        print(f"senders: {args.senders}, web workers: {args.web_workers} × 8 threads, {args.seconds:.0f} s")
        print(f"accepted: {accepted} ({accepted / args.seconds:.0f}/s), other answers: {other}")
        print(
            "answer time p50 / p95 / max: "
            f"{statistics.median(times) * 1000:.1f} / {percentile(times, 0.95) * 1000:.1f} / "
            f"{max(times) * 1000:.1f} ms"
        )
        e2e = end_to_end(url, token)
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
