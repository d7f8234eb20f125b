"""Container + Work Item benchmark (issue 18): a tree of C containers (epics) with N children spread
over them, synchronized from a local tracker into a second local tracker — or, with ``--redmine``,
into the real Redmine 5 (started as the tests start it; features for the epics, ``parent_issue_id``
for the children). In process, the way the Celery tasks run the engine (detect, then process
batches until nothing is due). Prints the initial sync time, the connector calls (local) or HTTP
requests (Redmine) by kind, and checks the tree arrived whole. Not a test: it asserts nothing.

    PYTHONPATH=. .venv/bin/python bench/containers.py --containers 1000 --children 10000
    PYTHONPATH=. .venv/bin/python bench/containers.py --redmine --containers 10 --children 100

SQLite in a fresh data directory unless ``--database postgres://…``.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import setup_django  # noqa: E402


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=1000)
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--redmine", action="store_true", help="target: the real Redmine 5 (a peer server)")
    parser.add_argument("--database", default="", help="empty: SQLite in the data directory")
    parser.add_argument("--batch", type=int, default=100)
    return parser.parse_args()


def counted(cls, names, calls: collections.Counter) -> None:
    """Count calls of ``cls``'s methods ``names`` (what the engine asks a connector for)."""
    for name in names:
        original = getattr(cls, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        setattr(cls, name, wrapper)


def build(args, redmine=None):
    from connectors.local import service
    from hub import licensing, vault
    from integrations.models import ContainerMirroring, FieldMapping, Integration, ModelField, Repository
    from integrations.models import RepositoryCollection as Collection
    from integrations.services import set_projects

    vault.set_master_password("benchmark master password")
    licensing.ensure_evaluation_license()
    from bench.common import defect_model

    model = defect_model()
    ModelField.objects.create(model=model, key="parent", label="Parent", type="container", position=9)
    alpha = service.tracker("alpha")
    source_project = service.create_project(alpha, "DEMO", "Demo")
    sides = [("Alpha", "local://alpha", "DEMO", {"title": "summary", "parent": "parent"}, "bug", {})]
    if redmine is None:
        service.create_project(service.tracker("beta"), "WEB", "Web")
        sides.append(("Beta", "local://beta", "WEB", {"title": "summary", "parent": "parent"}, "bug", {}))
        container_b = "epic"
    else:
        sides.append(
            (
                "Redmine",
                redmine.server.url,
                redmine.project_id,
                {"title": "subject", "parent": "parent"},
                "1",
                {"auth_method": "api_key", "token": redmine.server.api_key, "timeout": 60},
            )
        )
        container_b = "2"  # Redmine's Feature tracker
    collections_ = []
    for label, url, project, names, artifact_type, extra in sides:
        kind = "local" if url.startswith("local://") else "redmine"
        repository = Repository.objects.create(label=label, kind=kind, url=url, **extra)
        collection = Collection.objects.create(
            name=label, repository=repository, model=model, artifact_types=[artifact_type]
        )
        set_projects(collection, [{"id": project, "key": project, "name": project}])
        for key, field in names.items():
            kind_of = "container" if key == "parent" else "string"
            FieldMapping.objects.create(
                collection=collection,
                repository_fields=[field],
                repository_field_types={field: "relationship" if key == "parent" else "string"},
                model_fields=[key],
                model_field_types={key: kind_of},
            )
        collections_.append((collection, project))
    (a, project_a), (b, project_b) = collections_
    integration = Integration.objects.create(
        name="Tree bench",
        style=Integration.Style.CONTAINER_WORK_ITEM,
        collection_a=a,
        collection_b=b,
        creation_flow="a_to_b",
        field_flows={"title": "a_to_b", "parent": "a_to_b"},
        conflict_strategy="a_wins",
        running=True,
    )
    integration.routes.create(project_a=project_a, project_b=project_b, direction="a_to_b")
    ContainerMirroring.objects.create(
        integration=integration,
        container_types_a=["epic"],
        container_types_b=[container_b],
        match_field="title",
    )
    reporter = service.hub_user(alpha)
    started = time.monotonic()
    epics = []
    for start in range(0, args.containers, 1000):
        epics += service.create_items(
            source_project,
            "epic",
            [({"summary": f"Epic {n}"}, "") for n in range(start, min(start + 1000, args.containers))],
            reporter=reporter,
        )
    for start in range(0, args.children, 1000):
        service.create_items(
            source_project,
            "bug",
            [
                ({"summary": f"Item {n}", "parent": str(epics[n % len(epics)].pk)}, "")
                for n in range(start, min(start + 1000, args.children))
            ],
            reporter=reporter,
        )
    print(
        f"created {args.containers} epics and {args.children} children in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    return integration


def synchronize(integration, batch: int) -> dict:
    from django.utils import timezone

    from activity.models import ArtifactActivity
    from integrations.engine import detection, processing

    figures = {"detection s": 0.0, "processing s": 0.0, "rounds": 0}
    started = time.monotonic()
    for _ in range(20):  # rounds: a child waiting for its container (17020E) is retried next round
        figures["rounds"] += 1
        t = time.monotonic()
        detection.detect(integration.pk)
        figures["detection s"] += time.monotonic() - t
        t = time.monotonic()
        while processing.process_batch(limit=batch, worker="bench"):
            pass
        figures["processing s"] += time.monotonic() - t
        failed = ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED)
        if not failed.exists():
            break
        failed.update(next_retry_at=timezone.now())  # their retry time has come
    figures["initial sync s"] = time.monotonic() - started
    return figures


def check_tree(integration, args) -> str:
    from activity.models import ArtifactActivity, ArtifactPair

    pairs = ArtifactPair.objects.filter(integration_id=integration.pk).count()
    failed = collections.Counter(
        ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).values_list("code", flat=True)
    )
    placed = "n/a (Redmine)"
    if not args.redmine:
        from connectors.local.models import LocalItem

        twin = dict(
            ArtifactPair.objects.filter(integration_id=integration.pk).values_list(
                "a_artifact_id", "b_artifact_id"
            )
        )
        parent_of = dict(LocalItem.objects.values_list("pk", "parent_id"))
        children = [(a, b) for a, b in twin.items() if parent_of.get(int(a))]
        right = sum(1 for a, b in children if str(parent_of.get(int(b))) == twin.get(str(parent_of[int(a)])))
        placed = f"{right} of {len(children)} children under their container's twin"
    total = args.containers + args.children
    return f"pairs {pairs} of {total}; {placed}; failed activities by code {dict(failed)}"


