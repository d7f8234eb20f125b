"""Where the suite's CPU goes: with ``HUB_TEST_CPU_REPORT=<file>`` every test appends one line,
``<cpu seconds> <wall seconds> <node id>``, where the CPU is what the test process and every
process below it spent while the test ran (setup, call and teardown): the test process's own, that
of the processes it has reaped, and that of the processes still running below it, read from /proc.
A server or browser started by a session fixture is thus charged to the tests that used it while
they ran, not, as the reaped CPU alone did, all at once to whichever test happened to run last in
its process (CI's report of 2026-12-02 showed 240 CPU s for the 11 wall seconds of
tests/metrics/test_dashboard.py and 198 s for the two trivial tests of tests/test_screenshots.py:
the whole run's Chromium and peer servers, reaped after the last test). Session fixtures' teardown
itself is one line of its own, ``(session fixtures' teardown)``; it can be negative: a process whose
parent exits without waiting for it (Chromium's helpers) is reaped by init, and its CPU, counted
while it ran, leaves the totals. CI's budget is CPU-bound on 2 cores,
so this, not wall time under load, says what to make cheaper:

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
SESSION_TEARDOWN = "(session fixtures' teardown)"
_TICKS = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """The live processes below ``pid`` (Linux's /proc/<pid>/task/<tid>/children)."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as children:
                    kids = [int(child) for child in children.read().split()]
            except OSError:
                continue
            found += kids
            pending += kids
    return found


def _live_cpu_seconds(pids: list[int]) -> float:
    """CPU of live processes, each with what it has reaped itself (utime, stime, cutime, cstime):
    when such a process is reaped, its CPU moves into its parent's counts, and is counted once."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += sum(int(value) for value in fields[11:15])  # fields 14-17 of proc(5)
    return ticks / _TICKS


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return reaped + _live_cpu_seconds(_descendants(os.getpid()))


def _append(cpu: float, wall: float, nodeid: str) -> None:
    with open(REPORT, "a", encoding="utf-8") as report:  # one short append per test: whole lines
        report.write(f"{cpu:.2f} {wall:.2f} {nodeid}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not REPORT:
        yield
        return
    cpu, wall = _cpu_seconds(), time.monotonic()
    item._cpu_report_session_teardown = None
    yield
    cpu_now, wall_now = _cpu_seconds(), time.monotonic()
    split = item._cpu_report_session_teardown  # set when the session's fixtures were torn down
    if split is None:
        _append(cpu_now - cpu, wall_now - wall, item.nodeid)
    else:
        _append(split[0] - cpu, split[1] - wall, item.nodeid)
        _append(cpu_now - split[0], wall_now - split[1], SESSION_TEARDOWN)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    if REPORT and nextitem is None:
        # The last test of this process: its teardown also tears down the session's fixtures. A
        # finalizer added to the session node now runs first of that node's (last in, first out):
        # after the test's, module's and package's fixtures, before the session's.
        def mark() -> None:
            item._cpu_report_session_teardown = (_cpu_seconds(), time.monotonic())

        item.session.addfinalizer(mark)
    yield


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
