"""A real Hub (``manage.py runhub``) provisioned headless before it starts — administrator, master
password, API token — with an API client and a signed-in console client, for the tests that must
see what Hub really writes and answers: file modes, the canary secret, the OpenAPI contract.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.server import REPO, HubServer, ServerDatabase, start_hub

ADMIN, ADMIN_PASSWORD = "ops", "live-admin-password-7781"
MASTER_PASSWORD = "live-master-password-4412"


@dataclass
class LiveHub:
    server: HubServer
    token: str
    environment: dict[str, str]
    api: httpx.Client = field(init=False)
    console: httpx.Client = field(init=False)

    def __post_init__(self):
        self.api = httpx.Client(
            base_url=self.server.url + "/api/v1",
            verify=False,  # noqa: S501 - the server's own self-signed certificate
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
        )
        self.console = httpx.Client(base_url=self.server.url, verify=False, timeout=60)  # noqa: S501
        login = self.console.get("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        signed_in = self.console.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": csrf, "username": ADMIN, "password": ADMIN_PASSWORD},
            headers={"Referer": self.server.url + "/accounts/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text[:500]

    @property
    def home(self) -> Path:
        return self.server.home

    def post_form(self, path: str, data: dict, files: dict | None = None) -> httpx.Response:
        """A console form post with the session's CSRF token, as the browser sends it."""
        token = self.console.cookies.get("csrftoken")
        return self.console.post(
            path,
            data={"csrfmiddlewaretoken": token, **data},
            files=files,
            headers={"Referer": self.server.url + path, "X-CSRFToken": token},
        )

    def manage(self, *args: str, stdin: str | None = None) -> str:
        return manage(self.environment, *args, stdin=stdin)

    def stop(self) -> None:
        self.api.close()
        self.console.close()
        self.server.stop()


def environment_for(home: Path, database: ServerDatabase, extra: dict | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_", "PYTEST"))}
    environment.update(
        {
            "HUB_HOME": str(home),
            "HUB_DATABASE_URL": database.url,
            "HUB_SECURITY_MASTERPASSWORDFILE": str(home.parent / "master-password.key"),
            **(extra or {}),
        }
    )
    return environment


def manage(environment: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def start_live_hub(home: Path, database: ServerDatabase, env: dict | None = None) -> LiveHub:
    """Provision a new data directory and database, then start Hub on it; the caller stops it."""
    home.mkdir(parents=True, exist_ok=True)
    environment = environment_for(home, database, env)
    manage(environment, "migrate", "--verbosity", "0")
    administrator = ("create_administrator", "--username", ADMIN, "--password-stdin")
    manage(environment, *administrator, stdin=ADMIN_PASSWORD + "\n")
    manage(environment, "set_master_password", "--password-stdin", stdin=MASTER_PASSWORD + "\n")
    token = manage(environment, "create_api_token", "--user", ADMIN, "--name", "live tests").strip()
    passed = {k: v for k, v in environment.items() if k.startswith("HUB_") and k not in ("HUB_HOME",)}
    server = start_hub(home, database, env=passed)
    return LiveHub(server, token, environment)


LOOSE_FILES = ("hub.properties", "old-logs/hub.log.2025-01-01")  # what an older Hub left open to all


def start_from_an_open_data_directory(root: Path, database: ServerDatabase) -> LiveHub:
    """A live Hub on a data directory whose files and directories were readable by everyone, started
    under a permissive umask: Hub must fix the one and not rely on the other."""
    home = root / "home"
    (home / "old-logs").mkdir(parents=True)
    (home / "hub.properties").write_text("hub.environment.name=Canary\n")
    (home / "old-logs" / "hub.log.2025-01-01").write_text("an old log line\n")
    for path in (home, home / "old-logs", *(home / name for name in LOOSE_FILES)):
        path.chmod(0o755 if path.is_dir() else 0o644)
    previous = os.umask(0o022)
    try:
        return start_live_hub(home, database)
    finally:
        os.umask(previous)
