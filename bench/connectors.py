"""Connector benchmark: a cloud tool's fake (``tests/fakes/``) with latency injected per request,
synchronized into the local tracker. Prints, per tool:

1. the initial sync of N issues from the tool into the local tracker (detection and processing
   in this process, one worker's worth): requests per issue and issues per second;
2. one change-detection cycle with nothing changed: requests and time;
3. beside both, the same fake paged by a plain httpx loop — the limit a client can reach — and the
   ratio;
4. event-hint latency: ``runhub`` (web, worker, beat) on the same database, event hints on, the fake
   delivering its webhook after each change; the time from the change in the tool to the local
   twin carrying it, p50 / p95 (target p95 ≤ 2 s). Change detection is set to an hour, so only
   the hint can bring the change.

    PYTHONPATH=$PWD .venv/bin/python bench/connectors.py --tool github --issues 2000 --latency 0.05

PostgreSQL is expected at 127.0.0.1:5432 (user postgres); a database ``hub_bench_<random>`` and a
data directory are made for the run and removed after it. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tool", default="github", choices=("github", "gitlab", "jira", "jira_dc", "azure_devops")
    )
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every answer")
    parser.add_argument("--hints", type=int, default=30, help="changes measured through event hints")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--trace", action="store_true", help="print the requests of the slowest hinted changes, with times"
    )
    return parser.parse_args()


def postgres(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


class GitHubBench:
    """The GitHub fake with N issues, and how a plain client pages it."""

    kind, artifact_type, title_field = "github", "issue", "title"

    def __init__(self, issues: int):
        from tests.fakes.github import GitHubFake

        self.fake = GitHubFake()
        self.repo = self.fake.add_repo("octo/bench")
        self.project = self.repo.full_name
        # Issues made over the last days, one a minute, as a real repository's are.
        start = self.fake.tick() - dt.timedelta(minutes=issues)
        for n in range(issues):
            issue = self.fake.new_issue(self.repo, f"Issue {n}", "Steps to reproduce " * 5)
            issue.created = issue.updated = start + dt.timedelta(minutes=n)

    def settings(self) -> dict:
        return {"url": self.fake.url, "token": self.fake.token}

    def plain_scan(self) -> int:
        """Every issue, by a plain httpx loop following rel="next"; returns the issues seen."""
        import httpx

        seen = 0
        headers = {"Authorization": f"Bearer {self.fake.token}"}
        url = f"{self.fake.url}/repos/{self.project}/issues?state=all&sort=updated&direction=asc&per_page=100"
        with httpx.Client(headers=headers) as http:
            while url:
                response = http.get(url)
                seen += len(response.json())
                url = response.links.get("next", {}).get("url")
        return seen

    def plain_idle_poll(self) -> float:
        """One conditional GET of the first page (what a client that remembers the ETag sends)."""
        import httpx

        headers = {"Authorization": f"Bearer {self.fake.token}"}
        url = f"{self.fake.url}/repos/{self.project}/issues?state=all&sort=updated&direction=asc&per_page=100"
        with httpx.Client(headers=headers) as http:
            etag = http.get(url).headers["ETag"]
            self.fake.reset_requests()
            started = time.monotonic()
            http.get(url, headers={"If-None-Match": etag})
            return time.monotonic() - started

    def change(self, number: int, title: str) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.fake.token}"}
        with httpx.Client(base_url=self.fake.url, headers=headers) as http:
            http.patch(f"/repos/{self.project}/issues/{number}", json={"title": title}).raise_for_status()

    def register(self, url: str, secret: str) -> None:
        self.fake.hooks.append((url, secret))

    def close(self) -> None:
        self.fake.close()


class GitLabBench:
    kind, artifact_type, title_field = "gitlab", "issue", "title"

    def __init__(self, issues: int):
        from tests.fakes.gitlab import GitLabFake

        self.fake = GitLabFake()
        self.gitlab_project = self.fake.add_project("group/bench")
        self.project = str(self.gitlab_project.id)
        start = self.fake.tick() - dt.timedelta(minutes=issues)
        for n in range(issues):
            issue = self.fake.new_issue(self.gitlab_project, f"Issue {n}", "Steps to reproduce " * 5)
            issue.created = issue.updated = start + dt.timedelta(minutes=n)
        self.repo = self.gitlab_project  # .issues, for the hint benchmark

    def settings(self) -> dict:
        return {"url": self.fake.url, "token": self.fake.token}

    def _first_page(self) -> str:
        return (
            f"{self.fake.url}/api/v4/projects/{self.project}/issues?order_by=updated_at&sort=asc"
            "&per_page=100&pagination=keyset"
        )

    def plain_scan(self) -> int:
        import httpx

        seen, url = 0, self._first_page()
        with httpx.Client(headers={"PRIVATE-TOKEN": self.fake.token}) as http:
            while url:
                response = http.get(url)
                seen += len(response.json())
                url = response.links.get("next", {}).get("url")
        return seen

    def plain_idle_poll(self) -> float:
        """GitLab sends no ETag on issue lists: the limit is one request for the first page."""
        import httpx

        with httpx.Client(headers={"PRIVATE-TOKEN": self.fake.token}) as http:
            self.fake.reset_requests()
            started = time.monotonic()
            newest = self.fake.tick().strftime("%Y-%m-%dT%H:%M:%SZ")
            http.get(self._first_page() + f"&updated_after={newest}")
            return time.monotonic() - started

    def change(self, number: int, title: str) -> None:
        import httpx

        with httpx.Client(base_url=self.fake.url, headers={"PRIVATE-TOKEN": self.fake.token}) as http:
            http.put(
                f"/api/v4/projects/{self.project}/issues/{number}", json={"title": title}
            ).raise_for_status()

    def register(self, url: str, secret: str) -> None:
        self.fake.hooks.append((url, secret))

    def close(self) -> None:
        self.fake.close()


class JiraBench:
    kind, artifact_type, title_field, project = "jira", "10001", "summary", "BENCH"
    api = "/rest/api/3"

    def __init__(self, issues: int):
        from tests.fakes.jira import JiraFake

        self.fake = JiraFake(flavor="cloud", time_zone="America/Los_Angeles")
        self.fake.add_project(self.project)
        start = self.fake.tick() - dt.timedelta(minutes=issues)
        for n in range(issues):
            issue = self.fake.new_issue(self.project, f"Issue {n}")
            issue.created = issue.updated = start + dt.timedelta(minutes=n)

        self.repo = type("Issues", (), {"issues": list(range(1, issues + 1))})  # numbers, for the hints

    def settings(self) -> dict:
        return {
            "url": self.fake.url,
            "auth_method": "api_token",
            "username": self.fake.me.email,
            "token": self.fake.token,
        }

    def _auth(self):
        return (self.fake.me.email, self.fake.token)

    def _search(self, http, token=None, jql=None):
        body = {
            "jql": jql or f"project = {self.project} ORDER BY updated ASC, key ASC",
            "maxResults": 100,
            "fields": ["updated"],
        }
        if token:
            body["nextPageToken"] = token
        return http.post("/rest/api/3/search/jql", json=body).json()

    def plain_scan(self) -> int:
        import httpx

        seen, token = 0, None
        with httpx.Client(base_url=self.fake.url, auth=self._auth()) as http:
            while True:
                page = self._search(http, token)
                seen += len(page["issues"])
                token = page.get("nextPageToken")
                if not token:
                    return seen

    def plain_idle_poll(self) -> float:
        import httpx

        with httpx.Client(base_url=self.fake.url, auth=self._auth()) as http:
            self.fake.reset_requests()
            started = time.monotonic()
            self._search(http, jql=f'project = {self.project} AND updated >= "2099/01/01 00:00"')
            return time.monotonic() - started

    def change(self, number: int, title: str) -> None:
        import httpx

        with httpx.Client(base_url=self.fake.url, auth=self._auth()) as http:
            http.put(
                f"{self.api}/issue/{self.project}-{number}", json={"fields": {"summary": title}}
            ).raise_for_status()

    def register(self, url: str, secret: str) -> None:
        self.fake.hooks.append((url, secret))

    def close(self) -> None:
        self.fake.close()


class JiraDataCenterBench(JiraBench):
    """Jira Data Center: REST v2, ``startAt`` paging, rich text as wiki markup, which Hub converts
    by pandoc (``connectors/jira/wiki.py``). Each issue has a description and two comments, as a
    real project's have: most plain sentences, one in four with markup."""

    kind, api = "jira_dc", "/rest/api/2"

    def __init__(self, issues: int):
        from tests.fakes.jira import JiraFake

        self.fake = JiraFake(flavor="dc", time_zone="America/Los_Angeles")
        self.fake.add_project(self.project)
        start = self.fake.tick() - dt.timedelta(minutes=issues)
        for n in range(issues):
            description = (
                f"h3. Steps\n# Open form {n}\n# Press *Save*\n\nSee {{{{error.log}}}}."
                if n % 4 == 0
                else f"Opening form {n} and pressing Save shows an error.\nIt worked in the last release."
            )
            issue = self.fake.new_issue(self.project, f"Issue {n}", description=description)
            self.fake.comment_as(issue.key, f"Seen again on build {n}, same error.", self.fake.me)
            self.fake.comment_as(issue.key, "Thanks, looking into it", self.fake.me)
            issue.created = issue.updated = start + dt.timedelta(minutes=n)
        self.repo = type("Issues", (), {"issues": list(range(1, issues + 1))})

    def settings(self) -> dict:
        return {
            "url": self.fake.url,
            "auth_method": "basic",
            "username": self.fake.me.name,
            "password": self.fake.me.password,
        }

    def _auth(self):
        return (self.fake.me.name, self.fake.me.password)

    def _search(self, http, token=None, jql=None):
        body = {
            "jql": jql or f"project = {self.project} ORDER BY updated ASC, key ASC",
            "maxResults": 100,
            "startAt": token or 0,
            "fields": ["updated"],
        }
        page = http.post("/rest/api/2/search", json=body).json()
        following = page["startAt"] + len(page["issues"])
        return {"issues": page["issues"], "nextPageToken": following if following < page["total"] else None}


