"""Sync engine benchmark: two local trackers, an integration between them, N items, real Celery
workers and beat. Prints, from one run: the time from Run to the last pair (what a user waits for),
with change detection and processing shown separately; the limit (a plain script that reads the
same N source rows and bulk-inserts the twins and their pair rows on the same database) and the
ratio Hub / limit; update propagation latency (p50/p95 at the detection interval); database bytes
per synchronized pair; CPU seconds and peak memory of every process, and the machine's load.

    PYTHONPATH=. python bench/sync.py --items 10000 --workers 2 --database postgres

PostgreSQL is expected at 127.0.0.1 (5432, user postgres); the run starts a redis-server of its own
on a free port (or give --redis URL). A database ``hub_bench_<random>`` and a data directory are
made for the run and removed after it (``--keep`` keeps them). Not a test: it prints figures, it
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.utils import timezone

REPO = Path(__file__).resolve().parents[1]
WITHOUT = "(no foundation)"  # as bench/sync_without_people.py
sys.path.insert(0, str(REPO / "bench"))


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--updates", type=int, default=200, help="items changed to measure propagation")
    parser.add_argument("--interval", type=int, default=5, help="change detection interval (s)")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--redis",
        default="",
        help="broker URL; by default a redis-server of the run's own on a free port (a shared Redis"
        " database would let another run's workers take this run's tasks)",
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", default="", help="a directory: each worker's cProfile is written there")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for the initial sync")
    parser.add_argument(
        "--until",
        default="",
        help="HH:MM (UTC): cut the initial sync at this time of day at the latest, as --timeout does"
        " (a large run started before a deadline)",
    )
    parser.add_argument(
        "--no-limit",
        action="store_true",
        help="do not run the limit script after the figures (at 1,000,000 rows it takes minutes and"
        " holds every row in memory)",
    )
    parser.add_argument(
        "--screen",
        action="store_true",
        help="after the run, time the Activity screen's banner and first pages, and the database size"
        " again once the 100,000-completed cap has pruned (the large run)",
    )
    parser.add_argument(
        "--initial-only",
        action="store_true",
        help="stop after the initial sync's figures (no update propagation, sizes or limit run)",
    )
    parser.add_argument(
        "--extension",
        action="store_true",
        help="map both fields of the Beta collection through custom data transformations (extensions)",
    )
    parser.add_argument(
        "--people",
        action="store_true",
        help="items carry an assignee (a person field both ways); times two integrations of the same "
        "run, one without the user-count data foundation (no person sightings) and one with it",
    )
    parser.add_argument(
        "--with-first",
        action="store_true",
        help="with --people: in each round, time the integration with the foundation first (the"
        " second phase of a round may be slower for reasons of its own)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="with --people: rounds of one phase without the foundation and one with it, interleaved"
        " (without, with, without, with, ...), each on an integration and items of its own",
    )
    return parser.parse_args()


def postgres(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


def environment(args, home: Path, database: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HUB_HOME": str(home),
        "HUB_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}"
        if args.database == "postgres"
        else "",
        "HUB_BROKER_URL": args.redis if args.database == "postgres" else "",
        "HUB_SECURITY_MASTERPASSWORDFILE": str(home / "master.key"),
        "DJANGO_SETTINGS_MODULE": "hub.settings",
    }


def configure(args) -> int:
    """Migrate, set a master password and the evaluation license, build the configuration and the
    items; returns the integration id (not started yet)."""
    from django.core.management import call_command

    from connectors.local import service
    from hub import licensing, vault
    from integrations.models import (
        FieldMapping,
        Integration,
        Model,
        ModelField,
        Repository,
        RepositoryCollection,
    )
    from integrations.services import set_projects

    call_command("migrate", verbosity=0)
    vault.set_master_password("benchmark master password")
    licensing.ensure_evaluation_license()
    alpha, beta = service.tracker("alpha"), service.tracker("beta")
    projects = service.create_project(alpha, "DEMO", "Demo"), service.create_project(beta, "WEB", "Web")
    model = Model.objects.create(name="Defect")
    ModelField.objects.create(model=model, key="title", label="Title", type="string")
    ModelField.objects.create(model=model, key="details", label="Details", type="rich_text")
    mapped = [("summary", "title", "string"), ("description", "details", "rich_text")]
    if args.people:
        ModelField.objects.create(model=model, key="owner", label="Owner", type="person")
        mapped.append(("assignee", "owner", "person"))
    collections: dict[str, list] = {}
    for suffix in suffixes(args):  # "2", "3", ...: the collections of DEMO2 and WEB2, ...
        for label, url, project in (("Alpha", "local://alpha", "DEMO"), ("Beta", "local://beta", "WEB")):
            repository = Repository.objects.get_or_create(label=label, kind="local", url=url)[0]
            collection = RepositoryCollection.objects.create(
                name=f"{label} defects{suffix}", repository=repository, model=model, artifact_types=["bug"]
            )
            key = f"{project}{suffix}"
            set_projects(collection, [{"id": key, "key": key, "name": key}])
            for field, model_key, kind in mapped:
                extension = bench_extension(kind) if args.extension and label == "Beta" else None
                FieldMapping.objects.create(
                    collection=collection,
                    repository_fields=[field],
                    repository_field_types={field: kind},
                    model_fields=[model_key],
                    model_field_types={model_key: kind},
                    transform="extension" if extension else "copy",
                    params={"to_model_extension": extension, "to_repository_extension": extension}
                    if extension
                    else {},
                )
            collections.setdefault(suffix, []).append(collection)
    integration = Integration.objects.create(
        name="Bench",
        collection_a=collections[""][0],
        collection_b=collections[""][1],
        field_flows={"title": "both", "details": "both", **({"owner": "both"} if args.people else {})},
        conflict_strategy="a_wins",
        detection_interval=args.interval,
    )
    integration.routes.create(project_a="DEMO", project_b="WEB", direction="both")
    reporter = service.hub_user(alpha)
    if args.people:
        people(args, integration, collections, alpha, beta, projects, reporter)
        return integration.pk
    started = time.monotonic()
    create_items(args, projects[0], reporter, [])
    print(f"created {args.items} items in alpha in {time.monotonic() - started:.1f} s", flush=True)
    analyze_items(args)
    return integration.pk


def suffixes(args) -> list[str]:
    """The projects' suffixes: "" alone, or with --people two per round ("" and "2" for round 1,
    "3" and "4" for round 2, ...)."""
    return ["", *(str(n) for n in range(2, 2 * args.rounds + 1))] if args.people else [""]


def phase_names(args) -> list[tuple[int, str, str]]:
    """(round, integration name, suffix) of each integration of --people: in each round one with
    the data foundation (suffix "", "3", ...) and one without it (suffix "2", "4", ...)."""
    names = []
    for number in range(1, args.rounds + 1):
        base = "Bench" if number == 1 else f"Bench round {number}"
        with_suffix = "" if number == 1 else str(2 * number - 1)
        names.append((number, base, with_suffix))
        names.append((number, f"{base} {WITHOUT}", str(2 * number)))
    return names


def people(args, integration, collections, alpha, beta, projects, reporter) -> None:
    """Fifty people in both trackers (reconciliation matches them by username), an assignee on
    every item, and per round two integrations between collections of their own: one with the
    data foundation ("Bench", "Bench round 2", ...: projects DEMO ↔ WEB, DEMO3 ↔ WEB3, ...) and one
    without it ("Bench (no foundation)", ...: DEMO2 ↔ WEB2, DEMO4 ↔ WEB4, ...), each with as many
    items: bench/sync_without_people.py makes its workers skip the sightings of the latter."""
    from connectors.local import service
    from connectors.local.models import LocalUser

    users = []
    for n in range(50):
        users.append(
            LocalUser.objects.create(tracker=alpha, username=f"person{n}", email=f"p{n}@example.com")
        )
        LocalUser.objects.create(tracker=beta, username=f"person{n}", email=f"p{n}@example.com")
    started = time.monotonic()
    for _round, name, suffix in phase_names(args):
        if suffix == "":
            project = projects[0]
        else:
            other = type(integration).objects.get(pk=integration.pk)
            other.pk, other.name = None, name
            other.collection_a, other.collection_b = collections[suffix]
            other.save()
            other.routes.create(project_a=f"DEMO{suffix}", project_b=f"WEB{suffix}", direction="both")
            service.create_project(beta, f"WEB{suffix}", f"Web {suffix}")
            project = service.create_project(alpha, f"DEMO{suffix}", f"Demo {suffix}")
        create_items(args, project, reporter, users)
    print(
        f"created {args.items} items with an assignee for each of {2 * args.rounds} integrations "
        f"in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def analyze_items(args) -> None:
    """Planner statistics of the tracker's items, as a real tracker's database has them: the bench
    loads them all at once, and autovacuum's analyze may not come round before Run (the 1,000,000
    run of 2026-12-03 paged its listing on a plan for 300 rows: 1.5–3.7 s a page)."""
    if args.database != "postgres":
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE connectors_localitem")


def create_items(args, project, reporter, users) -> None:
    from connectors.local import service

    for start in range(0, args.items, 1000):  # the tracker's own bulk creation, 1,000 per request
        service.create_items(
            project,
            "bug",
            [
                (
                    {
                        "summary": f"Item {n}",
                        "description": "Steps to reproduce " * 5,
                        **({"assignee": str(users[n % len(users)].pk)} if users else {}),
                    },
                    "",
                )
                for n in range(start, min(start + 1000, args.items))
            ],
            reporter=reporter,
        )


def bench_extension(kind: str) -> str:
    """A custom data transformation of one field type (a trim, which keeps the value as it is)."""
    from extensions.models import Extension

    label = {"string": "String", "rich_text": "Rich Text"}[kind]
    name = f"Trim {label}"
    Extension.objects.get_or_create(
        name=name,
        defaults={
            "type": "custom_data_transformation",
            "script": f"var inputTypes = '{label}';\nvar outputTypes = '{label}';\n"
            "function transform(context, input) { return input ? input.trim() : input; }\n",
        },
    )
    return name


def start(
    children, env, home: Path, *arguments: str, name: str, people: bool = False, profile: str = ""
) -> subprocess.Popen:
    """A Celery process, started by ``children`` (bench/processes.py: stopped on any end of the
    bench); with ``people``, the worker of bench/sync_without_people.py; with ``profile`` (a
    directory) under cProfile, its profile written there when it stops."""
    log = open(home / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process
    celery = [str(REPO / "bench" / "sync_without_people.py")] if people else ["-m", "celery"]
    profiler = ["-m", "cProfile", "-o", str(Path(profile) / f"{name}.prof")] if profile else []
    return children.start(
        [sys.executable, *profiler, *celery, "-A", "hub", *arguments, "--loglevel", "WARNING"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait(condition, timeout: float, what: str, progress=None, *, fatal: bool = True) -> bool:
    """Poll ``condition`` until it holds; ``progress()`` is called every 30 s meanwhile. When the
    time runs out: an exit, or (``fatal=False``) False."""
    started = time.monotonic()
    deadline, shown = started + timeout, started
    while time.monotonic() < deadline:
        if condition():
            return True
        if progress and time.monotonic() - shown >= 30:
            shown = time.monotonic()
            progress(shown - started)
        time.sleep(0.5)
    if fatal:
        raise SystemExit(f"gave up waiting: {what}")
    print(f"gave up waiting after {timeout} s: {what}", flush=True)
    return False


def progress_line(processes):
    """A progress line of a long run: pairs made, activities by status, each process's RSS."""
    from django.db.models import Count

    from activity.models import ArtifactActivity, ArtifactPair

    def show(seconds: float) -> None:
        statuses = dict(ArtifactActivity.objects.values_list("status").annotate(n=Count("id")))
        rss = ", ".join(f"{peak_rss_mb(p.pid):.0f}" for p in processes)
        print(
            f"  {seconds:.0f} s: {ArtifactPair.objects.count()} pairs; activities {statuses}; "
            f"peak RSS MB {rss}; load {load_average()}",
            flush=True,
        )

    return show


