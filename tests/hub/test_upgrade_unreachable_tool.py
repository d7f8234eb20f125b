"""An upgrade whose configuration migration needs a tool that does not answer: the real ``runhub``
start is not delayed by it. The schema lock covers database work only; the collection waits with
CCRRTT-66003W on the Issues tab, a worker asks the tool after the start, and when the tool fails
the configuration migration issue takes its place there.

The tool is a Redmine address whose listener accepts connections and never answers (a blackhole),
with a repository timeout of ten minutes: a start that asked it would not be running within the
deadline. Then the blackhole drops its connections and refuses new ones. It runs once, on the
embedded database (the upgrade: activity's migrations after 0008_history_migration_job rolled back,
applied again by the start);
the in-process behaviour on every engine is in tests/engine/test_configuration_migrations.py."""

from __future__ import annotations

import os
import re
import socket
import threading
import time

import httpx
import pytest

from tests.support.live import manage
from tests.support.server import ServerDatabase, administrator_and_trackers, migrated_database, start_hub

pytestmark = pytest.mark.slow
PASSWORD = "an upgrade that asks no tool"
DEADLINE = 120.0  # polled, not slept
TOOL_TIMEOUT = 600  # seconds: the repository's own timeout, far beyond any start's deadline

PREPARE = (
    administrator_and_trackers(PASSWORD)
    + """
from integrations.models import FieldMapping, Integration, RepositoryCollection, Route
from integrations.services import set_projects
from tests.integrations.factories import mapped_collection
redmine = Repository.objects.create(label="Redmine", kind="redmine", url="__URL__", auth_method="api_key",
                                    token="not-asked-before-the-start", timeout=__TIMEOUT__)
bugs = RepositoryCollection.objects.create(name="Redmine bugs", repository=redmine, model=model,
                                           artifact_types=["1"])
set_projects(bugs, [{"id": "7", "key": "hub", "name": "Hub"}])
# A mapping line as an older version stored it: without the repository field's type.
FieldMapping.objects.create(collection=bugs, repository_fields=["subject"], repository_field_types={},
                            model_fields=["title"], model_field_types={"title": "string"},
                            direction="both", transform="copy")
local = mapped_collection("Alpha defects", Repository.objects.create(label="Alpha", kind="local",
                          url="local://alpha"), "DEMO", model)
integration = Integration.objects.create(name="Alpha and Redmine", collection_a=local, collection_b=bugs,
                                         field_flows={"title": "both"}, conflict_strategy="a_wins",
                                         running=True)
Route.objects.create(integration=integration, project_a="DEMO", project_b="7", direction="both")
"""
)


class Blackhole:
    """A TCP listener that accepts connections and never answers, until ``release``: then it
    closes them (the client sees the connection drop) and refuses new ones."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.first_contact: float | None = None
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # released
            self.first_contact = self.first_contact or time.monotonic()
            self.held.append(connection)

    def release(self) -> None:
        if self.listener.fileno() == -1:
            return  # released already
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(timeout=10)
        for connection in self.held:
            connection.close()


def signed_in(url: str) -> httpx.Client:
    console = httpx.Client(base_url=url, verify=False, timeout=60)  # noqa: S501 - its own certificate
    login = console.get("/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    answer = console.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": csrf, "username": "ada", "password": PASSWORD},
        headers={"Referer": url + "/accounts/login/"},
    )
    assert answer.status_code == 302, answer.text[:500]
    return console


def issues_tab_until(console: httpx.Client, text: str, server) -> str:
    deadline = time.monotonic() + DEADLINE
    while True:
        page = console.get("/activity/blockers/").text
        if text in page:
            return page
        assert server.process.poll() is None, server.log()[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} on the Issues tab within {DEADLINE:g} s"
        time.sleep(0.5)


def test_an_upgrade_is_not_delayed_by_an_unreachable_tool_and_the_issue_appears_after_the_start(tmp_path):
    home, database = tmp_path / "home", ServerDatabase("sqlite")
    migrated_database(home, database)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_", "PYTEST"))}
    key_file = str(tmp_path / "master-password.key")
    environment.update(HUB_HOME=str(home), HUB_DATABASE_URL="", HUB_SECURITY_MASTERPASSWORDFILE=key_file)
    blackhole = Blackhole()
    server = None
    try:
        script = PREPARE.replace("__URL__", f"http://127.0.0.1:{blackhole.port}/")
        manage(environment, "shell", "-c", script.replace("__TIMEOUT__", str(TOOL_TIMEOUT)))
        # The database as the previous version left it: its newest migration not applied yet.
        manage(environment, "migrate", "activity", "0008_history_migration_job", "--verbosity", "0")
        assert blackhole.first_contact is None

        began = time.monotonic()
        server = start_hub(home, database, env={"HUB_SECURITY_MASTERPASSWORDFILE": key_file})
        started = time.monotonic() - began

        assert started < TOOL_TIMEOUT / 5, f"the start took {started:.0f} s"
        assert "Traceback" not in server.log()
        # The tool is asked after the start, in the background, and it does not answer.
        console = signed_in(server.url)
        page = issues_tab_until(console, "waits to migrate collection “Redmine bugs”", server)
        assert "CCRRTT-66003W" in page
        deadline = time.monotonic() + DEADLINE
        while blackhole.first_contact is None:
            assert time.monotonic() < deadline, "the configuration migration job never asked the tool"
            time.sleep(0.2)

        blackhole.release()  # the tool drops the connection and refuses the next ones

        page = issues_tab_until(console, "could not migrate collection “Redmine bugs”", server)
        row = page[page.index("could not migrate collection “Redmine bugs”") - 3000 :].split("</article>")[0]
        assert re.search(r"CCRRTT-(30013E|1000E)", row), row[-1500:]
        assert ">Retry<" in row
        assert "CCRRTT-66003W" not in page
        jobs = console.get("/activity/jobs/completed/").text
        assert "Configuration migration" in jobs
        console.close()
    finally:
        if server is not None:
            server.stop(timeout=60)
        blackhole.release()
