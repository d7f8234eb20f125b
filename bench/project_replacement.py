"""Times the project replacement job: one collection's project replaced under a running
integration holding many pairs and activities.

    PYTHONPATH=$PWD .venv/bin/python bench/project_replacement.py [--database postgres://…] \
        [--pairs 100000] [--activities 100000]

Fills a fresh database (SQLite in a new data directory when ``--database`` is empty; a PostgreSQL
database is created when missing and must be dropped before the next run) with a local
repository, a collection, an integration, the given numbers of pairs and completed activities of
the project, then records the replacement and runs the job in this process, and prints the job's
wall time and rows rewritten per second (the schema check reads the local tracker, no network).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="")
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=100_000)
    options = parser.parse_args()
    setup_django(options.database)

    from activity import jobs
    from activity.models import ArtifactActivity, ArtifactPair
    from connectors.local import service
    from connectors.local.models import LocalProject
    from hub import vault
    from integrations import project_replacement, services
    from integrations.models import Integration, Repository, RepositoryCollection, Route

    vault.set_master_password("bench master password")
    alpha, beta = service.tracker("alpha"), service.tracker("beta")
    service.create_project(alpha, "DEMO", "Demo")
    service.create_project(beta, "WEB", "Website")
    a = RepositoryCollection.objects.create(
        name="A",
        repository=Repository.objects.create(label="Alpha", kind="local", url="local://alpha"),
        artifact_types=["bug"],
    )
    b = RepositoryCollection.objects.create(
        name="B",
        repository=Repository.objects.create(label="Beta", kind="local", url="local://beta"),
        artifact_types=["bug"],
    )
    services.set_projects(a, [{"id": "DEMO", "key": "DEMO", "name": "Demo"}])
    services.set_projects(b, [{"id": "WEB", "key": "WEB", "name": "Website"}])
    integration = Integration.objects.create(name="A ↔ B", collection_a=a, collection_b=b)
    Route.objects.create(integration=integration, project_a="DEMO", project_b="WEB")
    started = time.perf_counter()
    ArtifactPair.objects.bulk_create(
        (
            ArtifactPair(
                integration_id=integration.pk,
                a_artifact_id=str(n),
                a_project="DEMO",
                b_artifact_id=str(n),
                b_project="WEB",
            )
            for n in range(options.pairs)
        ),
        batch_size=5000,
    )
    ArtifactActivity.objects.bulk_create(
        (
            ArtifactActivity(
                integration_id=integration.pk,
                source_side="A",
                artifact_id=str(n),
                source_project="DEMO",
                target_project="WEB",
                status="completed",
            )
            for n in range(options.activities)
        ),
        batch_size=5000,
    )
    filled = time.perf_counter() - started
    print(f"filled {options.pairs} pairs and {options.activities} activities in {filled:.1f} s")

    LocalProject.objects.filter(tracker=alpha, key="DEMO").update(key="DEMO2")
    [invalid] = services.refresh_projects(a)
    services.replace_project(invalid, "DEMO2", "Demo")
    job = project_replacement.start(a)
    started = time.perf_counter()
    job = jobs.execute(job.pk)
    took = time.perf_counter() - started
    rows = sum(job.details["rewritten"].values())
    print(f"job {job.status}: {job.details['rewritten']} in {took:.2f} s = {rows / took:,.0f} rows/s")


if __name__ == "__main__":
    main()
