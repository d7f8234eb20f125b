"""Scale-out benchmark: sync workers on 1–3 hosts (network namespaces joined by veth pairs, see
tests/support/netns.py) against a local tracker with a remote tool's latency (50 ms a request,
tests/support/latent_tool.py), with Redis and with RabbitMQ as the broker. Prints, for each shape
(workers × hosts), the throughput of an initial sync of ``--items`` new items, the workers' CPU
time, and the requests each tool received; then the same with the repositories' event rate limit
set (``--limit`` events a minute, the one database row every host shares) to show it holds.

    sudo PYTHONPATH=. .venv/bin/python bench/scaleout.py --items 400

Needs root (``ip netns``), PostgreSQL at 127.0.0.1:5432 (user postgres), ``redis-server`` (a Redis
of its own is started on a free port) and, for ``--brokers rabbitmq``, RabbitMQ at 127.0.0.1:5672
(guest/guest; a vhost of its own is made with ``rabbitmqctl`` and deleted after). A database
``hub_bench_<random>`` and a data directory are made for the run and removed after it. Not a test:
it prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.sync import configure, postgres  # noqa: E402
from tests.support.netns import Hosts  # noqa: E402
from tests.support.server import free_port  # noqa: E402


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400, help="new items synchronized by each run")
    parser.add_argument("--shapes", default="1x1,2x2,4x2,8x3", help="workers x hosts, comma-separated")
    parser.add_argument("--brokers", default="redis,rabbitmq")
    parser.add_argument("--limit", type=int, default=600, help="event rate limit (a minute) of the last run")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds a tool request takes")
    parser.add_argument("--interval", type=int, default=1, help="change detection interval (s)")
    return parser.parse_args()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_seen(log_dir: Path) -> dict[str, list[float]]:
    seen = collections.defaultdict(list)
    for log in log_dir.glob("*.log"):
        for line in log.read_text().splitlines():
            when, url = line.split(" ", 1)
            seen[url].append(float(when))
    return {url: sorted(times) for url, times in seen.items()}


def busiest_ten_seconds(times: list[float]) -> int:
    most, start = 0, 0
    for end, when in enumerate(times):
        while when - times[start] > 10:
            start += 1
        most = max(most, end - start + 1)
    return most


class Run:
    """One shape: ``workers`` solo-pool worker processes spread round-robin over ``hosts``."""

    def __init__(self, home: Path, env: dict, hosts, broker_url: str):
        self.home, self.env, self.hosts, self.broker_url = home, env, hosts, broker_url

    def start(self, workers: int, host_count: int, log_dir: Path) -> list[subprocess.Popen]:
        started = []
        for n in range(workers):
            host = self.hosts[n % host_count]
            env = {
                **self.env,
                "HUB_DATABASE_URL": host.url(self.env["HUB_DATABASE_URL"]),
                "HUB_BROKER_URL": host.url(self.broker_url),
                "HUB_TEST_TOOL_LOG": str(log_dir),
            }
            log = open(self.home / f"worker{n}.log", "ab")  # noqa: SIM115 - kept open for the process
            argv = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hub",
                "worker",
                "--pool",
                "solo",
                "-n",
                f"bench{n}@%h",
                "--include",
                "tests.support.latent_tool",
                "--loglevel",
                "WARNING",
            ]
            started.append(host.popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
        log = open(self.home / "beat.log", "ab")  # noqa: SIM115
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hub",
                "beat",
                "--schedule",
                str(self.home / "beat"),
                "--max-interval",
                "1",
                "--loglevel",
                "WARNING",
            ],
            cwd=REPO,
            env={**self.env, "HUB_BROKER_URL": self.broker_url},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return [*started, beat]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def one_shape(args, run: Run, workers: int, host_count: int, limit: int) -> str:
    from django.utils import timezone

    from activity.models import ArtifactActivity, ArtifactPair
    from connectors.local import service
    from connectors.local.models import LocalProject
    from connectors.models import EventRateBucket
    from integrations.engine import heartbeat
    from integrations.models import Repository

    Repository.objects.update(events_per_minute=limit)
    EventRateBucket.objects.all().delete()  # each run starts with a full bucket
    project = LocalProject.objects.get(tracker__name="alpha", key="DEMO")
    reporter = service.hub_user(project.tracker)
    before = ArtifactPair.objects.count()
    log_dir = Path(tempfile.mkdtemp(prefix="requests-", dir=run.home))
    log_dir.chmod(0o777)
    processes = run.start(workers, host_count, log_dir)
    deadline = time.monotonic() + 600
    nodes = {f"bench{n}@" for n in range(workers)}
    # Throughput counts from the items' creation on, once every worker is up (their start-up under
    # this machine's load takes tens of seconds and is not what is measured).
    while not nodes <= {node.split("@")[0] + "@" for node in heartbeat.recent(dt.timedelta(seconds=10))}:
        if time.monotonic() > deadline:
            stop(processes)
            raise SystemExit("the workers did not start")
        time.sleep(0.5)
    mark = timezone.now()
    cpu_at_start = sum(cpu_seconds(p.pid) for p in processes[:-1])
    for n in range(args.items):
        service.create_item(
            project, "bug", {"summary": f"Item {before + n}", "description": "Steps"}, reporter=reporter
        )
    deadline = time.monotonic() + 1800
    while ArtifactPair.objects.count() < before + args.items:
        if time.monotonic() > deadline:
            stop(processes)
            raise SystemExit("gave up waiting for the pairs")
        time.sleep(0.2)
    done = timezone.now()
    cpu = sum(cpu_seconds(p.pid) for p in processes[:-1]) - cpu_at_start
    stop(processes)
    rows = ArtifactActivity.objects.filter(created__gte=mark)
    seconds = (done - mark).total_seconds()
    seen = requests_seen(log_dir)
    tools = []
    for url, times in sorted(seen.items()):
        span = max(times[-1] - times[0], 1e-9)
        tools.append(
            f"{url} {len(times)} requests, {len(times) / span * 60:.0f}/min over {span:.0f} s, "
            f"busiest 10 s: {busiest_ten_seconds(times)}"
        )
    retried = rows.filter(status="failed").values_list("message", flat=True)
    retried = collections.Counter(message[:60] for message in retried)
    failed = ", ".join(f"{n} × {message}" for message, n in retried.most_common(3)) or "none"
    return (
        f"{workers} workers on {host_count} hosts, limit {limit or 'none'}/min: {args.items} items in "
        f"{seconds:.1f} s = {args.items / seconds:.1f} items/s (from their creation to the last pair); "
        f"workers' CPU {cpu:.1f} s; failed (to be retried) at the end: {failed}\n    " + "\n    ".join(tools)
    )


def main() -> None:
    args = arguments()
    shapes = [tuple(int(n) for n in shape.split("x")) for shape in args.shapes.split(",")]
    home = Path(tempfile.mkdtemp(prefix="hub-bench-scaleout-"))
    database = f"hub_bench_{uuid.uuid4().hex[:8]}"
    vhost = database
    postgres(f'CREATE DATABASE "{database}"')
    redis_port = free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    brokers = {
        "redis": f"redis://127.0.0.1:{redis_port}/0",
        "rabbitmq": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
    }
    if "rabbitmq" in args.brokers:
        subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
        subprocess.run(
            ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HUB_HOME": str(home),
        "HUB_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "HUB_BROKER_URL": brokers["redis"],
        "HUB_SECURITY_MASTERPASSWORDFILE": str(home / "master.key"),
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "HUB_TEST_TOOL_LATENCY": str(args.latency),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from integrations.models import Integration

    try:
        integration_id = configure(argparse.Namespace(items=0, interval=args.interval, extension=False))
        Integration.objects.filter(pk=integration_id).update(running=True)
        Integration.objects.get(pk=integration_id).save()  # writes the beat entries
        print(f"load before: {Path('/proc/loadavg').read_text().strip()}", flush=True)
        with Hosts(max(hosts for _, hosts in shapes)) as hosts:
            for broker in args.brokers.split(","):
                run = Run(home, env, hosts, brokers[broker])
                print(f"--- broker {broker}", flush=True)
                for workers, host_count, limit in [
                    *((w, h, 0) for w, h in shapes),
                    (*shapes[-1], args.limit),
                ]:
                    print(one_shape(args, run, workers, host_count, limit), flush=True)
                    print(f"    load: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    finally:
        connections.close_all()
        redis.terminate()
        redis.wait(30)
        postgres(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if "rabbitmq" in args.brokers:
            subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