def database_bytes(args, items: int) -> dict[str, float]:
    from django.db import connection

    tables = {
        "pairs": "activity_artifactpair",
        "activities": "activity_artifactactivity",
        "counters": "metrics_dailycount",
    }
    sizes = {}
    with connection.cursor() as cursor:
        for label, table in tables.items():
            if args.database == "postgres":
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            else:
                # dbstat names each b-tree (the table, its indexes); which table an index belongs to
                # is sqlite_master's tbl_name (dbstat has no such column)
                cursor.execute(
                    "SELECT SUM(pgsize) FROM dbstat"
                    " WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = %s)",
                    [table],
                )
            sizes[label] = (cursor.fetchone()[0] or 0) / items
    return sizes


def print_sizes(args, what: str) -> None:
    from activity.models import ArtifactActivity, ArtifactPair

    sizes = database_bytes(args, max(1, ArtifactPair.objects.count()))
    print(
        f"{what}: "
        + ", ".join(f"{label} {value:.0f}" for label, value in sizes.items())
        + f" — total {sum(sizes.values()):.0f} ({ArtifactActivity.objects.count()} activities kept)",
        flush=True,
    )


def large_run_figures(args) -> None:
    """What the large run adds: the database once the 100,000-completed cap has pruned (beat runs
    it every 10 minutes; here at once), before and after PostgreSQL's VACUUM, and the Activity
    screen's banner and first pages at that size (the test client: the whole middleware stack)."""
    from activity_screen import timed
    from common import signed_in_client
    from django.conf import settings
    from django.db import connection

    from activity import retention

    started = time.monotonic()
    removed = retention.trim_completed()
    print(
        f"100,000-completed cap: {removed} completed activities pruned in {time.monotonic() - started:.1f} s"
    )
    print_sizes(args, "  database bytes per pair after the prune")
    if args.database == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE activity_artifactactivity")
            cursor.execute("VACUUM ANALYZE activity_artifactpair")
        print_sizes(args, "  after VACUUM ANALYZE (space reusable, files not shrunk)")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM FULL activity_artifactactivity")
            cursor.execute("VACUUM FULL activity_artifactpair")
        print_sizes(args, "  after VACUUM FULL (the live rows alone)")
    settings.ALLOWED_HOSTS = ["*"]
    client = signed_in_client("bench", "administrator")
    # What serving the screen at this size adds to a process's memory: the bench process answers
    # through the test client as a web process would (its own peak, from making N items, is older).
    before = resident_mb()
    for label, url in (
        ("banner counts", "/activity/banner/"),
        ("Activities: completed, first page", "/activity/activities/completed/"),
        ("Activities: pending, first page", "/activity/activities/pending/"),
        ("Pairs, first page", "/activity/pairs/"),
    ):
        median, p90 = timed(client, url, 10)
        print(f"  Activity screen, {label}: median {median:.0f} ms, p90 {p90:.0f} ms; load {load_average()}")
    after = resident_mb()
    print(f"  resident memory of the process serving them: {before:.0f} MB before, {after:.0f} MB after")


