"""Real Redmine and Roundup servers for tests, started on 127.0.0.1 in a private work dir.

Plain Python (standard library only: no pytest, no Django), so any test, fixture or
script can use it::

    from tests.peers.servers import start_redmine, start_roundup   # or a relative import
    with start_redmine(tmp_path / "redmine") as rm:
        httpx.get(f"{rm.url}/projects.json", headers=rm.api_headers())

Both servers come from ``deploy/ci/install-peers.sh``; if it has not run, ``start_*``
raises ``PeerStartError`` saying so.

Redmine (Debian's package, ``/usr/share/redmine``, served by thin)
    * Debian's Redmine is multi-tenant: ``Redmine.root`` is
      ``/usr/share/redmine/instances/$REDMINE_INSTANCE`` (``X_DEBIAN_SITEID`` wins over
      it, so we drop that variable), and *everything* per instance hangs off that root:
      ``config/database.yml``, ``config/secret_key.txt``, ``config/configuration.yml``,
      ``files/``, ``log/``, ``tmp/``, ``public/plugin_assets``.  We point it at a private
      instance dir under ``workdir`` by giving ``REDMINE_INSTANCE`` a relative path that
      climbs out of ``instances/`` with many ``../`` (extra ``..`` stop at ``/``, both for
      the kernel and for Ruby's lexical ``File.expand_path``), so nothing in /etc,
      /var/lib/redmine or /var/log/redmine is read or written.
    * The sqlite3 gem is only in Redmine's bundle because Debian's *default* instance is
      configured for SQLite (its Gemfile adds adapter gems by scanning the system
      instances' database.yml), which is why install-peers.sh preseeds dbconfig-common
      with sqlite3.  thin is in the bundle because it was installed with Redmine.
    * ``rake db:migrate`` runs with ``SCHEMA=/dev/null``; otherwise Rails dumps
      ``/usr/share/redmine/db/schema.rb`` into the package tree.  We serve with
      ``bundle exec thin start`` rather than ``bin/rails server``, which would create
      ``/usr/share/redmine/tmp/{cache,pids,sockets}``.
    * A migrated template database (default data loaded in English, REST API enabled,
      admin password set, admin API key created, project ``hub-test`` with all trackers
      and modules) is cached under ``$HUB_PEER_CACHE`` (default
      ``$XDG_CACHE_HOME/hub-peers`` or ``~/.cache/hub-peers``), keyed by the Redmine
      version, its Gemfile.lock and this module's setup script; each start copies it.
      So every instance has the same admin API key (``PeerServer.api_key``).
    * No ``configuration.yml`` is written, so Redmine sends no mail
      (``perform_deliveries`` stays false).
    * REST: ``X-Redmine-API-Key: <key>`` (or basic auth as admin) on ``/issues.json`` etc.

Roundup (PyPI ``roundup`` in ``/opt/hub-peers/roundup-venv``, classic template, sqlite)
    * The tracker is served at ``http://127.0.0.1:PORT/hub/`` (``PeerServer.url``); its
      config.ini ``[tracker] web`` must equal that URL exactly, ending in ``/``.
    * ``roundup-server`` refuses to run as root ("Can't run as root!") unless given
      ``-u``; as root we pass ``-u <our uid> -g <our gid>`` (i.e. stay root: the work
      dir under pytest's ``tmp_path`` is in a 0700 directory that ``nobody`` could not
      enter anyway).  As another user no ``-u`` is needed.
    * REST API (``{url}rest/...``), verified against Roundup 2.6.0:
        - GET: HTTP basic auth is enough (no Origin needed for GET/HEAD/OPTIONS).
        - POST/PUT/PATCH/DELETE additionally need
          ``Origin: http://127.0.0.1:PORT`` (scheme://host:port of the tracker URL, no
          path, no trailing slash; anything else -> 400 "Client is not allowed to use
          Rest Interface."; missing -> 400 "Required Header Missing") **and**
          ``X-Requested-With: <any value>`` (missing -> 400 "Required Header Missing").
          ``Referer: {url}`` is optional but checked if sent.  The ``Host`` header must
          match the tracker URL's host:port too (it does when you use ``url``).  We also
          allow the origin ``http://localhost:PORT`` via ``allowed_api_origins``.
        - PUT/PATCH/DELETE of an item also need its ETag: ``If-Match: "<etag>"`` header
          (from a GET's ETag header) or an ``@etag`` member in the JSON body.
        - POST of an issue: JSON body ``{"title": ..., "priority": "bug", ...}``
          (link properties by name or id) -> 201 ``{"data": {"id": "1", "link": ...}}``.
      ``PeerServer.api_headers()`` returns all of these plus the Authorization header.
    * Outgoing mail is written to ``workdir/roundup-mail.log`` (``[mail] debug``)
      instead of being sent; PBKDF2 rounds are lowered to 10000 so each basic-auth
      request is cheap.
    * Install + initialise takes well under a second, so Roundup needs no template cache.

Both servers run in their own session/process group with output in
``workdir/<kind>-server.log``; ``stop()`` sends SIGTERM to the group, waits (deadline),
then SIGKILLs, and waits until the port refuses connections.  Servers still running
at interpreter exit are stopped by an atexit hook.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PeerServer",
    "PeerStartError",
    "free_port",
    "start_redmine",
    "start_roundup",
    "REDMINE_ROOT",
    "ROUNDUP_VENV",
]

REDMINE_ROOT = Path(os.environ.get("HUB_REDMINE_ROOT", "/usr/share/redmine"))
ROUNDUP_VENV = Path(os.environ.get("HUB_ROUNDUP_VENV", "/opt/hub-peers/roundup-venv"))
INSTALL_HINT = "run `bash deploy/ci/install-peers.sh` (as root) first"

REDMINE_ADMIN_USER = "admin"
REDMINE_ADMIN_PASSWORD = "Hub-Redmine-admin-1"
REDMINE_PROJECT = "hub-test"
ROUNDUP_ADMIN_USER = "admin"
ROUNDUP_ADMIN_PASSWORD = "Hub-Roundup-admin-1"
ROUNDUP_TRACKER_NAME = "hub"

# Run once per template by `bin/rails runner`; prints one HUBSETUP line of JSON.
_REDMINE_SETUP_RB = r"""
require 'json'
Setting.rest_api_enabled = '1'
Setting.default_language = 'en'
admin = User.find_by(login: 'admin') || raise('no admin user in the fresh database')
admin.password = ENV.fetch('HUB_REDMINE_ADMIN_PASSWORD')
admin.password_confirmation = admin.password
admin.must_change_passwd = false
admin.status = User::STATUS_ACTIVE
admin.save!
key = admin.api_key
if Tracker.count.zero? || IssueStatus.count.zero? || IssuePriority.count.zero?
  raise 'default data (trackers, statuses, priorities) missing'
