"""Two real Hub instances on one operational database: the second takes over only when an
administrator overrides, and the first then stops within 30 seconds and shows the same choice.

Runs against a database created for this test on the server the suite uses (SQLite file,
PostgreSQL or MariaDB), with two ``runhub --safe-mode`` processes on free ports.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dj_database_url
import httpx
import pytest

from tests.bootstrap import TEST_DATABASE_URLS

REPO = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "operator", "operator password 1"
DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def scratch_database(tmp_path):
    backend = os.environ.get("HUB_TEST_DB", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    name = f"hub_lease_{uuid.uuid4().hex[:10]}"
    server_url = TEST_DATABASE_URLS[backend]
    admin = connect(server_url)
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        force = " WITH (FORCE)" if backend == "postgres" else ""
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.close()


def connect(url: str):
    """A plain DB-API connection (not Django's: this database is not the test database)."""
    parsed = dj_database_url.parse(url)
    engine = parsed["ENGINE"]
    if engine.endswith("sqlite3"):
        import sqlite3

        return sqlite3.connect(parsed["NAME"], isolation_level=None)
    if engine.endswith("postgresql"):
        import psycopg2

        connection = psycopg2.connect(
            host=parsed["HOST"], port=parsed["PORT"] or 5432, user=parsed["USER"], dbname=parsed["NAME"]
        )
        connection.autocommit = True
        return connection
    import MySQLdb

    return MySQLdb.connect(
        host=parsed["HOST"],
        port=int(parsed["PORT"] or 3306),
        user=parsed["USER"],
        database=parsed["NAME"],
        autocommit=True,
    )


def lease_holder(url: str) -> str | None:
    connection = connect(url)
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT instance_id FROM hub_instancelease")
        except Exception:  # noqa: BLE001 — the table appears when the first instance has migrated
            return None
        row = cursor.fetchone()
        return row[0] if row else None
    finally:
        connection.close()


class Instance:
    def __init__(self, name: str, tmp_path: Path, database_url: str):
        self.home = tmp_path / name
        self.home.mkdir()
        self.port = free_port()
        self.log = (tmp_path / f"{name}.out").open("w+")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_"))},
            "HUB_HOME": str(self.home),
            "HUB_DATABASE_URL": database_url,
            "HUB_BROKER_URL": "",
            "HUB_SERVER_PORT": str(self.port),
            "HUB_SERVER_REDIRECT_PORT": str(free_port()),
            "HUB_SERVER_ADDRESS": "127.0.0.1",
            "HUB_SERVER_WEB_WORKERS": "1",
            "HUB_SERVER_SHUTDOWN_TIMEOUT": "5",
            "HUB_SECURITY_MASTERPASSWORDFILE": str(self.home / "master-password.key"),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None
        self.client = httpx.Client(base_url=f"https://127.0.0.1:{self.port}", verify=False, timeout=60)  # noqa: S501

    @property
    def instance_id(self) -> str:
        return (self.home / "instance-id").read_text().strip()

    def manage(self, *args: str, stdin: str = "") -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            input=stdin,
            text=True,
            check=True,
            timeout=180,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runhub", "--safe-mode"],
            cwd=REPO,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self._answers(), 90, f"instance on port {self.port} to answer")

    def _answers(self) -> bool:
        assert self.process.poll() is None, self.output()
        try:
            self.client.get("/api/health")
        except httpx.TransportError:
            return False
        return True

    def sign_in(self) -> None:
        # /api/health answers while Hub still starts; the login page answers 503 (30019E) until then.
        wait_for(
            lambda: self.client.get("/accounts/login/").status_code == 200
            and "csrftoken" in self.client.cookies,
            90,
            "the login page",
        )
        response = self.client.post(
            "/accounts/login/",
            data={
                "username": ADMIN,
                "password": ADMIN_PASSWORD,
                "csrfmiddlewaretoken": self.client.cookies["csrftoken"],
            },
            headers={"Referer": f"https://127.0.0.1:{self.port}/accounts/login/"},
        )
        assert response.status_code == 302, response.text[:500]

    def console(self) -> httpx.Response:
        return self.client.get("/settings/")

    def override(self) -> httpx.Response:
        return self.client.post(
            "/database-in-use/override/",
            headers={
                "X-CSRFToken": self.client.cookies["csrftoken"],
                "Referer": f"https://127.0.0.1:{self.port}/",
            },
        )

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.client.close()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


def shows_database_in_use(response: httpx.Response) -> bool:
    return response.status_code == 503 and "CCRRTT-30012E" in response.text


@pytest.mark.slow
def test_second_instance_takes_over_only_on_override_and_the_first_stops_within_30_seconds(tmp_path):
    with scratch_database(tmp_path) as url:
        first, second = Instance("first", tmp_path, url), Instance("second", tmp_path, url)
        try:
            first.manage("migrate", "--verbosity", "0")
            first.manage(
                "create_administrator", "--username", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n"
            )
            first.start()
            wait_for(
                lambda: lease_holder(url) == first.instance_id,
                DEADLINE,
                "the first instance to hold the lease",
            )
            first.sign_in()
            assert first.console().status_code == 200
            # The quick start: an evaluation license out of the box, and health tells the truth about both.
            assert "30-day evaluation license" in first.output()
            checks = first.client.get("/api/health").json()["checks"]
            assert (
                checks["licenseConfigured"]["status"] == "pass"
                and checks["licenseExpired"]["status"] == "pass"
            )
            assert checks["securityIsSetUp"]["status"] == "fail"

            second.start()
            second.sign_in()
            page = second.console()
            assert shows_database_in_use(page) and "Override database access" in page.text
            assert lease_holder(url) == first.instance_id, "the second instance must not take over by itself"
            assert "CCRRTT-30012E" in second.output()

            assert second.override().status_code == 302
            overridden = time.monotonic()
            assert lease_holder(url) == second.instance_id
            wait_for(
                lambda: shows_database_in_use(first.console()), DEADLINE, "the first console to show 30012E"
            )
            wait_for(
                lambda: re.search("another Hub instance took over", first.output()),
                DEADLINE - (time.monotonic() - overridden),
                "the first instance to stop processing",
            )
            assert second.console().status_code == 200
            # The second instance's own heartbeat adopts the lease; the first does not take it back.
            wait_for(
                lambda: "now owns the operational database" in second.output(), DEADLINE, "second to keep it"
            )
            assert lease_holder(url) == second.instance_id
        finally:
            first.stop()
            second.stop()