def resident_mb() -> float:
    """This process's resident set now (``VmRSS``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


_figures: dict[str, float] = {}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its children's included once they are reaped)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime


def descendants(pid: int) -> list[int]:
    """The live descendants of a process (a worker's extension sandbox child among them), from each
    thread's /proc children list."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            pending.extend(children)
    return found


def descendant_cpu_seconds(pid: int) -> float:
    """CPU time since the Run of a process's live descendants: a worker's sandbox child is not
    reaped while the worker runs, so ``cpu_seconds(worker)`` never counts it."""
    total = 0.0
    for child in descendants(pid):
        try:
            total += cpu_seconds(child) - _figures.get(f"cpu_at_run_{child}", 0.0)
        except OSError:
            continue
    return total


_backend_cpu: dict[int, float] = {}  # backend pid → its CPU since the Run, as last seen


def postgres_cpu_seconds() -> float:
    """CPU time so far of the PostgreSQL backends serving this run's database, each as last seen:
    a worker's backend may end before the figures are read (Celery closes a task's connections), so
    the bench samples them while it waits (every 0.5 s) and keeps the last reading of each. Other
    databases on the server — other people's tests on a shared machine — are not counted. A lower
    bound: the last half second of an ended backend is missed."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0  # SQLite works inside the processes already counted
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
    for pid in pids:
        try:
            _backend_cpu[pid] = cpu_seconds(pid) - _figures.get(f"postgres_at_run_{pid}", 0.0)
        except OSError:
            continue
    return sum(_backend_cpu.values())


def mark_postgres_cpu() -> None:
    """Remember each backend's CPU so far: later figures count from here."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        for (pid,) in cursor.fetchall():
            try:
                _figures[f"postgres_at_run_{pid}"] = cpu_seconds(pid)
            except OSError:
                continue


def since_run(pid: int) -> float:
    return cpu_seconds(pid) - _figures.get(f"cpu_at_run_{pid}", 0.0)


def report_initial_sync(args, run_at, load_before: str, processes, until=None) -> None:
    """Run → last pair, split into change detection (Run → the last activity of the source side)
    and processing (first activity → last pair), with the CPU each process spent. ``until``: the end
    of a window cut by --timeout; then only the pairs and activities created by then count, and
    the time is the whole window (the last pair made in it is not the end of the wait)."""
    from django.db.models import Count, Max, Min

    from activity.models import ArtifactActivity, ArtifactPair

    activities = ArtifactActivity.objects.filter(source_side="A")
    pairs = ArtifactPair.objects.all()
    if until is not None:
        activities, pairs = activities.filter(created__lte=until), pairs.filter(created__lte=until)
    source = activities.aggregate(first=Min("created"), last=Max("created"), n=Count("id"))
    made = pairs.aggregate(last=Max("created"), n=Count("id"))
    # Past the cap the oldest activities are gone: the first one as noted while the run went on,
    # and (a finished run) at least one activity per artifact.
    source["first"] = min(source["first"], _figures.get("first_activity", source["first"]))
    if until is None:
        source["n"] = max(source["n"], made["n"])
    _figures["pairs"] = made["n"]
    end = until or made["last"]
    total = (end - run_at).total_seconds()
    _figures["run_to_last_pair"] = total
    detection = (source["last"] - run_at).total_seconds()
    to_first = (source["first"] - run_at).total_seconds()
    processing = (end - source["first"]).total_seconds()
    what = "Run → last pair" if until is None else f"Run → end of the {args.timeout} s window"
    print(
        f"{what}: {made['n']} artifacts in {total:.1f} s = {made['n'] / total:.0f} artifacts/s "
        f"(what a user sees)" + ("" if until is None else f"; {args.items} were asked for"),
        flush=True,
    )
    print(
        f"  change detection: Run → first activity {to_first:.1f} s, Run → last activity {detection:.1f} s "
        f"({source['n']} activities, {source['n'] / max(detection - to_first, 1e-3):.0f}/s while paging)",
        flush=True,
    )
    print(
        f"  processing: first activity → {'last pair' if until is None else 'end of window'} "
        f"{processing:.1f} s ({made['n'] / processing:.0f} artifacts/s; "
        f"overlaps detection by {max(0, detection - to_first):.1f} s)",
        flush=True,
    )
    _figures["hub_cpu"] = (
        sum(since_run(p.pid) for p in processes) + postgres_cpu_seconds() - _figures["postgres_cpu_at_run"]
    )
    print(
        "  CPU seconds: "
        + ", ".join(
            f"{name} {since_run(p.pid):.1f}"
            for name, p in zip(
                [*(f"worker{n}" for n in range(len(processes) - 1)), "beat"], processes, strict=True
            )
        )
        + f", PostgreSQL {postgres_cpu_seconds():.1f} (backends sampled every 0.5 s: a lower bound)"
        + f"; load average before {load_before}, after {load_average()}",
        flush=True,
    )


def worker_readings(args) -> dict[int, dict]:
    """Each worker's answer to bench/sync_without_people.py's ``bench_queries`` (statements sent so
    far, the backends' CPU), by pid; asked again until every worker answers (a worker of the solo
    pool answers between tasks)."""
    from hub.celery import app

    readings: dict[int, dict] = {}

    def answered() -> bool:
        for reply in app.control.broadcast("bench_queries", reply=True, timeout=2):
            for answer in reply.values():
                readings[answer["pid"]] = answer
        return len(readings) >= args.workers

    wait(answered, 120, "every worker to answer bench_queries")
    return readings


def quiet(args, pk: int) -> None:
    """Wait until the integration has no activity left to process and no worker runs a task: the
    phase's follow-up work (the twins' own detection, the last batches) belongs to it."""
    from activity.models import ArtifactActivity
    from hub.celery import app

    def idle() -> bool:
        if ArtifactActivity.objects.filter(integration_id=pk, status="pending").exists():
            return False
        active = app.control.inspect(timeout=1).active() or {}
        return len(active) >= args.workers and not any(active.values())

    wait(idle, 300, "the workers to be idle", fatal=False)


def phase_reading(args, workers) -> dict[str, float]:
    """What the workers have spent so far: CPU seconds (theirs with reaped children, and their live
    descendants'), statements sent, and their PostgreSQL backends' CPU."""
    answers = worker_readings(args)
    return {
        "cpu": sum(cpu_seconds(w.pid) for w in workers) + sum(descendant_cpu_seconds(w.pid) for w in workers),
        "queries": sum(a["queries"] for a in answers.values()),
        "backend_cpu": sum(a["backend_cpu"] for a in answers.values()),
    }


def compare_people(args, integration_id: int, workers) -> None:
    """Rounds of the integration without the data foundation, then the one with it (each its own
    items), on the same workers: each phase's Run → last pair and rate, and — the figures a
    shared machine does not blur — the workers' CPU seconds, statements and PostgreSQL backend CPU
    per artifact, and the sightings it wrote."""
    from django.db.models import Max

    from activity.models import ArtifactPair
    from integrations.engine.tasks import detect
    from integrations.models import Integration
    from metrics.models import PersonSighting, RepositoryPerson

    kinds = ("without", "with")
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for number in range(1, args.rounds + 1):
        rounds = [(n, name, suffix) for n, name, suffix in phase_names(args) if n == number]
        phases = [("without" if WITHOUT in name else "with", name) for _n, name, _s in rounds]
        phases.sort(key=lambda phase: phase[0] != ("with" if args.with_first else "without"))
        for kind, name in phases:
            pk = Integration.objects.get(name=name).pk
            before = phase_reading(args, workers)
            load_before, run_at = load_average(), timezone.now()
            Integration.objects.filter(pk=pk).update(running=True)
            Integration.objects.get(pk=pk).save()
            detect.delay(pk)
            pairs = ArtifactPair.objects.filter(integration_id=pk)

            wait(lambda pairs=pairs: pairs.count() >= args.items, 3600, f"initial sync of {name}")
            seconds = (pairs.aggregate(last=Max("created"))["last"] - run_at).total_seconds()
            Integration.objects.filter(pk=pk).update(running=False)
            quiet(args, pk)
            after = phase_reading(args, workers)
            figures = {key: (after[key] - before[key]) / args.items for key in after}
            figures["rate"] = args.items / seconds
            figures["sightings"] = PersonSighting.objects.filter(integration_id=pk).count()
            results[kind].append(figures)
            print(
                f"round {number}, {kind} the data foundation ({name}): {args.items} artifacts with an "
                f"assignee, Run → last pair {seconds:.1f} s = {figures['rate']:.1f} artifacts/s; "
                f"per artifact: worker CPU {figures['cpu'] * 1000:.2f} ms, "
                f"{figures['queries']:.2f} statements, "
                f"PostgreSQL backends {figures['backend_cpu'] * 1000:.2f} ms; "
                f"sightings {figures['sightings']}; "
                f"load average before {load_before}, after {load_average()}",
                flush=True,
            )
    print("summary (median over the rounds; with / without):", flush=True)
    for key, label, scale, unit in (
        ("rate", "rate", 1, "artifacts/s"),
        ("cpu", "worker CPU per artifact", 1000, "ms"),
        ("queries", "statements per artifact", 1, ""),
        ("backend_cpu", "PostgreSQL backend CPU per artifact", 1000, "ms"),
    ):
        without, with_ = (statistics.median(r[key] for r in results[kind]) for kind in kinds)
        each = "; ".join(
            f"{kind} " + ", ".join(f"{r[key] * scale:.2f}" for r in results[kind]) for kind in kinds
        )
        print(
            f"  {label}: without {without * scale:.2f} {unit}, with {with_ * scale:.2f} {unit} = "
            f"{100 * with_ / without if without else float('nan'):.0f} % ({each})",
            flush=True,
        )
    print(f"repository people {RepositoryPerson.objects.count()}", flush=True)


def with_defaults(model, columns: str, rows: list[tuple]) -> tuple[str, list[tuple]]:
    """``columns`` and ``rows`` completed by every other required column of ``model`` at its
    default, as the ORM would write it: a column a later migration adds (``test_steps``,
    ``time_entry_map``, ``a_settled``) is NOT NULL without a database default, and the plain
    INSERT would fail."""
    from django.db import connection

    named = {name.strip() for name in columns.split(",")}
    extra = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and not f.generated
        and not f.null
        and f.column not in named
        and (f.has_default() or f.empty_strings_allowed)  # a CharField without default: ""
    ]
    values = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
    return ", ".join([columns, *(f.column for f in extra)]), [row + values for row in rows]


