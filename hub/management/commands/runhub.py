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
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from hub import filemodes, gates, lease, licensing, lifecycle, logconfig, setup, tls
from hub.config import StartupError

log = logging.getLogger("hub.server")
_PR_SET_PDEATHSIG = 1


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
    address = hub["server.address"]
    timeout = str(hub["server.shutdown.timeout"])
    processes = [
        Process(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "hub.wsgi:application",
                "--bind",
                f"{address}:{hub['server.port']}",
                "--certfile",
                cert,
                "--keyfile",
                key,
                "--workers",
                str(hub["server.web.workers"] or 2),
                "--threads",
                "4",
                "--graceful-timeout",
                timeout,
                "--timeout",
                "120",
                "--access-logfile",
                str(hub.logs_dir / "access.log"),
                "--error-logfile",
                "-",
                "--log-level",
                "warning",
            ],
        ),
        Process(
            "redirect",
            [
                python,
                "-m",
                "gunicorn",
                "hub.redirect:application",
                "--bind",
                f"{address}:{hub['server.redirect.port']}",
                "--workers",
                "1",
                "--error-logfile",
                "-",
                "--log-level",
                "warning",
            ],
        ),
    ]
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


def check_ports(hub) -> None:
    """Both ports must be free to listen on at ``server.address``; say which is not, and why."""
    address = hub["server.address"]
    for key in ("server.port", "server.redirect.port"):
        try:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((address, hub[key]))
        except OSError as error:
            raise StartupError(
                f"Hub cannot start: it cannot listen on {address} port {hub[key]} ({key}): "
                f"{error.strerror or error}. Choose another {key} or server.address in "
                f"{hub.home / 'hub.properties'}, or stop what uses the port."
            ) from None


def check_database() -> None:
    """Reach the operational database before anything else uses it; one clear message if not."""
    from django.db import connection

    from hub.addresses import redact

    try:
        connection.ensure_connection()
    except Exception as error:  # noqa: BLE001 - every driver has its own errors; all mean "not reachable"
        detail = redact(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
        where = settings.HUB["hub.database.url"] or str(settings.DATABASES["default"]["NAME"])
        raise StartupError(
            f"Hub cannot start: the operational database ({redact(where)}) cannot be reached: {detail}. "
            "Check hub.database.url, that the database exists and that its server runs."
        ) from None
    finally:
        connection.close()


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
        self._say(f"Hub home: {hub.home}")
        for message, level in filemodes.report(*filemodes.secure_home(hub.home)):
            self._say(message, level)
        for warning in hub.warnings:
            self._say(f"WARNING: {warning}", logging.WARNING)
        check_ports(hub)
        check_database()
        lifecycle.write_state(lifecycle.STARTING)
        call_command("migrate", interactive=False, verbosity=0)
        if troubleshooting:
            state = logconfig.set_level(logconfig.TROUBLESHOOTING)
            self._say(f"Troubleshooting mode: verbose logging until {state['until']} (UTC).")

        cert, key, self_signed = tls.certificate_paths(hub)
        if self_signed:
            self._say(
                f"WARNING: HTTPS uses a self-signed certificate ({cert}); browsers will call it insecure. "
                "Replace it by setting server.ssl.certificate and server.ssl.certificate-key (PEM files) "
                f"in {hub.home / 'hub.properties'}.",
                logging.WARNING,
            )
        evaluation = licensing.ensure_evaluation_license()
        if evaluation:
            self._say(
                f"Issued a {licensing.EVALUATION_DAYS}-day evaluation license for this instance "
                f"(valid until {evaluation.expires:%Y-%m-%d}); see Settings → License."
            )
        keeper = lease.LeaseKeeper(self._say)
        keeper.start()
        if keeper.held:
            gates.refresh_global_blockers()
            if gates.security_problem():
                self._say("Integrations wait for the master password: set it in Settings → General.")
        token = setup.ensure_setup_token()
        if token:
            self._say(
                f"First start: open https://localhost:{hub['server.port']}/setup/ and enter the "
                f"setup token {token} (also in {hub.home / 'setup-token'})."
            )
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
            self._wait_until_serving(children, stopping)
            if stopping["signal"] is None:
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
        if exit_code:
            raise CommandError(
                f"{lifecycle.STOPPED_CODE}: a Hub process ended unexpectedly; see the messages above and "
                "logs/hub.log"
            )

    def _wait_until_serving(self, children, stopping, deadline_seconds: float = 60) -> None:
        url = f"https://127.0.0.1:{settings.HUB['server.port']}/api/health"
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline and stopping["signal"] is None:
            if any(child.poll() is not None for child in children.values()):
                return
            try:
                urllib.request.urlopen(url, context=insecure, timeout=2)  # noqa: S310 — our own URL
                return
            except urllib.error.HTTPError:
                return  # it answered; 503 only means a check fails, which health reports itself
            except OSError:
                time.sleep(0.2)
        if stopping["signal"] is None:
            message = lifecycle.slow_start_message(deadline_seconds)
            self._say(f"{lifecycle.SLOW_START_CODE}: {message}", logging.WARNING)

    def _supervise(self, children, stopping, keeper: lease.LeaseKeeper) -> int:
        while stopping["signal"] is None:
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
