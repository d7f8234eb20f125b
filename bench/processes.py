"""The processes a bench starts (workers, beat, its own redis-server), stopped whatever ends the bench.

Each child is the leader of a process group of its own, so stopping it stops what it started too
(a prefork pool, an extension sandbox). They are stopped by the ``with`` block's exit (a normal end
or an exception), by SIGTERM, SIGINT or SIGHUP sent to the bench (turned into an exception, so the
``finally`` blocks run), by ``atexit``, and, should the bench itself be killed with SIGKILL, each
child gets SIGTERM from the kernel (``PR_SET_PDEATHSIG``) — its own group is then stopped by its own
handling of SIGTERM.

    with Children() as children:
        worker = children.start([sys.executable, "-m", "celery", ...], stdout=log)
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import time

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Interrupted(SystemExit):
    """The bench was sent a stop signal: raised in its main thread so ``finally`` blocks run."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Children:
    def __init__(self, grace: float = 20.0):
        self.grace = grace
        self.processes: list[subprocess.Popen] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Children:
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._interrupted)
        atexit.register(self.stop)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            for number, handler in self._previous.items():
                signal.signal(number, handler)
            atexit.unregister(self.stop)

    def _interrupted(self, number, frame) -> None:
        # later stop signals are ignored while the children are stopped
        for other in STOP_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        raise Interrupted(128 + number)

    def start(self, command: list[str], **popen) -> subprocess.Popen:
        process = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent, **popen)
        self.processes.append(process)
        return process

    def _signal(self, process: subprocess.Popen, number: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, number)

    def freeze(self, processes: list[subprocess.Popen]) -> None:
        """SIGSTOP to each one's group: their CPU and their rows stand still while figures are read."""
        for process in processes:
            self._signal(process, signal.SIGSTOP)

    def stop(self, only: list[subprocess.Popen] | None = None) -> None:
        """SIGTERM to every child's group, up to ``grace`` seconds for them to end, then SIGKILL to
        each group (its members too: a group outlives its leader while any member is alive). ``only``:
        those of the children alone."""
        processes = list(self.processes if only is None else only)
        self.processes = [p for p in self.processes if p not in processes]
        for process in processes:
            self._signal(process, signal.SIGTERM)
            self._signal(process, signal.SIGCONT)  # a frozen group handles its SIGTERM only once woken
        deadline = time.monotonic() + self.grace
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        for process in processes:
            self._signal(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