def limit_run(args) -> float:
    """The same machine and database without Hub: read the N source rows and bulk-insert a twin
    and a pair row for each, in one transaction (a third project, integration id 0, so Hub's own
    rows are untouched). Returns the seconds it took."""
    from django.db import connection, transaction

    from activity.models import ArtifactPair
    from connectors.local.models import LocalItem, LocalProject

    alpha = LocalProject.objects.get(key="DEMO")
    target = LocalProject.objects.create(tracker=alpha.tracker, key="LIMIT", name="Limit")
    started, cpu, database_cpu = time.monotonic(), time.process_time(), postgres_cpu_seconds()
    with transaction.atomic(), connection.cursor() as cursor:
        table = LocalItem._meta.db_table
        read = f"SELECT id, number, type, summary, description, status, priority, resolution FROM {table}"  # noqa: S608 - the model's own table name
        cursor.execute(read + " WHERE project_id = %s ORDER BY id", [alpha.pk])
        sources = cursor.fetchall()
        now = timezone.now()
        twins = [
            (
                target.pk,
                number,
                kind,
                summary,
                description,
                status,
                priority,
                resolution,
                "[]",
                False,
                "[]",
                now,
                now,
                1,
                "",
                "[]",
            )
            for (_id, number, kind, summary, description, status, priority, resolution) in sources
        ]
        columns = (
            "project_id, number, type, summary, description, status, priority, resolution, labels,"
            " customer_visible, web_links, created, updated, revision, creation_marker, test_steps"
        )
        columns, twins = with_defaults(LocalItem, columns, twins)
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            ids = [
                row[0]
                for row in execute_values(
                    cursor.cursor,
                    f"INSERT INTO {table} ({columns}) VALUES %s RETURNING id",  # noqa: S608
                    twins,
                    page_size=1000,
                    fetch=True,
                )
            ]
        else:
            placeholders = ", ".join(["%s"] * len(twins[0]))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", twins)  # noqa: S608
            cursor.execute(f"SELECT id FROM {table} WHERE project_id = %s ORDER BY id", [target.pk])  # noqa: S608
            ids = [row[0] for row in cursor.fetchall()]
        # The pair keeps each side's values as Hub's does (its snapshots), so it weighs the same.
        pairs = [
            (
                0,
                "Limit",
                str(source[0]),
                f"DEMO-{source[1]}",
                source[3],
                "",
                "DEMO",
                snapshot,
                str(twin),
                f"LIMIT-{source[1]}",
                source[3],
                "",
                "LIMIT",
                snapshot,
                "{}",
                "{}",
                "{}",
                now,
                now,
                now,
            )
            for source, twin in zip(sources, ids, strict=True)
            for snapshot in [json.dumps({"title": source[3], "details": source[4], "__revision__": "1"})]
        ]
        pair_columns = (
            "integration_id, integration_name, a_artifact_id, a_formatted_id, a_summary, a_url,"
            " a_project, a_snapshot, b_artifact_id, b_formatted_id, b_summary, b_url, b_project,"
            " b_snapshot, comment_map, attachment_map, time_entry_map, created, updated, last_synced_at"
        )
        pair_columns, pairs = with_defaults(ArtifactPair, pair_columns, pairs)
        if connection.vendor == "postgresql":
            execute_values(
                cursor.cursor,
                f"INSERT INTO activity_artifactpair ({pair_columns}) VALUES %s",  # noqa: S608
                pairs,
                page_size=1000,
            )
        else:
            placeholders = ", ".join(["%s"] * len(pairs[0]))
            cursor.executemany(
                f"INSERT INTO activity_artifactpair ({pair_columns}) VALUES ({placeholders})",  # noqa: S608
                pairs,
            )
    _figures["limit_cpu"] = time.process_time() - cpu
    _figures["limit_postgres_cpu"] = postgres_cpu_seconds() - database_cpu
    return time.monotonic() - started


