"""The canary-secret check: secrets planted through every way Hub takes them are looked for on every
surface Hub writes or answers. A surface is one entry of ``SURFACES``; a way of taking a secret is
one entry of ``PLANTERS`` — a feature that adds either (notifications, key-value stores, the support
zip) adds one entry here and is covered.

Canaries are the planted secrets plus the credentials the live Hub was provisioned with (the
administrator's password, the master password, the API token, the console's session key): none may
appear anywhere, in clear, ever.
"""

from __future__ import annotations

import io
import secrets
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.live import ADMIN_PASSWORD, MASTER_PASSWORD, LiveHub
from tests.support.server import REPO


@dataclass
class Planted:
    """What the planters left: the canaries, and answers to refused input (a surface of its own)."""

    canaries: list[str] = field(default_factory=list)
    answers: list[tuple[str, bytes]] = field(default_factory=list)

    def new(self, what: str) -> str:
        canary = f"canary{secrets.token_hex(8)}{what}"
        self.canaries.append(canary)
        return canary

    def answered(self, where: str, response) -> None:
        self.answers.append((where, response.content))


Planter = Callable[[LiveHub, Planted], None]
Found = Iterable[tuple[str, bytes]]  # (where, content) pairs to search


@dataclass(frozen=True)
class Surface:
    name: str
    collect: Callable[[LiveHub, Planted], Found]


# --- planting ------------------------------------------------------------------------------------


def plant_repository_secrets(live: LiveHub, planted: Planted) -> None:
    """Passwords, tokens and proxy passwords through the API; a password inside a URL (refused)."""
    body = {
        "label": "Canary tracker",
        "kind": "redmine",
        "url": "http://127.0.0.1:9/redmine",  # nothing listens: Test connection fails, with messages
        "username": "hub",
        "password": planted.new("password"),
        "token": planted.new("token"),
        "use_proxy": True,
        "proxy_url": "http://127.0.0.1:9",
        "proxy_username": "proxy",
        "proxy_password": planted.new("proxy"),
        "timeout": 2,
    }
    created = live.api.post("/repositories/", json=body)
    assert created.status_code == 201, created.text
    planted.answered("repository create", created)
    planted.answered(
        "test connection", live.api.post(f"/repositories/{created.json()['id']}/test-connection/")
    )
    in_url = live.api.post(
        "/repositories/",
        json={
            "label": "Canary URL",
            "kind": "local",
            "url": f"http://hub:{planted.new('inurl')}@host.example/",
        },
    )
    assert in_url.status_code == 400, in_url.text
    planted.answered("refused URL (API)", in_url)
    screen = live.post_form(
        "/repositories/new/",
        {"kind": "local", "label": "Canary screen", "url": f"http://hub:{planted.new('screen')}@h.example/"},
    )
    planted.answered("refused URL (screen)", screen)


def plant_sql_collection_secrets(live: LiveHub, planted: Planted) -> None:
    created = live.api.post(
        "/sql-collections/",
        json={
            "name": "Canary SQL",
            "database_url": "postgres://hub@db.example/r",
            "password": planted.new("sql"),
            "table": "t",
        },
    )
    assert created.status_code == 201, created.text
    planted.answered("sql collection create", created)
    refused = live.api.post(
        "/sql-collections/",
        json={
            "name": "Canary SQL 2",
            "database_url": f"postgres://hub:{planted.new('sqlurl')}@db/r",
            "table": "t",
        },
    )
    assert refused.status_code == 400
    planted.answered("refused database URL", refused)


LOCAL_TRACKERS = """
from connectors.local import service
service.create_project(service.tracker("alpha"), "DEMO", "Demo")
service.create_project(service.tracker("beta"), "WEB", "Website")
"""


