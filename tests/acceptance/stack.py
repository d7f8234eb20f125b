"""The processes of the production shape, started the way deploy/systemd starts them.

Each unit's ``ExecStart`` is read from its file in deploy/systemd and run with this checkout in place
of /opt/hub and a fresh data directory in place of /var/lib/hub, in a process group of its own, so
a kill takes the whole unit (a prefork worker's parent and its pool) as systemd's would.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.live import ADMIN, ADMIN_PASSWORD, MASTER_PASSWORD, manage
from tests.support.server import REPO, ServerDatabase, free_port, port_open

UNITS = REPO / "deploy" / "systemd"


def exec_start(unit: str, instance: str = "") -> list[str]:
    """The unit's ExecStart as argv, with this checkout and data directory substituted later."""
    text = (UNITS / unit).read_text()
    line = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE).group(1)
    line = line.replace("%i", instance).replace("%%", "%")
    return shlex.split(line)


def _local(argv: list[str], home: Path) -> list[str]:
    return [part.replace("/opt/hub", str(REPO)).replace("/var/lib/hub", str(home)) for part in argv]


@dataclass
class Unit:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    stopping: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        except OSError:
            return []

    def kill_group(self) -> None:
        """SIGKILL the unit's whole process group (the worker and its pool), then wait for it (under
        the unit's lock: the supervisor restarts it only once it is gone)."""
        with self.lock:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # a pool child that outlived its parent


@dataclass
class Redis:
    """A Redis server of our own on a free port, with an append-only file, so it can be restarted."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        with (self.workdir / "redis.log").open("ab") as out:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
                 "--appendonly", "yes", "--save", "", "--protected-mode", "no"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while not port_open(self.port):
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not listen within 30 s"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class ProductionHub:
    """PostgreSQL, Redis, and Hub's units: web, ``workers`` prefork workers, one beat."""

    workdir: Path
    workers: int = 2
    database: ServerDatabase = field(default_factory=lambda: ServerDatabase("postgres"))
    redis: Redis = field(init=False)
    units: dict[str, Unit] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    token: str = ""
    env: dict[str, str] = field(default_factory=dict)
    supervisor: threading.Thread | None = None
    supervisor_stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.redis = Redis(self.workdir / "redis")

    @property
    def home(self) -> Path:
        return self.workdir / "home"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.database.create()
        self.redis.start()
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "hub.properties").write_text(
            f"server.port={self.port}\nserver.redirect.port={free_port()}\nserver.address=127.0.0.1\n"
            "server.web.workers=2\n"
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_", "PYTEST"))}
        self.env.update(
            HUB_HOME=str(self.home),
            HUB_DATABASE_URL=self.database.url,
            HUB_BROKER_URL=self.redis.url,
            HUB_SECURITY_MASTERPASSWORDFILE=str(self.workdir / "master-password.key"),
        )
        prepare = _local(exec_start("hub-prepare.service"), self.home)
        done = subprocess.run(prepare, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        manage(
            self.env,
            "create_administrator",
            "--username",
            ADMIN,
            "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n",
        )
        manage(self.env, "set_master_password", "--password-stdin", stdin=MASTER_PASSWORD + "\n")
        self.token = manage(self.env, "create_api_token", "--user", ADMIN, "--name", "acceptance").strip()
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        plan = {"web": exec_start("hub-web.service"), "beat": exec_start("hub-beat.service")}
        for n in range(1, self.workers + 1):
            plan[f"worker-{n}"] = exec_start("hub-worker@.service", str(n))
        for name, argv in plan.items():
            self.units[name] = Unit(name, _local(argv, self.home), logs / f"{name}.log", self.env)
            self.units[name].start()
        self.wait_until_serving()
        self.supervisor = threading.Thread(target=self.supervise, args=(self.supervisor_stop,), daemon=True)
        self.supervisor.start()

    def wait_until_serving(self, deadline_seconds: float = 120) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            for unit in self.units.values():
                assert unit.alive(), f"{unit.name} ended: {unit.log.read_text()[-3000:]}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/health", verify=False, timeout=5).status_code == 200:  # noqa: S501
                    return
            time.sleep(0.5)
        raise AssertionError(f"Hub did not answer healthy within {deadline_seconds} s")

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url + "/api/v1",
            verify=False,  # noqa: S501 - Hub's own self-signed certificate
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
            # gunicorn closes an idle connection after 2 s; a poll reusing it would read nothing
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def workers_units(self) -> list[Unit]:
        return [unit for name, unit in self.units.items() if name.startswith("worker-")]

    def restart(self, unit: Unit) -> None:
        with unit.lock:
            if unit.alive():  # the supervisor was first (see ``supervise``)
                return
            unit.restarts += 1
            unit.start()

    def supervise(self, stop: threading.Event) -> None:
        """systemd's ``Restart=on-failure`` of deploy/systemd's units (``RestartSec`` unset: 100 ms):
        a unit that ended with a failure, a signal included, is started again. A celery worker ends
        so when Redis restarts under it (kombu's Redis transport raises AttributeError on the lost
        connection: "Unrecoverable error"); without this the run had no worker left after the
        Redis restart and never reached quiet."""
        while not stop.wait(0.1):
            for unit in list(self.units.values()):
                with unit.lock:
                    ended = unit.process is not None and unit.process.poll()
                    if ended and not unit.stopping:
                        unit.restarts += 1
                        unit.start()

    def stop(self) -> None:
        for unit in self.units.values():
            unit.stopping = True
        if self.supervisor is not None:
            self.supervisor_stop.set()
            self.supervisor.join(timeout=5)
        # All units at once: each warm shutdown waits for its running task, and one after the other
        # that added up to a minute of teardown.
        with ThreadPoolExecutor(max(1, len(self.units))) as stopping:
            list(stopping.map(Unit.stop, self.units.values()))
        self.redis.stop()
        self.keep_ledger()
        self.database.drop()

    def keep_ledger(self) -> None:
        """The ledger (activities, pairs, intents) as SQL in the work directory, for reading a failed
        run afterwards: which activity wrote what, its conflicts, each pair's snapshots."""
        dump = shutil.which("pg_dump")
        if self.database.engine != "postgres" or dump is None:
            return
        with (self.workdir / "ledger.sql").open("wb") as out:
            tables = ["-t", "activity_*", "-t", "integrations_creationintent"]
            subprocess.run(
                [dump, "--data-only", *tables, self.database.url],
                stdout=out, stderr=subprocess.DEVNULL, timeout=120, check=False,
            )  # fmt: skip