class PandocMeter:
    """pandoc's share of a run: conversions started (cache misses of ``wiki.convert``) and the CPU
    time of the pandoc processes (children of this one), beside the run's wall time."""

    def __enter__(self):
        from connectors.jira import wiki

        self.info, self.started = wiki.convert.cache_info, os.times()
        self.misses = self.info().misses
        return self

    def __exit__(self, *exc):
        ended = os.times()
        self.calls = self.info().misses - self.misses
        self.cpu = (ended.children_user - self.started.children_user) + (
            ended.children_system - self.started.children_system
        )
        self.own_cpu = (ended.user - self.started.user) + (ended.system - self.started.system)


class AzureDevOpsBench:
    kind, artifact_type, title_field, project = "azure_devops", "Bug", "System.Title", "Bench"

    def __init__(self, issues: int):
        from tests.fakes.azure_devops import AzureDevOpsFake

        self.fake = AzureDevOpsFake()
        self.fake.add_project(self.project)
        self.fake.clock_offset = -dt.timedelta(minutes=issues)  # one work item a minute until now
        for n in range(issues):
            self.fake.new_item(self.project, "Bug", f"Issue {n}", **{"System.Description": "Steps " * 5})
            self.fake.clock_offset += dt.timedelta(minutes=1)
        self.fake.clock_offset = dt.timedelta(0)
        self.repo = type("Items", (), {"issues": self.fake.items})  # .issues, for the hint benchmark

    def settings(self) -> dict:
        return {"url": self.fake.url, "token": self.fake.token}

    def _feed(self, http, token: str | None = None):
        params = {"includeLatestOnly": "true", "$maxPageSize": 200, "api-version": "7.1-preview.2"}
        if token:
            params["continuationToken"] = token
        return http.get(f"/{self.project}/_apis/wit/reporting/workItemRevisions", params=params).json()

    def plain_scan(self) -> int:
        """The reporting feed by a plain httpx loop following its continuation token."""
        import httpx

        seen, token = 0, None
        with httpx.Client(base_url=self.fake.url, auth=("", self.fake.token)) as http:
            while True:
                page = self._feed(http, token)
                seen += len(page["values"])
                token = page["continuationToken"]
                if page["isLastBatch"]:
                    return seen

    def plain_idle_poll(self) -> float:
        """One feed request from the last watermark: the limit is one request."""
        import httpx

        with httpx.Client(base_url=self.fake.url, auth=("", self.fake.token)) as http:
            token = self._feed(http)["continuationToken"]
            self.fake.reset_requests()
            started = time.monotonic()
            self._feed(http, token)
            return time.monotonic() - started

    def change(self, number: int, title: str) -> None:
        import httpx

        with httpx.Client(base_url=self.fake.url, auth=("", self.fake.token)) as http:
            http.patch(
                f"/_apis/wit/workItems/{number}",
                params={"api-version": "7.1"},
                json=[{"op": "add", "path": "/fields/System.Title", "value": title}],
                headers={"Content-Type": "application/json-patch+json"},
            ).raise_for_status()

    def register(self, url: str, secret: str) -> None:
        self.fake.hooks.append((url, secret))

    def close(self) -> None:
        self.fake.close()