def exercise_files_and_exports(live: LiveHub, planted: Planted) -> None:
    """What writes files and rows around the secrets: an integration and its history, an artifact
    pair export made by the live worker, a configuration upload, the logs of all of it."""
    live.manage("shell", "-c", LOCAL_TRACKERS)
    for label, url in (("Alpha", "local://alpha"), ("Beta", "local://beta")):
        assert (
            live.api.post("/repositories/", json={"label": label, "kind": "local", "url": url}).status_code
            == 201
        )
    model = {"name": "Canary model", "model_fields": [{"id": "title", "label": "Title", "type": "string"}]}
    assert live.api.post("/models/", json=model).status_code == 201
    for name, repository, project in (("A", "Alpha", "DEMO"), ("B", "Beta", "WEB")):
        collection = {
            "name": name,
            "repository": repository,
            "model": "Canary model",
            "projects": [{"id": project}],
            "artifact_types": ["bug"],
        }
        created = live.api.post("/collections/", json=collection)
        assert created.status_code == 201, created.text
        # An integration needs each collection mapped to the model (CCRRTT-1404E otherwise).
        mapping = {"repository_fields": ["summary"], "model_fields": ["title"], "transform": "copy"}
        mapped = live.api.post(f"/collections/{created.json()['id']}/mappings/", json=mapping)
        assert mapped.status_code == 201, mapped.text
    integration = live.api.post(
        "/integrations/", json={"name": "Canary sync", "collection_a": "A", "collection_b": "B"}
    )
    assert integration.status_code == 201, integration.text
    exported = live.post_form("/activity/pairs/export/", {"integrations": str(integration.json()["id"])})
    assert exported.status_code == 302, exported.text[:500]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((live.home / "pair-transfer" / "export").glob("*.zip")):
        time.sleep(0.5)
    assert list((live.home / "pair-transfer" / "export").glob("*.zip")), "the worker made no pair export"
    upload = live.post_form(
        "/history/import/",
        {},
        files={"file": ("changes.zip", live.post_form("/history/export/", {"all": "1"}).content)},
    )
    assert upload.status_code == 302, upload.text[:500]


def plant_smtp_password(live: LiveHub, planted: Planted) -> None:
    """The email server's password through Settings → Notifications, and a Test Connection that
    fails (nothing listens) so its answer and the history entry are on the surfaces too."""
    form = {
        "recipients": "ops@example.com",
        "subject_prefix": "[Hub]",
        "frequency": "15",
        "username": "mailer",
        "password": planted.new("smtp"),
        "host": "127.0.0.1",
        "port": "9",
        "timeout": "2",
        "protocol": "smtp_starttls",
    }
    saved = live.post_form("/settings/notifications/", form)
    assert saved.status_code == 302, saved.text[:500]
    planted.answered(
        "notification test connection", live.post_form("/settings/notifications/check/connection/", form)
    )


PLANTERS: list[Planter] = [
    plant_repository_secrets,
    plant_sql_collection_secrets,
    plant_smtp_password,
    exercise_files_and_exports,
]


def plant_all(live: LiveHub) -> Planted:
    planted = Planted()
    for planter in PLANTERS:
        planter(live, planted)
    planted.canaries += [ADMIN_PASSWORD, MASTER_PASSWORD, live.token, live.console.cookies.get("sessionid")]
    return planted


# --- surfaces ------------------------------------------------------------------------------------