end
project = Project.find_by(identifier: ENV.fetch('HUB_REDMINE_PROJECT')) ||
  Project.new(name: 'Hub Test', identifier: ENV.fetch('HUB_REDMINE_PROJECT'), is_public: true)
project.trackers = Tracker.sorted.to_a
project.enabled_module_names = Redmine::AccessControl.available_project_modules.map(&:to_s)
project.save!
puts 'HUBSETUP ' + JSON.generate(
  api_key: key,
  project_id: project.id,
  project_identifier: project.identifier,
  trackers: Tracker.sorted.map { |t| {id: t.id, name: t.name} },
  statuses: IssueStatus.sorted.map { |s| {id: s.id, name: s.name, is_closed: s.is_closed} },
  priorities: IssuePriority.active.map { |p| {id: p.id, name: p.name} },
  redmine_version: Redmine::VERSION.to_s
)
"""


class PeerStartError(RuntimeError):
    """A peer server could not be prepared or did not come up; the message has the log tail."""


@dataclass(eq=False)  # identity equality/hash: servers live in the _RUNNING set
class PeerServer:
    kind: str  # "redmine" | "roundup"
    url: str  # base URL, e.g. http://127.0.0.1:PORT  (Roundup: the tracker URL ending in /)
    admin_user: str
    admin_password: str
    api_key: str | None  # Redmine admin API key; None for Roundup
    workdir: Path
    port: int = 0
    log_path: Path | None = None
    info: dict = field(default_factory=dict)  # project/tracker ids, versions, timings
    process: subprocess.Popen | None = field(default=None, repr=False)

    def api_headers(self) -> dict[str, str]:
        """Headers that authenticate a REST call (and, for Roundup, pass its CSRF checks)."""
        if self.kind == "redmine":
            return {"X-Redmine-API-Key": self.api_key or "", "Accept": "application/json"}
        creds = base64.b64encode(f"{self.admin_user}:{self.admin_password}".encode()).decode()
        return {
            "Authorization": f"Basic {creds}",
            "Origin": f"http://127.0.0.1:{self.port}",
            "Referer": self.url,
            "X-Requested-With": "rest",
            "Accept": "application/json",
        }

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        return _tail_logs(self._log_files(), lines)

    def _log_files(self) -> list[Path]:
        files = [p for p in [self.log_path] if p]
        if self.kind == "redmine":
            files.append(self.workdir / "redmine-instance" / "log" / "production.log")
        return files

    def stop(self, timeout: float = 15) -> None:
        """Stop the server's whole process group; return once its port refuses connections."""
        proc = self.process
        if proc is None:
            return
        _stop_process_group(proc, timeout)
        self.process = None
        _RUNNING.discard(self)
        _wait_port_closed(self.port, time.monotonic() + timeout)

    def __enter__(self) -> PeerServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


