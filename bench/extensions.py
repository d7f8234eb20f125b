"""Extension runtime benchmark: the time of one custom data transformation call with a warm
sandbox (median and p95), the same call with one ``store.retrieveValue`` host call, and — with
``--sync N`` — bench/sync.py's initial sync of N items in ``--rounds`` interleaved rounds without
and with custom transformations on both mapped fields: the medians of the rates, their ratio,
and the workers' CPU per artifact (sandbox children included) on each side.

    PYTHONPATH=. python bench/extensions.py --calls 5000
    PYTHONPATH=. python bench/extensions.py --calls 5000 --sync 2000 --rounds 5 --database postgres

Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = """var inputTypes = ['String', 'String'];
var outputTypes = 'String';
function transform(context, input) {
  return 'ID: ' + input[0] + ' :: ' + input[1];
}
"""
WITH_STORE = """var inputTypes = 'String';
var outputTypes = 'String';
function transform(context, input) {
  return store.retrieveValue('Products', input) || input;
}
"""


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--sync", type=int, default=0, help="items for the initial sync comparison (0: skip)")
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds of the sync comparison")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="sqlite")
    return parser.parse_args()


def child_cpu() -> float:
    """CPU seconds the sandbox child has used (user + system), from /proc."""
    from extensions.runtime import SANDBOX

    pid = SANDBOX.pid()
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(call, count: int) -> tuple[float, float, float]:
    """(median ms, p95 ms, CPU ms per call of this process and the sandbox child together): on a
    loaded machine the wall times mostly measure waiting for a core, the CPU time does not."""
    samples = []
    cpu_started, child_started = time.process_time(), child_cpu()
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_started + child_cpu() - child_started) / count
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95)] * 1000, cpu * 1000


def calls(count: int) -> None:
    home = tempfile.mkdtemp(prefix="hub-bench-ext-")
    os.environ.update(
        {
            "HUB_HOME": home,
            "HUB_DATABASE_URL": "",
            "HUB_BROKER_URL": "",
            "DJANGO_SETTINGS_MODULE": "hub.settings",
        }
    )
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from extensions import kvstores
    from extensions.hosts import HostApis
    from extensions.models import KeyValueStore
    from extensions.runtime import Compiled, invoke
    from hub import licensing, vault

    vault.set_master_password("benchmark master password")
    licensing.ensure_evaluation_license()
    kvstores.replace_pairs(KeyValueStore.objects.create(name="Products"), [("WEB", "Website")])
    plain, with_store = Compiled.of(SCRIPT), Compiled.of(WITH_STORE)
    context = {"sourceArtifact": {"formattedid": "US42", "name": "Login"}, "targetArtifact": {}}
    invoke(plain, "transform", [context, ["US42", "Login"]])  # warm: sandbox up, script compiled
    print(f"load before the calls: {Path('/proc/loadavg').read_text().strip()}")
    median, p95, cpu = timed(lambda: invoke(SCRIPT, "transform", [context, ["US42", "Login"]]), count)
    print(f"transform call, warm: median {median:.3f} ms, p95 {p95:.3f} ms, CPU {cpu:.3f} ms ({count} calls)")
    host = HostApis()
    invoke(with_store, "transform", [context, "WEB"], host)
    median, p95, cpu = timed(lambda: invoke(WITH_STORE, "transform", [context, "WEB"], HostApis()), count)
    print(
        f"transform call with one store.retrieveValue: median {median:.3f} ms, p95 {p95:.3f} ms, "
        f"CPU {cpu:.3f} ms"
    )
    print(f"load after the calls: {Path('/proc/loadavg').read_text().strip()}")


def sync_run(args, extension: bool) -> tuple[float, float]:
    """One initial sync of bench/sync.py: (artifacts/s from Run to the last pair, worker CPU ms per
    artifact — both workers and their sandbox children)."""
    command = [
        sys.executable,
        str(REPO / "bench" / "sync.py"),
        "--items",
        str(args.sync),
        "--initial-only",
        "--workers",
        str(args.workers),
        "--database",
        args.database,
    ]
    if extension:
        command.append("--extension")
    output = subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shown = ("Run →", "  processing", "  CPU", "  worker CPU", "failed")
    print("    " + "\n    ".join(line for line in output.splitlines() if line.startswith(shown)), flush=True)
    rate = re.search(r"= (\d+) artifacts/s", output)
    cpu = re.search(r"worker CPU per artifact: ([\d.]+) ms", output)
    return (float(rate.group(1)) if rate else 0.0), (float(cpu.group(1)) if cpu else 0.0)


def sync_comparison(args) -> None:
    """``--rounds`` rounds of one run without and one with extensions, the order alternating from
    round to round (without first, then with first, …), so neither side always meets the colder
    database or the quieter minute. One run's wall rate swings by a factor of two on this shared
    machine, and single ratios ranged 53–170 %; the medians of the rounds and the worker CPU per
    artifact (which waiting for a core does not inflate) are the figures to quote."""
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for round_number in range(args.rounds):
        order = (False, True) if round_number % 2 == 0 else (True, False)
        for extension in order:
            label = "with custom transformations on both fields" if extension else "without extensions"
            print(f"  round {round_number + 1}, {label} (load {load()}):", flush=True)
            runs[extension].append(sync_run(args, extension))
    rates = {side: [rate for rate, _ in runs[side]] for side in runs}
    cpus = {side: [cpu for _, cpu in runs[side]] for side in runs}
    paired = [
        with_ / without * 100 for with_, without in zip(rates[True], rates[False], strict=True) if without
    ]
    print(f"rates without: {rates[False]}; with: {rates[True]} artifacts/s")
    print(f"worker CPU ms/artifact without: {cpus[False]}; with: {cpus[True]}")
    median_without, median_with = statistics.median(rates[False]), statistics.median(rates[True])
    print(
        f"median rate: without {median_without:.0f}, with {median_with:.0f} artifacts/s = "
        f"{median_with / median_without * 100:.0f} %; median of the rounds' ratios "
        f"{statistics.median(paired):.0f} % (range {min(paired):.0f}–{max(paired):.0f} %)"
    )
    cpu_without, cpu_with = statistics.median(cpus[False]), statistics.median(cpus[True])
    print(
        f"median worker CPU per artifact: without {cpu_without:.3f} ms, with {cpu_with:.3f} ms "
        f"(+{cpu_with - cpu_without:.3f} ms); CPU-bound rate ratio {cpu_without / cpu_with * 100:.0f} %"
    )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    args = arguments()
    if args.sync:
        print(
            f"initial sync of {args.sync} items ({args.database}, {args.workers} workers), "
            f"{args.rounds} rounds without / with extensions, alternating order:",
            flush=True,
        )
        sync_comparison(args)
    if args.calls:
        calls(args.calls)


if __name__ == "__main__":
    main()