def main() -> None:
    args = arguments()
    setup_django(args.database)
    from django.conf import settings

    settings.CELERY_TASK_ALWAYS_EAGER = True
    redmine = None
    calls: collections.Counter = collections.Counter()
    if args.redmine:
        from connectors.redmine.client import RedmineClient
        from tests.connectors.peers import prepare_redmine

        redmine = prepare_redmine(Path(tempfile.mkdtemp(prefix="bench-redmine-")))
        original = RedmineClient.call

        def call(self, method, path, **kwargs):
            shape = "/issues/N.json" if path.startswith("/issues/") else path
            calls[f"{method} {shape}"] += 1
            return original(self, method, path, **kwargs)

        RedmineClient.call = call
    else:
        from connectors.local.connector import LocalConnector

        counted(
            LocalConnector,
            [
                "read_artifact",
                "read_artifacts",
                "read_field_values",
                "create_artifact",
                "create_artifacts",
                "update_artifact",
                "changed_since",
                "container_of",
                "set_container",
            ],
            calls,
        )
    try:
        integration = build(args, redmine)
        calls.clear()
        figures = synchronize(integration, args.batch)
        total = args.containers + args.children
        print(
            f"initial sync of {args.containers} containers + {args.children} children: "
            f"{figures['initial sync s']:.1f} s ({total / figures['initial sync s']:.0f} artifacts/s; "
            f"detection {figures['detection s']:.1f} s, processing {figures['processing s']:.1f} s, "
            f"{figures['rounds']} rounds)"
        )
        print(f"{'requests' if redmine else 'connector calls'}: {sum(calls.values())} — {dict(calls)}")
        print(check_tree(integration, args))
        print("load average:", Path("/proc/loadavg").read_text().strip())
    finally:
        if redmine is not None:
            redmine.server.stop()


if __name__ == "__main__":
    main()