def _expanded(where: str, content: bytes) -> Iterator[tuple[str, bytes]]:
    """The content, and each member of it when it is a zip (exports, the pair export)."""
    yield where, content
    if content[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                for name in archive.namelist():
                    yield from _expanded(f"{where}!{name}", archive.read(name))
        except zipfile.BadZipFile:
            pass


def data_directory(live: LiveHub, planted: Planted) -> Found:
    """Every file under HUB_HOME: the SQLite database and its WAL, logs, broker messages, uploads."""
    for path in sorted(p for p in live.home.rglob("*") if p.is_file() and not p.is_symlink()):
        yield from _expanded(str(path.relative_to(live.home)), path.read_bytes())


def database_rows(live: LiveHub, planted: Planted) -> Found:
    """Every row of every table, as ``dumpdata`` gives them (any engine, not only SQLite)."""
    dumped = subprocess.run(
        [sys.executable, "manage.py", "dumpdata", "--natural-foreign"],
        cwd=REPO,
        env=live.environment,
        capture_output=True,
        timeout=300,
    )
    assert dumped.returncode == 0, dumped.stderr
    yield "dumpdata", dumped.stdout


CONSOLE_PAGES = (
    "/", "/repositories/", "/models/", "/collections/", "/integrations/", "/history/", "/activity/",
    "/activity/activities/", "/activity/pairs/", "/activity/blockers/", "/activity/jobs/", "/metrics/",
    "/settings/", "/settings/general/", "/settings/license/", "/settings/notifications/", "/help/",
    "/account/api-tokens/",
    "/api/health", "/admin/auth/user/",
)  # fmt: skip


def console_pages(live: LiveHub, planted: Planted) -> Found:
    """The console's pages, and the edit page of every repository and collection, as an administrator."""
    pages = list(CONSOLE_PAGES)
    pages += [f"/repositories/{r['id']}/" for r in live.api.get("/repositories/").json()]
    pages += [f"/collections/sql/{c['id']}/" for c in live.api.get("/sql-collections/").json()]
    for path in pages:
        yield path, live.console.get(path).content


def api_answers(live: LiveHub, planted: Planted) -> Found:
    for path in ("/repositories/", "/models/", "/collections/", "/sql-collections/", "/gateway-collections/",
                 "/integrations/", "/schema/"):  # fmt: skip
        listing = live.api.get(path)
        yield f"API {path}", listing.content
        if path != "/schema/":
            for item in listing.json():
                yield f"API {path}{item['id']}/", live.api.get(f"{path}{item['id']}/").content


def refused_answers(live: LiveHub, planted: Planted) -> Found:
    yield from planted.answers


def exports(live: LiveHub, planted: Planted) -> Found:
    """The configuration export (a zip of every change) and the CSV downloads of the Activity lists."""
    exported = live.post_form("/history/export/", {"all": "1"})
    assert exported.status_code == 200, exported.status_code
    yield from _expanded("configuration export", exported.content)
    for key in ("activities", "pairs", "blockers", "jobs"):
        yield f"{key} CSV", live.console.get(f"/activity/{key}/download/").content


def pair_export(live: LiveHub, planted: Planted) -> Found:
    """The artifact pair export zips the live worker made."""
    for path in sorted((live.home / "pair-transfer").rglob("*.zip")):
        yield from _expanded(f"pair export {path.name}", path.read_bytes())


def support_report(live: LiveHub, planted: Planted) -> Found:
    """The Support and Usage Report of Help → System Information, every member unpacked."""
    report = live.post_form("/help/support-report/", {"days": "14"})
    assert report.status_code == 200, report.status_code
    yield from _expanded("support and usage report", report.content)


SURFACES: list[Surface] = [
    Surface("data directory (database, WAL, logs, broker, uploads)", data_directory),
    Surface("database rows", database_rows),
    Surface("console pages", console_pages),
    Surface("API answers", api_answers),
    Surface("answers to refused input", refused_answers),
    Surface("exports and CSV downloads", exports),
    Surface("pair export zips", pair_export),
    Surface("support and usage report", support_report),
]


def sightings(live: LiveHub, planted: Planted, surface: Surface) -> list[str]:
    """Where on ``surface`` any canary appears: "<canary> in <where>" for each."""
    canaries = [c.encode() for c in planted.canaries if c]
    return [
        f"{canary.decode()[:24]}… in {where}"
        for where, content in surface.collect(live, planted)
        for canary in canaries
        if canary in content
    ]


__all__ = ["PLANTERS", "SURFACES", "Path", "Planted", "Surface", "plant_all", "sightings"]
