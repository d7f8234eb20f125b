"""Start the real Hub (``manage.py runhub``) in a subprocess for tests that need the whole thing:
HTTPS on a free port, the redirect listener, worker and beat.

Each server gets its own HUB_HOME and, when the suite runs on PostgreSQL or MariaDB, its own
database on that server, created here and dropped on stop.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from hub.ids import is_digits

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ServerDatabase:
    """A database of the suite's own engine for one server process; SQLite needs none."""

    engine: str
    name: str = field(default_factory=lambda: f"hub_server_{uuid.uuid4().hex[:10]}")

    @property
    def url(self) -> str:
        if self.engine == "postgres":
            return f"postgres://postgres@127.0.0.1:5432/{self.name}"
        if self.engine == "mariadb":
            return f"mysql://root@127.0.0.1:3306/{self.name}"
        return ""

    def _execute(self, statement: str) -> None:
        if self.engine == "postgres":
            import psycopg2

            connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
            connection.autocommit = True
        else:
            import MySQLdb

            connection = MySQLdb.connect(host="127.0.0.1", user="root")
        try:
            connection.cursor().execute(statement)
        finally:
            connection.close()

    def create(self) -> None:
        if self.engine == "postgres":
            self._execute(f'CREATE DATABASE "{self.name}"')
        elif self.engine == "mariadb":
            self._execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def drop(self) -> None:
        if self.engine == "postgres":
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif self.engine == "mariadb":
            self._execute(f"DROP DATABASE IF EXISTS `{self.name}`")


@dataclass
class HubServer:
    home: Path
    port: int
    redirect_port: int
    process: subprocess.Popen
    log_path: Path
    database: ServerDatabase
    log_offset: int = 0  # a restart appends to the same file; this run's lines start here

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def log(self) -> str:
        with self.log_path.open("rb") as handle:
            handle.seek(self.log_offset)
            return handle.read().decode(errors="replace")

    def get(self, path: str, timeout: float = 60):
        """GET over HTTPS (the self-signed certificate is accepted); returns (status, body)."""
        try:
            with urllib.request.urlopen(
                self.url + path, context=insecure_context(), timeout=timeout
            ) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def setup_token(self) -> str:
        return (self.home / "setup-token").read_text().strip()

    def wait_until_running(self, deadline_seconds: float = 90) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"Hub exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if "Hub is running: https" in self.log():
                return
            time.sleep(0.2)
        raise AssertionError(f"Hub did not start within {deadline_seconds} s:\n{self.log()[-4000:]}")

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def _clean_environment() -> dict[str, str]:
    inherited = os.environ.items()
    return {key: value for key, value in inherited if not key.startswith(("HUB_", "DJANGO_", "PYTEST"))}


@functools.cache
def _migrated_sqlite_template() -> Path:
    """An embedded database with Hub's whole schema, made once per test process by the same
    ``manage.py migrate`` a first start runs. Migrating a new database costs ~3.7 CPU s, a start on
    a migrated one ~1.5 s (runhub still runs migrate, which then finds nothing to do); the suite
    starts a hundred Hubs or so on SQLite (figures: docs/operations.md)."""
    home = Path(tempfile.mkdtemp(prefix="hub-test-template-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    environment = {**_clean_environment(), "HUB_HOME": str(home), "HUB_DATABASE_URL": ""}
    from tests.support.live import manage  # live imports this module

    manage(environment, "migrate", "--verbosity", "0")
    assert not (home / "hub.sqlite3-wal").exists()  # the last connection's close checkpointed it
    return home / "hub.sqlite3"


def migrated_database(home: Path, database: ServerDatabase) -> None:
    """Give a new data directory on the embedded database the migrated template (a copy): its first
    start then applies no migration. Nothing when the directory has a database already, or the
    suite runs on a server database (which Hub migrates as on any first start)."""
    target = home / "hub.sqlite3"
    if database.engine == "sqlite" and not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_migrated_sqlite_template(), target)


def start_hub(
    home: Path, database: ServerDatabase, *args: str, env: dict | None = None, migrated: bool = True
) -> HubServer:
    """Start runhub on free ports and wait until it says it runs; the caller stops it.

    ``migrated``: a new data directory on SQLite starts from the migrated template
    (``migrated_database``); ``False`` has the first start migrate an empty database itself."""
    home.mkdir(parents=True, exist_ok=True)
    if migrated:
        migrated_database(home, database)
    port, redirect_port = free_port(), free_port()
    environment = _clean_environment()
    environment.update(
        {
            "HUB_HOME": str(home),
            "HUB_SERVER_PORT": str(port),
            "HUB_SERVER_REDIRECT_PORT": str(redirect_port),
            "HUB_SERVER_ADDRESS": "127.0.0.1",
            "HUB_SERVER_SHUTDOWN_TIMEOUT": "20",
            "HUB_DATABASE_URL": database.url,
            **(env or {}),
        }
    )
    log_path = home / "runhub.out"
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runhub", *args],
        cwd=REPO,
        env=environment,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = HubServer(home, port, redirect_port, process, log_path, database, log_offset)
    try:
        server.wait_until_running()
    except AssertionError:
        server.stop()
        raise
    return server


def run_shell(server: HubServer, database: ServerDatabase, script: str) -> str:
    """Run ``script`` in ``manage.py shell`` against a started Hub's data directory and database
    (the data a browser test starts from); what it printed."""
    environment = _clean_environment()
    environment.update({"HUB_HOME": str(server.home), "HUB_DATABASE_URL": database.url})
    prepared = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert prepared.returncode == 0, prepared.stderr
    return prepared.stdout


def administrator_and_trackers(password: str) -> str:
    """The start of a ``prepared_hub`` script that several browser tests share: the administrator
    ``ada`` (``password``, which is also the master password), the local trackers alpha (project
    DEMO) and beta (WEB), and the model Defect (title, priority high/low). Its names (``service``,
    ``alpha``, ``beta``, ``model``, ``ModelField``, ``Model``, ``Repository``) are the script's."""
    return f"""
from django.contrib.auth import get_user_model
from connectors.local import service
from hub import vault
from hub.roles import set_role
from integrations.models import Model, ModelField, Repository
user = get_user_model().objects.create_user(username="ada", password={password!r})
set_role(user, "administrator")
vault.set_master_password({password!r})
alpha, beta = service.tracker("alpha"), service.tracker("beta")
service.create_project(alpha, "DEMO", "Demo")
service.create_project(beta, "WEB", "Website")
model = Model.objects.create(name="Defect")
ModelField.objects.create(model=model, key="title", label="Title", type="string", required=True, position=0)
ModelField.objects.create(
    model=model, key="priority", label="Priority", type="single_select",
    options=[{{"id": "high", "label": "High"}}, {{"id": "low", "label": "Low"}}], position=1,
)
"""


def prepared_hub(home: Path, database: ServerDatabase, script: str) -> HubServer:
    """A started Hub whose data ``script`` prepared (``run_shell``; its output is ``.prepared``).
    Stopped again if the preparation fails, so a failing fixture leaves no process behind."""
    server = start_hub(home, database)
    try:
        server.prepared = run_shell(server, database, script)
    except BaseException:
        server.stop()
        raise
    return server


def processes_of(home: Path) -> list[int]:
    """PIDs of live processes started for the Hub instance whose data directory is ``home``."""
    marker = f"HUB_HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not is_digits(entry.name):
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in environ and state != "Z":
            pids.append(int(entry.name))
    return pids