_RUNNING: set[PeerServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_RUNNING):
        with contextlib.suppress(Exception):
            server.stop(timeout=5)


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_port_closed(port: int, deadline: float) -> None:
    while _port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} still accepts connections after stop()")
        time.sleep(0.05)


def _stop_process_group(proc: subprocess.Popen, timeout: float) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    # Children (roundup's forked request handlers) may outlive the leader: kill the rest.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _tail_logs(paths: list[Path], lines: int = 60) -> str:
    return "\n".join(f"----- {p} (last {lines} lines) -----\n{_tail(p, lines)}" for p in paths if p)


def _run(cmd: list[str], *, cwd: Path, env: dict, log: Path, deadline: float, what: str) -> str:
    """Run a setup command, append its output to `log`, raise PeerStartError on failure."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise PeerStartError(f"{what}: no time left before the start deadline")
    try:
        res = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=remaining,
            check=False,
        )
        out = res.stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode(errors="replace")
        res = None
    except FileNotFoundError as exc:
        raise PeerStartError(f"{what}: {exc}; {INSTALL_HINT}") from exc
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n{out}\n")
    if res is None or res.returncode != 0:
        status = "timed out" if res is None else f"exited {res.returncode}"
        tail = "\n".join(out.splitlines()[-40:])
        raise PeerStartError(f"{what} {status}: {' '.join(cmd)}\n{tail}")
    return out


def _http_status(url: str, headers: dict[str, str]) -> int | None:
    req = urllib.request.Request(url, headers=headers)  # noqa: S310 - http://127.0.0.1 only
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _launch_and_wait(
    server: PeerServer,
    cmd: list[str],
    *,
    cwd: Path,
    env: dict,
    probe_url: str,
    probe_headers: dict[str, str],
    deadline: float,
) -> None:
    """Start `cmd` in its own process group, poll `probe_url` until 200 or the deadline."""
    assert server.log_path is not None
    with server.log_path.open("a") as log:
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        server.process = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _RUNNING.add(server)
    last = None
    while True:
        code = server.process.poll()
        if code is not None:
            server.process = None
            _RUNNING.discard(server)
            raise PeerStartError(
                f"{server.kind} server exited with {code} before answering {probe_url}\n" + server.log_tail()
            )
        last = _http_status(probe_url, probe_headers)
        if last == 200:
            return
        if time.monotonic() > deadline:
            tail = server.log_tail()
            server.stop(timeout=5)
            raise PeerStartError(
                f"{server.kind} server did not answer 200 on {probe_url} in time "
                f"(last status: {last})\n{tail}"
            )
        time.sleep(0.2)


def _cache_dir() -> Path:
    base = os.environ.get("HUB_PEER_CACHE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "hub-peers"


@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- Redmine


def _redmine_env(instance: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "X_DEBIAN_SITEID",
            "DATABASE_URL",
            "RAILS_RELATIVE_URL_ROOT",
            "RUBYOPT",
            "BUNDLE_GEMFILE",
            "GEM_HOME",
            "GEM_PATH",
            "BUNDLE_PATH",
        }
    }
    # Climb out of /usr/share/redmine/instances (-> /var/lib/redmine) to "/", then down.
    env["REDMINE_INSTANCE"] = "../" * 32 + str(instance).lstrip("/")
    env["RAILS_ENV"] = "production"
    env["BUNDLE_GEMFILE"] = str(REDMINE_ROOT / "Gemfile")
    env["REDMINE_LANG"] = "en"
    env["SCHEMA"] = "/dev/null"  # no db/schema.rb dump into the package tree
    return env


def _make_redmine_instance(instance: Path, db_file: Path) -> None:
    for sub in ("config", "db", "files", "log", "tmp", "tmp/cache", "public/plugin_assets"):
        (instance / sub).mkdir(parents=True, exist_ok=True)
    (instance / "config" / "database.yml").write_text(
        "production:\n"
        "  adapter: sqlite3\n"
        f"  database: {json.dumps(str(db_file))}\n"
        "  encoding: utf8\n"
        "  timeout: 30000\n"  # SQLite busy wait: at 5 s a loaded machine got BusyException (500)
    )
    (instance / "config" / "secret_key.txt").write_text(secrets.token_hex(32) + "\n")


def _redmine_template_key() -> str:
    h = hashlib.sha256()
    for rel in ("lib/redmine/version.rb", "Gemfile.lock"):
        try:
            h.update((REDMINE_ROOT / rel).read_bytes())
        except OSError:
            h.update(rel.encode())
    h.update(str(sorted(p.name for p in (REDMINE_ROOT / "db" / "migrate").glob("*.rb"))).encode())
    h.update(_REDMINE_SETUP_RB.encode())
    h.update(f"{REDMINE_ADMIN_PASSWORD}/{REDMINE_PROJECT}".encode())
    return h.hexdigest()[:16]


def _redmine_template(deadline: float, log: Path) -> tuple[Path, dict, bool]:
    """Return (template db file, setup metadata, built_now), building it once per key."""
    cache = _cache_dir()
    target = cache / f"redmine-{_redmine_template_key()}"
    db_name = "redmine.sqlite3"
    meta_name = "meta.json"

    def ready() -> bool:
        return (target / db_name).is_file() and (target / meta_name).is_file()

    if ready():
        return target / db_name, json.loads((target / meta_name).read_text()), False
    with _file_lock(cache / "redmine.lock"):
        if ready():
            return target / db_name, json.loads((target / meta_name).read_text()), False
        build = Path(tempfile.mkdtemp(prefix="redmine-build-", dir=cache))
        try:
            instance = build / "instance"
            db_file = build / db_name
            _make_redmine_instance(instance, db_file)
            env = _redmine_env(instance)
            env["HUB_REDMINE_ADMIN_PASSWORD"] = REDMINE_ADMIN_PASSWORD
            env["HUB_REDMINE_PROJECT"] = REDMINE_PROJECT
            # Two processes on purpose: in one, load_default_data sees the models' column
            # cache from before the migration ("unknown attribute 'issues_visibility' for
            # Role") and, like Debian's postinst, it exits 0 even when it fails.
            _run(
                [str(REDMINE_ROOT / "bin" / "rake"), "db:migrate"],
                cwd=REDMINE_ROOT,
                env=env,
                log=log,
                deadline=deadline,
                what="Redmine template: rake db:migrate",
            )
            _run(
                [str(REDMINE_ROOT / "bin" / "rake"), "redmine:load_default_data"],
                cwd=REDMINE_ROOT,
                env=env,
                log=log,
                deadline=deadline,
                what="Redmine template: rake redmine:load_default_data",
            )
            setup_rb = build / "setup.rb"
            setup_rb.write_text(_REDMINE_SETUP_RB)
            out = _run(
                [str(REDMINE_ROOT / "bin" / "rails"), "runner", str(setup_rb)],
                cwd=REDMINE_ROOT,
                env=env,
                log=log,
                deadline=deadline,
                what="Redmine template: rails runner setup",
            )
            line = next((ln for ln in out.splitlines() if ln.startswith("HUBSETUP ")), None)
            if line is None:
                raise PeerStartError(f"Redmine template: setup printed no HUBSETUP line:\n{out[-3000:]}")
            meta = json.loads(line[len("HUBSETUP ") :])
            (build / meta_name).write_text(json.dumps(meta, indent=2))
            shutil.rmtree(instance)
            setup_rb.unlink()
            if target.exists():
                shutil.rmtree(target)
            build.rename(target)
        finally:
            if build.exists():
                shutil.rmtree(build, ignore_errors=True)
    return target / db_name, meta, True


def start_redmine(workdir: Path, timeout: float = 120) -> PeerServer:
    """Start Debian's Redmine on a private copy of a prepared SQLite database.

    The admin (``admin`` / ``REDMINE_ADMIN_PASSWORD``) has the REST API key in
    ``api_key``; project ``hub-test`` (id in ``info["project_id"]``) has every tracker;
    ``info`` also lists trackers, statuses and priorities.
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    if not (REDMINE_ROOT / "config.ru").is_file() or shutil.which("thin") is None:
        raise PeerStartError(f"Redmine or thin is not installed ({REDMINE_ROOT}); {INSTALL_HINT}")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "redmine-server.log"
    template_db, meta, built = _redmine_template(deadline, workdir / "redmine-setup.log")
    t_template = time.monotonic() - t0

    instance = workdir / "redmine-instance"
    if instance.exists():
        shutil.rmtree(instance)
    db_file = instance / "db" / "redmine.sqlite3"
    _make_redmine_instance(instance, db_file)
    shutil.copyfile(template_db, db_file)
    env = _redmine_env(instance)

    attempts = 3
    for attempt in range(1, attempts + 1):
        port = free_port()
        server = PeerServer(
            kind="redmine",
            url=f"http://127.0.0.1:{port}",
            admin_user=REDMINE_ADMIN_USER,
            admin_password=REDMINE_ADMIN_PASSWORD,
            api_key=meta["api_key"],
            workdir=workdir,
            port=port,
            log_path=log,
            info=dict(meta),
        )
        cmd = [
            "bundle",
            "exec",
            "thin",
            "start",
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "-e",
            "production",
            "-R",
            "config.ru",
        ]
        try:
            _launch_and_wait(
                server,
                cmd,
                cwd=REDMINE_ROOT,
                env=env,
                probe_url=f"{server.url}/projects.json",
                probe_headers=server.api_headers(),
                deadline=deadline,
            )
        except PeerStartError as exc:
            if attempt < attempts and "in use" in str(exc) and time.monotonic() < deadline:
                continue  # lost the race for the port: pick another
            raise
        break
    # Guard: the Rails log must be the private one, never /var/log/redmine/default.
    if not (instance / "log" / "production.log").is_file():
        server.stop()
        raise PeerStartError(f"Redmine did not use the private instance {instance}\n{server.log_tail()}")
    server.info.update(
        template_built=built,
        template_seconds=round(t_template, 2),
        start_seconds=round(time.monotonic() - t0, 2),
        instance_dir=str(instance),
    )
    return server


