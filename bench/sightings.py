"""The user-count data foundation's own cost in a batch: ``integrations.engine.counters.record`` on
one batch of artifacts, each with an assignee that reconciliation matched on the other side, with
the person sightings and without them, in the benchmark's own process (no workers, no tools).

    PYTHONPATH=$PWD .venv/bin/python bench/sightings.py [--database URL] [--batch 100] [--people 50]

Without ``--database``: SQLite in a fresh data directory; a PostgreSQL URL such as
postgres://postgres@127.0.0.1:5432/hub_bench_sightings is created if missing (and reused). The
batch is written once first (the people, sightings and counter rows then exist, as they do after a
sync's first batches of a month), then ``--repeat`` times per phase, alternating with / without,
each time in a transaction as the engine's batch commit is. Prints the process CPU per artifact
(on PostgreSQL the server's share is not in it) and the statements per batch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.engine.sync's stand-in
from common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20, help="batches per phase and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup_django(args.database)
    from django.db import connection, transaction

    from integrations.engine import counters
    from tests.engine.sync import matched_assignee

    def processor(n: int):
        return matched_assignee(f"p{n % args.people}")

    batch = [(processor(n), True) for n in range(args.batch)]
    with transaction.atomic():
        counters.record(batch)
    sight = counters.sight_persons
    phases = {"with": sight, "without": lambda *_args, **_kwargs: None}
    cpu: dict[str, list[float]] = {name: [] for name in phases}
    statements: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, function in phases.items():
            counters.sight_persons = function
            sent = [0]

            def counted(execute, sql, params, many, context, sent=sent):
                sent[0] += 1
                return execute(sql, params, many, context)

            started = time.process_time()
            with connection.execute_wrapper(counted):
                for _ in range(args.repeat):
                    with transaction.atomic():
                        counters.record(batch)
            cpu[name].append((time.process_time() - started) / (args.repeat * args.batch))
            statements[name] = sent[0] // args.repeat
    counters.sight_persons = sight
    print(f"{connection.vendor}, batch of {args.batch} artifacts, {args.people} people:")
    for name in phases:
        each = ", ".join(f"{value * 1000:.3f}" for value in cpu[name])
        print(
            f"  {name} the sightings: {statistics.median(cpu[name]) * 1000:.3f} ms CPU per artifact "
            f"(rounds: {each}); {statements[name]} statements per batch"
        )
    cost = statistics.median(cpu["with"]) - statistics.median(cpu["without"])
    print(f"  the sightings' own cost: {cost * 1000:.3f} ms CPU per artifact")


if __name__ == "__main__":
    main()
