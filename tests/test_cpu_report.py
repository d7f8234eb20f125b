"""tests/support/cpu_report.py charges a running child's CPU while it runs, once."""

import os
import subprocess
import sys
import time

from tests.support import cpu_report

BURN = (
    "import sys, time\nend = time.process_time() + 1.0\nwhile time.process_time() < end: pass\n"
    "sys.stdin.read()"
)


def _wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_live_child_s_cpu_counts_before_it_is_reaped_and_only_once_after():
    before = cpu_report._cpu_seconds()
    child = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE)
    try:
        assert child.pid in cpu_report._descendants(os.getpid())
        # the child burns 1 s of CPU, then waits on stdin: still alive, not reaped
        assert _wait_for(lambda: cpu_report._live_cpu_seconds([child.pid]) >= 0.9)
        alive = cpu_report._cpu_seconds() - before
        assert alive >= 0.9
    finally:
        child.communicate(b"")
    reaped = cpu_report._cpu_seconds() - before
    assert alive <= reaped < alive + 0.5  # moved into the reaped count, not counted twice


def test_the_summary_adds_up_per_module(tmp_path):
    report = tmp_path / "cpu.txt"
    report.write_text(
        "1.50 2.00 tests/a.py::one\n0.50 1.00 tests/a.py::two\n3.00 0.10 (session fixtures' teardown)\n"
    )
    lines = cpu_report.summary(str(report)).splitlines()
    assert "total CPU 5 s" in lines[0]
    assert lines[1].split() == ["3", "0", "1", "(session", "fixtures'", "teardown)"]
    assert lines[2].split() == ["2", "3", "2", "tests/a.py"]