def main() -> None:
    args = arguments()
    home = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    database = f"hub_bench_{uuid.uuid4().hex[:8]}"
    sys.path.insert(0, str(REPO))
    from processes import Children

    # Workers, beat and the redis-server are stopped however the bench ends: exception, SIGINT,
    # SIGTERM, SIGHUP (bench/processes.py); then the database and data directory are removed.
    with Children() as children:
        try:
            if args.database == "postgres":
                postgres(f'CREATE DATABASE "{database}"')
            run(args, children, home, database)
        finally:
            children.stop()
            from django.db import connections

            connections.close_all()
            if not args.keep:
                if args.database == "postgres":
                    postgres(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                shutil.rmtree(home, ignore_errors=True)


def own_redis(children) -> str:
    """A redis-server of the run's own on a free port (a shared Redis database would let another
    run's workers take this run's tasks)."""
    from tests.engine.workers import free_port

    port = free_port()
    children.start(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )

    def answers() -> bool:
        result = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        return result.stdout.strip() == "PONG"

    wait(answers, 30, "redis-server to start")
    return f"redis://127.0.0.1:{port}/0"


def window(args) -> float:
    """Seconds from now the initial sync may take: --timeout, or less when --until comes first."""
    if not args.until:
        return args.timeout
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    hour, minute = (int(part) for part in args.until.split(":"))
    until = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if until <= now:
        until += timedelta(days=1)
    return min(args.timeout, (until - now).total_seconds())


def run(args, children, home: Path, database: str) -> None:
    if args.database == "postgres" and not args.redis:
        args.redis = own_redis(children)
    env = environment(args, home, database)
    os.environ.update(env)
    import django

    django.setup()
    from activity.models import ArtifactActivity, ArtifactPair
    from connectors.local.models import LocalItem
    from connectors.local.service import update_item
    from integrations.engine.tasks import detect
    from integrations.models import Integration

    integration_id = configure(args)
    solo = ("--pool", "solo")
    workers = [
        start(
            children,
            env,
            home,
            "worker",
            *solo,
            "-n",
            f"bench{n}@%h",
            name=f"worker{n}",
            people=args.people,
            profile=args.profile,
        )
        for n in range(args.workers)
    ]
    processes = [*workers, start(children, env, home, "beat", "--schedule", str(home / "beat"), name="beat")]
    from hub.celery import app

    # Run once every worker answers: their start-up (seconds of imports) is not Hub's sync time.
    wait(lambda: len(app.control.ping(timeout=1)) >= args.workers, 300, "workers to start")
    if args.people:
        compare_people(args, integration_id, workers)
        return
    load_before = load_average()
    mark_postgres_cpu()
    _figures["postgres_cpu_at_run"] = 0.0
    for process in [*workers, processes[-1]]:  # their start-up is not the sync's
        _figures[f"cpu_at_run_{process.pid}"] = cpu_seconds(process.pid)
        for child in descendants(process.pid):  # a sandbox started with its worker
            _figures[f"cpu_at_run_{child}"] = cpu_seconds(child)
    run_at = timezone.now()
    Integration.objects.filter(pk=integration_id).update(running=True)
    Integration.objects.get(pk=integration_id).save()  # writes the beat entries
    detect.delay(integration_id)  # what Run does: the first detection at once, not at the next tick
    # The backends' CPU is sampled every 0.5 s; the pairs are counted less often in a large run (a
    # count of 1,000,000 rows every half second would be a tenth of a core of PostgreSQL's).
    every, counted = max(0.5, args.items / 250_000), [0.0]

    def all_paired() -> bool:
        postgres_cpu_seconds()
        if "first_activity" not in _figures:
            # Noted while it exists: the workers' cap trims the oldest completed activities of a
            # run past 100,000, the first among them, long before the report reads the table.
            first = ArtifactActivity.objects.filter(source_side="A").order_by("id").first()
            if first is not None:
                _figures["first_activity"] = first.created
        if time.monotonic() - counted[0] < every:
            return False
        counted[0] = time.monotonic()
        return ArtifactPair.objects.count() >= args.items

    cut = not wait(
        all_paired,
        window(args),
        "initial sync",
        progress_line(processes),
        fatal=False,
    )
    window_end = None
    if cut:
        # A large run cut by --timeout. The workers and beat are frozen (SIGSTOP) at the window's
        # end, so their CPU and the rows stand still; every figure below divides by what was done
        # inside the window (pairs and activities created by its end), not by what was asked for.
        children.freeze(processes)
        window_end = timezone.now()
    report_initial_sync(args, run_at, load_before, [*workers, processes[-1]], until=window_end)
    own = sum(since_run(w.pid) for w in workers)
    sandboxes = sum(descendant_cpu_seconds(w.pid) for w in workers)
    print(
        f"  worker CPU per artifact: {(own + sandboxes) / _figures['pairs'] * 1000:.3f} ms "
        f"(workers {own:.2f} s + their sandbox children {sandboxes:.2f} s, "
        f"{_figures['pairs']} pairs)",
        flush=True,
    )

    def rss() -> str:
        return (
            ", ".join(f"worker{n} {peak_rss_mb(w.pid):.0f} MB" for n, w in enumerate(workers))
            + f", beat {peak_rss_mb(processes[-1].pid):.0f} MB, bench {peak_rss_mb(os.getpid()):.0f} MB"
        )

    if cut:
        print(f"peak RSS: {rss()}", flush=True)
        children.stop(only=processes)  # what follows (sizes, screen, limit) runs without them
        args.items, args.updates = _figures["pairs"], 0
        print(f"workers stopped; figures below are of the {args.items} pairs of the window", flush=True)
    if args.initial_only:
        return

    pairs = dict(ArtifactPair.objects.values_list("a_artifact_id", "b_artifact_id"))
    chosen = random.sample(sorted(pairs), min(args.updates, len(pairs)))
    changed = {}
    for n, source_id in enumerate(chosen):
        item = update_item(int(source_id), {"summary": f"Changed {n}"})
        changed[source_id] = (item.updated, f"Changed {n}")
        time.sleep(args.interval * 2 / len(chosen))  # spread the changes over two intervals

    def twins_updated():
        twins = dict(
            LocalItem.objects.filter(pk__in=[int(pairs[s]) for s in chosen]).values_list("pk", "summary")
        )
        return all(twins[int(pairs[s])] == summary for s, (_, summary) in changed.items())

    if chosen:
        wait(twins_updated, 600, "update propagation")
        twin_times = dict(
            LocalItem.objects.filter(pk__in=[int(pairs[s]) for s in chosen]).values_list("pk", "updated")
        )
        latencies = sorted(
            (twin_times[int(pairs[s])] - when).total_seconds() for s, (when, _) in changed.items()
        )
        p50 = statistics.median(latencies)
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        print(
            f"update propagation ({len(latencies)} changes, {args.interval} s interval): "
            f"p50 {p50:.1f} s, p95 {p95:.1f} s"
        )
    print_sizes(args, "database bytes per pair")
    if args.screen:
        large_run_figures(args)
    if not cut:
        print(f"peak RSS: {rss()}")
    failed = ArtifactActivity.objects.filter(status="failed").count()
    print(f"failed activities: {failed}; beta items: {LocalItem.objects.filter(project__key='WEB').count()}")
    if args.no_limit:
        print("limit: not run (--no-limit)", flush=True)
        return
    # Last, so its rows are not counted above (they go to a project and integration of their own).
    limit = limit_run(args)
    print(
        f"limit (plain script, same {args.items} source rows, same database): {limit:.1f} s "
        f"= {args.items / limit:.0f} pairs/s",
        flush=True,
    )
    print(
        f"  CPU seconds: script {_figures['limit_cpu']:.1f}, "
        f"PostgreSQL {_figures['limit_postgres_cpu']:.1f}; "
        f"load average {load_average()}",
        flush=True,
    )
    hub_cpu = _figures["hub_cpu"]
    limit_cpu = _figures["limit_cpu"] + _figures["limit_postgres_cpu"]
    print(
        f"Hub / limit: {100 * limit / _figures['run_to_last_pair']:.0f} % by wall time, "
        f"{100 * limit_cpu / hub_cpu:.0f} % by CPU seconds (Hub's processes and PostgreSQL: "
        f"{hub_cpu:.1f} s, the limit's {limit_cpu:.1f} s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
