"""bench/processes.py: whatever ends a bench — a stop signal, an exception, SIGKILL — no process it
started (nor what those started) is left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A child that starts a grandchild of its own (as a worker starts its pool or sandbox) and writes
# both pids; a bench that starts two such children, says so, then waits or fails.
CHILD = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[1], "a") as out:
    out.write(f"{__import__('os').getpid()} {grandchild.pid}\\n")
time.sleep(600)
"""
BENCH = """
import sys, time
sys.path.insert(0, sys.argv[1])
from processes import Children
with Children(grace=5) as children:
    for n in range(2):
        children.start([sys.executable, "-c", sys.argv[2], sys.argv[3]])
    print("started", flush=True)
    if sys.argv[4] == "exception":
        time.sleep(2)
        raise RuntimeError("the bench failed")
    time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def poll(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("ending", ["SIGTERM", "SIGINT", "SIGHUP", "exception", "SIGKILL"])
def test_no_child_survives_the_bench(tmp_path, ending):
    pids_file = tmp_path / "pids"
    bench = subprocess.Popen(
        [sys.executable, "-c", BENCH, str(REPO / "bench"), CHILD, str(pids_file), ending],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = []
    try:
        assert bench.stdout.readline().strip() == "started"

        def both_written():
            started[:] = [int(pid) for pid in pids_file.read_text().split()] if pids_file.exists() else []
            return len(started) == 4

        assert poll(both_written, 30), started
        assert all(alive(pid) for pid in started)
        if ending != "exception":
            bench.send_signal(getattr(signal, ending))
        bench.wait(30)
        if ending == "SIGKILL":
            # nothing of the bench ran: each child gets SIGTERM from the kernel (PR_SET_PDEATHSIG);
            # what a child started is that child's to stop (a Celery worker stops its pool)
            children = started[0::2]
            assert poll(lambda: not any(alive(pid) for pid in children), 10), children
        else:
            assert bench.returncode != 0
            assert poll(lambda: not any(alive(pid) for pid in started), 10), [
                pid for pid in started if alive(pid)
            ]
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
        for pid in started:  # only what this test started
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
