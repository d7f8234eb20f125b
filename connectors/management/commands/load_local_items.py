"""Load many items into a local tracker quickly, for benchmarks: ``load_local_items --tracker alpha
--project DEMO --count 10000``. Prints the time it took."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connectors.local import service
from connectors.local.models import ItemType, Label, LocalItem, LocalProject, Priority

BATCH = 1000


class Command(BaseCommand):
    help = (
        "Create COUNT items in a local tracker project (made if missing), in bulk, and print the time taken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tracker", default="default", help="Tracker name (the NAME of local://NAME).")
        parser.add_argument("--project", default="DEMO", help="Project key; created if missing.")
        parser.add_argument("--count", type=int, required=True)

    def handle(self, *args, tracker: str, project: str, count: int, **options):
        if count < 1:
            raise CommandError("--count must be at least 1.")
        started = time.perf_counter()
        of = service.tracker(tracker)
        target = LocalProject.objects.filter(tracker=of, key=project.upper()).first()
        if target is None:
            target = service.create_project(of, project, f"{project.upper()} (benchmark)")
        reporter = service.hub_user(of)
        types, priorities, labels = ItemType.values, Priority.values, Label.values
        with transaction.atomic():
            # Reserve the numbers first so items made meanwhile by a sync or a page do not collide.
            LocalProject.objects.filter(pk=target.pk).update(next_number=F("next_number") + count)
            target.refresh_from_db(fields=["next_number"])
            first = target.next_number - count
            now = timezone.now()
            for start in range(0, count, BATCH):
                LocalItem.objects.bulk_create(
                    [
                        LocalItem(
                            project=target,
                            number=first + n,
                            type=types[n % len(types)],
                            summary=f"Benchmark item {first + n}",
                            description=f"Loaded by load_local_items, item {n + 1} of {count}.",
                            priority=priorities[n % len(priorities)],
                            labels=[labels[n % len(labels)]],
                            story_points=(n % 13)
                            if types[n % len(types)] in (ItemType.STORY, ItemType.EPIC)
                            else None,
                            reporter=reporter,
                            created=now,
                            updated=now,
                        )
                        for n in range(start, min(start + BATCH, count))
                    ]
                )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Loaded {count} items into {target.key} of local://{of.name} in {elapsed:.2f} s "
            f"({count / elapsed:.0f} items/s)."
        )
