"""Real Celery workers and beat in subprocesses, on the test database, for end-to-end and crash
tests. Each gets a HUB_HOME of its own that shares this instance's id (so the database lease is
theirs too), the test's master password file and its trusted license key."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from hub.instance import instance_id
from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[2]


def database_url(home: Path) -> str:
    """The test database for a worker; SQLite is the embedded default at ``HUB_HOME/hub.sqlite3``
    (linked to the test's file), with its WAL and write-lock settings."""
    info = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{info['USER']}@{info['HOST']}:{info['PORT']}/{info['NAME']}"
    if connection.vendor == "mysql":
        return f"mysql://{info['USER']}@{info['HOST']}:{info['PORT']}/{info['NAME']}"
    (home / "hub.sqlite3").symlink_to(Path(info["NAME"]).resolve())
    return ""


class Processes:
    """Start ``celery worker``/``celery beat`` processes; stop (or kill) them by their own pid."""

    def __init__(self, broker_url: str = ""):
        instance_id()  # make sure the id file exists before it is copied
        self.home = Path(tempfile.mkdtemp(prefix="hub-worker-home-"))
        for name in ("instance-id", "secret.key"):  # the same instance, able to read the password file
            shutil.copy(Path(settings.HUB_HOME) / name, self.home / name)
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HUB_HOME": str(self.home),
            "HUB_DATABASE_URL": database_url(self.home),
            "HUB_BROKER_URL": broker_url,
            "HUB_SECURITY_MASTERPASSWORDFILE": str(settings.HUB_MASTER_KEY_FILE or ""),
            "HUB_LICENSE_TRUSTEDKEYS": ",".join(settings.HUB_LICENSE_TRUSTED_KEYS),
        }
        self.env.pop("HUB_TEST_DATABASE_NAME", None)
        self.running: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, *arguments: str, env: dict | None = None) -> subprocess.Popen:
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "hub", *arguments, "--loglevel", "INFO"],
            cwd=REPO,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running[name] = process
        return process

    def worker(
        self, name: str = "worker", concurrency: int = 1, include: str = "", env: dict | None = None
    ) -> subprocess.Popen:
        """``include``: extra modules the worker imports at start (a test's fault injection, such as
        ``tests.engine.crash_point``), with ``env`` added to this one process's environment."""
        return self._start(
            name,
            "worker",
            "--pool",
            "solo" if concurrency == 1 else "prefork",
            "-c",
            str(concurrency),
            "-n",
            f"{name}@%h",
            *(["--include", include] if include else []),
            env=env,
        )

    def beat(self) -> subprocess.Popen:
        return self._start(
            "beat", "beat", "--schedule", str(self.home / "beat-schedule"), "--max-interval", "1"
        )

    def kill(self, name: str) -> None:
        """kill -9: no chance to finish anything."""
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def wait_for(condition, timeout: float, message: str, processes: Processes | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    logs = ""
    if processes is not None:
        # every process's log, whatever a test named it (a host's workers too)
        logs = "\n".join(
            f"--- {path.stem} ---\n{processes.log(path.stem)[-3000:]}"
            for path in sorted(processes.home.glob("*.log"))
        )
    raise AssertionError(f"{message} within {timeout} s\n{logs}")


class RedisServer:
    """A Redis of a test's own on a free port: the shared one is not ours to restart or to fill with
    queues that another test process's workers would consume."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.answers, 30, "redis-server did not start")

    def answers(self) -> bool:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return result.stdout.strip() == "PONG"

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