TOOLS = {
    "github": GitHubBench,
    "gitlab": GitLabBench,
    "jira": JiraBench,
    "jira_dc": JiraDataCenterBench,
    "azure_devops": AzureDevOpsBench,
}


def configure(bench) -> int:
    from django.core.management import call_command

    from connectors.local import service
    from hub import licensing, vault
    from integrations.models import (
        FieldMapping,
        Integration,
        Model,
        ModelField,
        Repository,
        RepositoryCollection,
    )
    from integrations.services import set_projects

    call_command("migrate", verbosity=0)
    vault.set_master_password("benchmark master password")
    licensing.ensure_evaluation_license()
    service.create_project(service.tracker("alpha"), "DEMO", "Demo")
    model = Model.objects.create(name="Defect")
    ModelField.objects.create(model=model, key="title", label="Title", type="string")
    sides = []
    for label, kind, url, project, types, field in (
        ("Alpha", "local", "local://alpha", "DEMO", ["bug"], "summary"),
        (bench.kind, bench.kind, "", bench.project, [bench.artifact_type], bench.title_field),
    ):
        values = bench.settings() if kind != "local" else {"url": url}
        repository = Repository.objects.create(label=label, kind=kind, **values)
        collection = RepositoryCollection.objects.create(
            name=f"{label} items", repository=repository, model=model, artifact_types=types
        )
        set_projects(collection, [{"id": project, "key": project, "name": project}])
        FieldMapping.objects.create(
            collection=collection,
            repository_fields=[field],
            repository_field_types={field: "string"},
            model_fields=["title"],
            model_field_types={"title": "string"},
        )
        sides.append(collection)
    integration = Integration.objects.create(
        name="Bench",
        collection_a=sides[0],
        collection_b=sides[1],
        creation_flow="both",
        field_flows={"title": "both"},
        conflict_strategy="a_wins",
        detection_interval=3600,
        running=True,
    )
    integration.routes.create(project_a="DEMO", project_b=bench.project)
    return integration.pk


