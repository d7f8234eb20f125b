"""Sync engine benchmark: two local trackers, an integration between them, N items, real Celery
workers and beat. Prints initial sync throughput, update propagation latency (p50/p95, with a 5 s
detection interval), database bytes per synchronized pair and worker peak memory.

    PYTHONPATH=. python bench/sync.py --items 10000 --workers 2 --database postgres

PostgreSQL and Redis are expected at 127.0.0.1 (5432, user postgres; 6379 — or --redis URL). A
database ``hub_bench_<random>`` and a data directory are made for the run and removed after it
(``--keep`` keeps them). Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
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

REPO = Path(__file__).resolve().parents[1]


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--updates", type=int, default=200, help="items changed to measure propagation")
    parser.add_argument("--interval", type=int, default=5, help="change detection interval (s)")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--extension",
        action="store_true",
        help="map both fields of the Beta collection through custom data transformations (extensions)",
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
    collections = []
    for label, url, project in (("Alpha", "local://alpha", "DEMO"), ("Beta", "local://beta", "WEB")):
        repository = Repository.objects.create(label=label, kind="local", url=url)
        collection = RepositoryCollection.objects.create(
            name=f"{label} defects", repository=repository, model=model, artifact_types=["bug"]
        )
        set_projects(collection, [{"id": project, "key": project, "name": project}])
        for field, key, kind in (("summary", "title", "string"), ("description", "details", "rich_text")):
            extension = bench_extension(kind) if args.extension and label == "Beta" else None
            FieldMapping.objects.create(
                collection=collection,
                repository_fields=[field],
                repository_field_types={field: kind},
                model_fields=[key],
                model_field_types={key: kind},
                transform="extension" if extension else "copy",
                params={"to_model_extension": extension, "to_repository_extension": extension}
                if extension
                else {},
            )
        collections.append(collection)
    integration = Integration.objects.create(
        name="Bench",
        collection_a=collections[0],
        collection_b=collections[1],
        field_flows={"title": "both", "details": "both"},
        conflict_strategy="a_wins",
        detection_interval=args.interval,
    )
    integration.routes.create(project_a="DEMO", project_b="WEB", direction="both")
    reporter = service.hub_user(alpha)
    started = time.monotonic()
    for n in range(args.items):
        service.create_item(
            projects[0],
            "bug",
            {"summary": f"Item {n}", "description": "Steps to reproduce " * 5},
            reporter=reporter,
        )
    print(f"created {args.items} items in alpha in {time.monotonic() - started:.1f} s", flush=True)
    return integration.pk


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


def start(env, home: Path, *arguments: str, name: str) -> subprocess.Popen:
    log = open(home / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hub", *arguments, "--loglevel", "WARNING"],
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


def wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise SystemExit(f"gave up waiting: {what}")


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
                cursor.execute(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name = %s OR tbl_name = %s", [table, table]
                )
            sizes[label] = (cursor.fetchone()[0] or 0) / items
    return sizes


def main() -> None:
    args = arguments()
    home = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    database = f"hub_bench_{uuid.uuid4().hex[:8]}"
    if args.database == "postgres":
        postgres(f'CREATE DATABASE "{database}"')
    env = environment(args, home, database)
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from activity.models import ArtifactActivity, ArtifactPair
    from connectors.local.models import LocalItem
    from connectors.local.service import update_item
    from integrations.models import Integration

    processes = []
    try:
        integration_id = configure(args)
        workers = [
            start(env, home, "worker", "--pool", "solo", "-n", f"bench{n}@%h", name=f"worker{n}")
            for n in range(args.workers)
        ]
        processes = [*workers, start(env, home, "beat", "--schedule", str(home / "beat"), name="beat")]
        Integration.objects.filter(pk=integration_id).update(running=True)
        Integration.objects.get(pk=integration_id).save()  # writes the beat entries
        wait(lambda: ArtifactPair.objects.count() >= args.items, 3600, "initial sync")
        times = ArtifactActivity.objects.filter(status="completed")
        first = ArtifactActivity.objects.order_by("created").values_list("created", flat=True).first()
        last = times.order_by("-updated").values_list("updated", flat=True).first()
        seconds = (last - first).total_seconds()
        rate = args.items / seconds
        print(f"initial sync: {args.items} artifacts in {seconds:.1f} s = {rate:.0f} artifacts/s")

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
        sizes = database_bytes(args, args.items)
        print(
            "database bytes per pair: "
            + ", ".join(f"{label} {value:.0f}" for label, value in sizes.items())
            + f" — total {sum(sizes.values()):.0f}"
        )
        print("worker peak RSS: " + ", ".join(f"{peak_rss_mb(w.pid):.0f} MB" for w in workers))
        failed = ArtifactActivity.objects.filter(status="failed").count()
        print(
            f"failed activities: {failed}; beta items: {LocalItem.objects.filter(project__key='WEB').count()}"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            if args.database == "postgres":
                postgres(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
