"""``manage.py runhub``: start Hub — HTTPS console, HTTP redirect, sync worker and beat — and stop
all of it cleanly on Ctrl-C or SIGTERM.

This is what ``make run`` calls. Production installs may run the same pieces as separate
services instead (see ``deploy/``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub import firststart, gates, lease, lifecycle, logconfig, prometheus, serving

log = logging.getLogger("hub.server")
_PR_SET_PDEATHSIG = 1
# settings_app.transfer writes this file once the settings of a new operational database are in place.
RESTART_FILE = "restart-requested"
RESTART = 3


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]


def _die_with_parent() -> None:
    """Ask Linux to end the child if the supervisor itself is killed, so nothing is orphaned."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setsid()


def worker_concurrency() -> int:
    configured = settings.HUB["hub.workers"]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return 1  # SQLite takes one writer at a time; more workers would only queue on its lock
    return configured or 2


def planned_processes(cert: str, key: str, safe_mode: bool) -> list[Process]:
    hub = settings.HUB
    python = sys.executable
    processes = [Process("web", serving.web_argv(cert, key)), Process("redirect", serving.redirect_argv())]
    if not safe_mode:
        processes += [
            Process(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "hub",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    str(worker_concurrency()),
                    "--hostname",
                    f"hub-worker-{os.getpid()}@%h",
                ],
            ),
            Process(
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "hub",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--pidfile",
                    "",
                    "--schedule",
                    str(hub.run_dir / "celerybeat-schedule"),
                ],
            ),
        ]
    return processes


class Command(BaseCommand):
    help = "Start Hub: the HTTPS console, the HTTP redirect, a sync worker and beat."

    def add_arguments(self, parser):
        parser.add_argument(
            "--safe-mode",
            action="store_true",
            help="Start without running any integration: no change detection, no sync.",
        )
        parser.add_argument(
            "--troubleshooting",
            action="store_true",
            help="Log verbosely for two hours, then fall back to normal logging.",
        )

    def handle(self, *args, safe_mode: bool = False, troubleshooting: bool = False, **options):
        hub = settings.HUB
        safe_mode = safe_mode or settings.SAFE_MODE
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self._say(
                "WARNING: Hub is running as root. Run it as an ordinary user that owns HUB_HOME.",
                logging.WARNING,
            )
        firststart.secure_home(self._say)
        firststart.check_ports(hub)
        (Path(settings.HUB_HOME) / "run" / RESTART_FILE).unlink(missing_ok=True)  # this start reads them
        firststart.check_database()
        lifecycle.write_state(lifecycle.STARTING)
        firststart.migrate(self._say)
        if troubleshooting:
            state = logconfig.set_level(logconfig.TROUBLESHOOTING)
            self._say(f"Troubleshooting mode: verbose logging until {state['until']} (UTC).")
        cert, key = firststart.certificate(self._say)
        firststart.issue_license(self._say)
        keeper = lease.LeaseKeeper(self._say)
        keeper.start()
        if keeper.held:
            firststart.refresh_blockers(self._say)
        firststart.setup_token(self._say)
        if safe_mode:
            self._say(
                "Safe mode: integrations will not run (no change detection, no synchronization).",
                logging.WARNING,
            )

        env = {
            **os.environ,
            "HUB_HOME": str(hub.home),
            "HUB_SERVER_PORT": str(hub["server.port"]),
            "DJANGO_SETTINGS_MODULE": "hub.settings",
            # Every process writes its /metrics observations here; the scrape merges them.
            prometheus.MULTIPROCESS_ENV: str(prometheus.fresh_multiprocess_dir(hub.run_dir)),
        }
        if safe_mode:
            env["HUB_SAFE_MODE"] = "1"
        children: dict[str, subprocess.Popen] = {}
        stopping = {"signal": None}

        def request_stop(signum, _frame):
            stopping["signal"] = signum

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            for process in planned_processes(str(cert), str(key), safe_mode):
                children[process.name] = subprocess.Popen(
                    process.argv, env=env, cwd=settings.BASE_DIR, preexec_fn=_die_with_parent
                )
            if self._wait_until_serving(children, stopping):
                lifecycle.write_state(lifecycle.RUNNING)
                self._say(
                    f"Hub is running: https://localhost:{hub['server.port']}/ "
                    f"(http://localhost:{hub['server.redirect.port']}/ redirects there). "
                    "Ctrl-C stops it."
                )
            exit_code = self._supervise(children, stopping, keeper)
        finally:
            keeper.stop()
            lifecycle.write_state(lifecycle.STOPPING)
            self._stop(children, hub["server.shutdown.timeout"])
            lifecycle.clear_state()
        self._say("Hub stopped.")
        if exit_code == RESTART:
            os.execv(sys.executable, [sys.executable, *sys.argv])  # noqa: S606 — the same command again
        if exit_code:
            raise CommandError(
                f"{lifecycle.STOPPED_CODE}: a Hub process ended unexpectedly; see the messages above and "
                "logs/hub.log"
            )

    def _wait_until_serving(self, children, stopping, slow_after_seconds: float = 60) -> bool:
        """Wait until the web server answers; True once it does. After ``slow_after_seconds`` say
        16002W once and keep waiting: "Hub is running" is printed only when it really serves, so
        whoever waits for that line (an operator, a test, a unit) can use the console at once."""
        url = f"https://127.0.0.1:{settings.HUB['server.port']}/api/health"
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        slow_at = time.monotonic() + slow_after_seconds
        while stopping["signal"] is None:
            if any(child.poll() is not None for child in children.values()):
                return False  # _supervise reports which one ended
            try:
                urllib.request.urlopen(url, context=insecure, timeout=2)  # noqa: S310 — our own URL
                return True
            except urllib.error.HTTPError:
                return True  # it answered; 503 only means a check fails, which health reports itself
            except OSError:
                if slow_at is not None and time.monotonic() >= slow_at:
                    message = lifecycle.slow_start_message(slow_after_seconds)
                    self._say(f"{lifecycle.SLOW_START_CODE}: {message}", logging.WARNING)
                    slow_at = None
                time.sleep(0.2)
        return False

    def _supervise(self, children, stopping, keeper: lease.LeaseKeeper) -> int:
        restart = Path(settings.HUB_HOME) / "run" / RESTART_FILE
        while stopping["signal"] is None:
            if restart.exists():
                # A database transfer switched the operational database: every process restarts on it.
                restart.unlink(missing_ok=True)
                self._say("The operational database changed (Storage Settings); Hub restarts its processes …")
                return RESTART
            keeper.tick(on_held=gates.refresh_global_blockers)
            for name, child in children.items():
                if child.poll() is not None:
                    self._say(lifecycle.stopped_message(name, child.returncode), logging.ERROR)
                    return 1
            time.sleep(0.5)
        self._say("Stopping Hub …")
        return 0

    def _stop(self, children, timeout: int) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"The {name} process did not stop within {timeout} s; killing it.", logging.WARNING)
                child.kill()
                child.wait()

    def _say(self, message: str, level: int = logging.INFO) -> None:
        log.log(level, message)
        stream = self.stderr if level >= logging.WARNING else self.stdout
        stream.write(message)