def initial_sync(bench, integration_id: int, issues: int) -> tuple[float, int]:
    from activity.models import ArtifactPair
    from integrations.engine import detection, processing

    bench.fake.reset_requests()
    started = time.monotonic()
    detection.detect(integration_id)
    while processing.process_batch(limit=100, worker="bench"):
        pass
    seconds = time.monotonic() - started
    pairs = ArtifactPair.objects.count()
    if pairs != issues:
        print(f"warning: {pairs} pairs for {issues} issues", flush=True)
    return seconds, len(bench.fake.requests)


def idle_poll(bench, integration_id: int) -> tuple[float, float, int]:
    """The tool's side of one detection cycle (what the connector costs), and the whole cycle (both
    sides, the local tracker's included), with nothing changed since the last one."""
    from integrations.engine import detection
    from integrations.engine.context import IntegrationContext

    detection.detect(integration_id)  # once, so the conditional cache is warm as in a running worker
    bench.fake.reset_requests()
    context = IntegrationContext.load(integration_id)
    try:
        started = time.monotonic()
        detection.detect_side(context, "B")
        side = time.monotonic() - started
    finally:
        context.close()
    requests = len(bench.fake.requests)
    started = time.monotonic()
    detection.detect(integration_id)
    return side, time.monotonic() - started, requests


