"""Where the suite's CPU goes: with ``HUB_TEST_CPU_REPORT=<file>`` every test appends one line,
``<cpu seconds> <wall seconds> <node id>``, where the CPU is the test process's own plus that of
the processes it started and has reaped (servers, workers, Hub instances: their CPU arrives when the
fixture that started them stops them, so read the figures per module, not per test). CI's budget is
CPU-bound on 2 cores, so this, not wall time under load, says what to make cheaper:

    HUB_TEST_CPU_REPORT=/tmp/cpu.txt make test
    .venv/bin/python -m tests.support.cpu_report /tmp/cpu.txt        # the costliest modules

Registered by tests/conftest.py (docs/operations.md).
"""

from __future__ import annotations

import collections
import os
import resource
import sys
import time

import pytest

REPORT = os.environ.get("HUB_TEST_CPU_REPORT")


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not REPORT:
        yield
        return
    cpu, wall = _cpu_seconds(), time.monotonic()
    yield
    line = f"{_cpu_seconds() - cpu:.2f} {time.monotonic() - wall:.2f} {item.nodeid}\n"
    with open(REPORT, "a", encoding="utf-8") as report:  # one short append per test: whole lines
        report.write(line)


def summary(path: str, top: int = 40) -> str:
    cpu: collections.Counter = collections.Counter()
    wall: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    with open(path, encoding="utf-8") as report:
        for line in report:
            seconds, elapsed, nodeid = line.rstrip("\n").split(" ", 2)
            module = nodeid.split("::")[0]
            cpu[module] += float(seconds)
            wall[module] += float(elapsed)
            count[module] += 1
    lines = [f"{'CPU s':>8} {'wall s':>8} {'tests':>5}  module (total CPU {sum(cpu.values()):.0f} s)"]
    lines += [f"{cpu[m]:8.0f} {wall[m]:8.0f} {count[m]:5d}  {m}" for m, _ in cpu.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40))