# --------------------------------------------------------------------------- Roundup


def _roundup_bin(name: str) -> str:
    path = ROUNDUP_VENV / "bin" / name
    if not path.is_file():
        raise PeerStartError(f"{path} is missing; {INSTALL_HINT}")
    return str(path)


def _roundup_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "TRACKER_HOME", "ROUNDUP_LOGIN"}
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_roundup(workdir: Path, timeout: float = 60) -> PeerServer:
    """Install a classic/sqlite Roundup tracker in `workdir` and serve it.

    ``url`` is the tracker URL ``http://127.0.0.1:PORT/hub/``; the REST API is at
    ``{url}rest/``.  Use ``api_headers()`` for requests (see the module docstring).
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    admin, server_bin = _roundup_bin("roundup-admin"), _roundup_bin("roundup-server")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "roundup-server.log"
    setup_log = workdir / "roundup-setup.log"
    tracker = workdir / "roundup-tracker"
    env = _roundup_env()

    attempts = 3
    for attempt in range(1, attempts + 1):
        port = free_port()
        url = f"http://127.0.0.1:{port}/{ROUNDUP_TRACKER_NAME}/"
        if tracker.exists():
            shutil.rmtree(tracker)
        opts = ",".join(
            [
                f"tracker_web={url}",
                f"web_allowed_api_origins=http://localhost:{port}",
                "mail_domain=localhost",
                "mail_host=localhost",
                f"mail_debug={workdir / 'roundup-mail.log'}",
                "password_pbkdf2_default_rounds=10000",
            ]
        )
        _run(
            [admin, "-i", str(tracker), "install", "classic", "sqlite", opts],
            cwd=workdir,
            env=env,
            log=setup_log,
            deadline=deadline,
            what="roundup-admin install",
        )
        _run(
            [admin, "-i", str(tracker), "initialise", ROUNDUP_ADMIN_PASSWORD],
            cwd=workdir,
            env=env,
            log=setup_log,
            deadline=deadline,
            what="roundup-admin initialise",
        )
        t_setup = time.monotonic() - t0

        server = PeerServer(
            kind="roundup",
            url=url,
            admin_user=ROUNDUP_ADMIN_USER,
            admin_password=ROUNDUP_ADMIN_PASSWORD,
            api_key=None,
            workdir=workdir,
            port=port,
            log_path=log,
            info={"tracker_home": str(tracker), "tracker_name": ROUNDUP_TRACKER_NAME},
        )
        cmd = [server_bin, "-p", str(port), "-n", "127.0.0.1"]
        if os.geteuid() == 0:
            # roundup-server refuses root without -u; keep our own ids (see module docstring).
            cmd += ["-u", str(os.getuid()), "-g", str(os.getgid())]
        cmd.append(f"{ROUNDUP_TRACKER_NAME}={tracker}")
        probe_headers = {k: v for k, v in server.api_headers().items() if k in ("Authorization", "Accept")}
        try:
            _launch_and_wait(
                server,
                cmd,
                cwd=workdir,
                env=env,
                probe_url=f"{url}rest/data/issue",
                probe_headers=probe_headers,
                deadline=deadline,
            )
        except PeerStartError as exc:
            if attempt < attempts and "in use" in str(exc) and time.monotonic() < deadline:
                continue
            raise
        break
    version = subprocess.run(
        [str(ROUNDUP_VENV / "bin" / "python"), "-c", "import roundup; print(roundup.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    server.info.update(
        roundup_version=version,
        setup_seconds=round(t_setup, 2),
        start_seconds=round(time.monotonic() - t0, 2),
    )
    return server