def hint_latencies(
    bench, integration_id: int, home: Path, database_url: str, changes: int, traces: list | None = None
) -> list[float]:
    import secrets

    from connectors.local.models import LocalItem
    from integrations.models import Integration
    from tests.support.server import start_hub

    collection = Integration.objects.get(pk=integration_id).collection_b
    repository = collection.repository
    secret = secrets.token_urlsafe(32)
    repository.event_hints, repository.event_hint_secret = True, secret
    repository.save()

    class Database:
        url = database_url

    server = start_hub(home, Database, env={"HUB_SECURITY_MASTERPASSWORDFILE": str(home / "master.key")})
    try:
        bench.register(f"{server.url}/hooks/{repository.pk}/", secret)
        latencies = []
        for n in range(changes):
            number = 1 + (n * 37) % len(bench.repo.issues)
            title = f"Hinted {n} {uuid.uuid4().hex[:6]}"
            bench.fake.reset_requests()
            timeline = []  # (seconds since the change, request) as the poll below first sees them
            started = time.monotonic()
            bench.change(number, title)
            deadline = started + 60
            while not LocalItem.objects.filter(summary=title).exists():
                if time.monotonic() > deadline:
                    raise SystemExit(f"change {n} did not arrive within 60 s:\n{server.log()[-3000:]}")
                seen = list(bench.fake.requests)
                timeline += [(time.monotonic() - started, r) for r in seen[len(timeline) :]]
                time.sleep(0.01)  # polling the database for the twin, not synchronising
            latencies.append(time.monotonic() - started)
            if traces is not None:
                traces.append((latencies[-1], timeline))
        return latencies
    finally:
        server.stop()


def main() -> None:
    args = arguments()
    name = f"hub_bench_{uuid.uuid4().hex[:8]}"
    home = Path(tempfile.mkdtemp(prefix="hub-bench-connectors-"))
    database_url = f"postgres://postgres@127.0.0.1:5432/{name}"
    postgres(f'CREATE DATABASE "{name}"')
    os.environ.update(
        {
            "HUB_HOME": str(home),
            "HUB_DATABASE_URL": database_url,
            "HUB_SECURITY_MASTERPASSWORDFILE": str(home / "master.key"),
            "DJANGO_SETTINGS_MODULE": "hub.settings",
        }
    )
    import django

    django.setup()
    bench = TOOLS[args.tool](args.issues)
    try:
        integration_id = configure(bench)
        bench.fake.latency = args.latency
        load = os.getloadavg()[0]
        print(f"{args.tool}: {args.issues} issues, {args.latency * 1000:.0f} ms per request, load {load:.1f}")

        with PandocMeter() as pandoc:
            seconds, requests = initial_sync(bench, integration_id, args.issues)
        bench.fake.reset_requests()
        started = time.monotonic()
        seen = bench.plain_scan()
        plain_seconds, plain_requests = time.monotonic() - started, len(bench.fake.requests)
        print(
            f"initial sync: {seconds:.1f} s, {args.issues / seconds:.1f} issues/s, {requests} requests "
            f"({requests / args.issues:.3f} per issue) | plain httpx loop: {plain_seconds:.2f} s, "
            f"{seen / plain_seconds:.0f} issues/s, {plain_requests} requests "
            f"({plain_requests / seen:.3f} per issue) | ratio {seconds / plain_seconds:.1f}×"
        )
        if pandoc.calls:
            print(
                f"  pandoc in the initial sync: {pandoc.calls} conversions, {pandoc.cpu:.1f} s of its CPU "
                f"(Hub's own process: {pandoc.own_cpu:.1f} s of CPU; wall {seconds:.1f} s; load "
                f"{os.getloadavg()[0]:.1f})"
            )

        seconds, whole, requests = idle_poll(bench, integration_id)
        plain_seconds = bench.plain_idle_poll()
        plain_requests = len(bench.fake.requests)
        print(
            f"idle poll of the tool: {requests} requests, {seconds * 1000:.0f} ms (the whole cycle, both "
            f"sides: {whole * 1000:.0f} ms) | plain conditional GET: {plain_requests} request, "
            f"{plain_seconds * 1000:.0f} ms | ratio {seconds / plain_seconds:.1f}×"
        )

        if not args.hints:
            return
        traces: list = []
        latencies = sorted(hint_latencies(bench, integration_id, home, database_url, args.hints, traces))
        if args.trace:
            for latency, timeline in sorted(traces, key=lambda t: t[0])[-3:]:
                steps = ", ".join(f"+{at:.2f} {r.method} {r.path} ({r.seconds:.2f} s)" for at, r in timeline)
                print(f"  a {latency:.2f} s hint: {steps}")
        p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
        print(
            f"event hint → twin updated: p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s "
            f"over {len(latencies)} changes (target p95 ≤ 2 s); load {os.getloadavg()[0]:.1f}"
        )
    finally:
        bench.close()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
