"""One acceptance run: configure Hub through /api/v1/, drive the load through Redmine's REST API with
the form's faults, wait for quiet, verify from Redmine's REST API and the ledger API, report figures.

Every issue the driver writes carries a tag in its subject (``[A0007]``), and every comment a token
(``c-…``), so the verification finds each original, its twins and its comments on both sides by
text, whatever Hub recorded. Hub writes to Redmine as its administrator (it needs an administrator's
key to read the creation marker field), the driver as a project member (``grace``), so journals
tell who wrote what.
"""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hub.ids import is_digits
from tests.acceptance.stack import ProductionHub
from tests.connectors.peers import (
    MARKER_FIELD,
    MEMBER_LOGIN,
    MEMBER_PASSWORD,
    PreparedRedmine,
    prepare_redmine,
)

BUG = 1
HUB_USER_ID = 1  # Redmine's administrator: Hub's credentials; the driver is a project member
PRIORITIES = {"low": 1, "normal": 2, "high": 3}  # Redmine's default priority ids
TAG = re.compile(r"\[([AB]\d{4})\]")


@dataclass(frozen=True)
class Form:
    issues_a: int
    issues_b: int
    updates: int  # per side
    comments: int  # per side
    worker_kills: int  # SIGKILL a worker's process group, restart it
    child_kills: int  # SIGKILL one pool child
    redis_restarts: int
    quiet_window: int  # seconds without journal growth at the end
    deadline: int  # seconds to reach quiet, from the first create, at the pace of a quiet machine
    interval: int = 10  # change detection interval
    # seconds the driver's own creates take on a quiet machine: slower here means Redmine itself is
    # slower (a loaded machine), and the deadline stretches with it, up to MAX_STRETCH times
    quiet_creates: float = 30


FORMS = {
    "smoke": Form(6, 4, 3, 3, 0, 0, 0, quiet_window=15, deadline=180, quiet_creates=10),
    # CI's form: small enough for a shared machine, where one Redmine request takes a second under
    # load; the issue's 3-minute quiet check scaled down to 20 s (four detection rounds at 5 s).
    "bounded": Form(30, 15, 10, 8, 2, 1, 1, quiet_window=20, deadline=240, interval=5),
    "long": Form(300, 100, 100, 60, 4, 1, 1, quiet_window=180, deadline=1800, quiet_creates=120),
}
MAX_STRETCH = 3.0
ATTEMPTS = 6  # of a driver request, on a server error or a dropped connection


def stretched(form: Form, creates_took: float) -> float:
    """The form's deadline at this machine's pace, as the driver's creates measured it: Redmine
    answering each request in seconds instead of tens of milliseconds slows every phase alike,
    Hub's reads and writes included (at load averages of 12-16, the bounded form's 45 creates take
    100-155 s against 20-32 s on a quiet machine)."""
    return form.deadline * min(MAX_STRETCH, max(1.0, creates_took / form.quiet_creates))


@dataclass
class Side:
    name: str
    redmine: PreparedRedmine
    rest: httpx.Client = field(init=False)

    def __post_init__(self):
        self.rest = httpx.Client(
            base_url=self.redmine.server.url,
            auth=(MEMBER_LOGIN, MEMBER_PASSWORD),
            headers={"Accept": "application/json"},
            timeout=120,
        )

    @property
    def project(self) -> int:
        return int(self.redmine.project_id)

    def issues(self) -> list[dict]:
        found, offset = [], 0
        while True:
            params = {
                "project_id": self.project,
                "status_id": "*",
                "sort": "id",
                "limit": 100,
                "offset": offset,
            }
            page = self.get("/issues.json", params).json()
            found += page["issues"]
            offset += 100
            if offset >= page["total_count"]:
                return found

    def get(self, path: str, params: dict) -> httpx.Response:
        """A read as a user's client makes it: a dropped connection is tried again (reads are
        idempotent; Redmine's server may close a kept-alive connection as the request goes out)."""
        for attempt in range(ATTEMPTS):
            try:
                return self.rest.get(path, params=params)
            except httpx.TransportError:
                if attempt == ATTEMPTS - 1:
                    raise
            time.sleep(2 * (attempt + 1))  # back-off before the next attempt, not a synchronisation
        raise AssertionError("unreachable")

    def write(self, method: str, path: str, body: dict, done=None) -> httpx.Response:
        """A write as a user makes it: on a server error (Redmine on SQLite answers 500 when its
        database is busy) or a dropped connection, try again, unless ``done()`` finds the first
        attempt took effect. Writes without ``done`` set values, so sending them twice is harmless."""
        for attempt in range(ATTEMPTS):
            try:
                answer = self.rest.request(method, path, json=body)
            except httpx.TransportError:
                if attempt == ATTEMPTS - 1:
                    raise
                answer = None
            if answer is not None and answer.status_code < 500:
                answer.raise_for_status()
                return answer
            if done is not None and (found := done()) is not None:
                return found
            time.sleep(2 * (attempt + 1))  # back-off before the next attempt, not a synchronisation
        answer.raise_for_status()
        return answer

    def find(self, text: str) -> dict | None:
        params = {"project_id": self.project, "status_id": "*", "subject": f"~{text}"}
        found = self.get("/issues.json", params).json()["issues"]
        return found[0] if found else None

    def issue(self, issue_id: int) -> dict:
        answer = self.get(f"/issues/{issue_id}.json", {"include": "journals"})
        answer.raise_for_status()
        return answer.json()["issue"]


@dataclass
class Write:
    side: str
    tag: str
    at: float  # wall clock, seconds: when the write had returned
    subject: str | None = None
    priority: str | None = None
    comment: str | None = None
    started: float = 0.0  # wall clock, seconds: when the write was sent (0: same as ``at``)
    priority_kept: bool = False  # an update that set the priority the issue held (Redmine's journal)


@dataclass
class Ledger:
    """What the driver wrote: per tag its side of origin, its issue there, and every write."""

    origin: dict[str, tuple[str, int]] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)


def _as_answer(found) -> httpx.Response | None:
    """What a write that took effect would have answered (the driver only reads the issue id)."""
    if found is None:
        return None
    return httpx.Response(200, json={"issue": found if isinstance(found, dict) else {}})


def configure(api: httpx.Client, a: Side, b: Side, interval: int) -> int:
    """Everything through /api/v1/: repositories, model, collections, mappings, integration, Run."""

    def ok(answer: httpx.Response) -> dict:
        assert answer.status_code in (200, 201), (
            f"{answer.request.method} {answer.request.url}: {answer.text}"
        )
        return answer.json()

    for side in (a, b):
        ok(
            api.post(
                "/repositories/",
                json={
                    "label": f"Redmine {side.name}",
                    "kind": "redmine",
                    "url": side.redmine.server.url,
                    "auth_method": "api_key",
                    "token": side.redmine.server.api_key,
                    "extra": {"marker_field": MARKER_FIELD},
                    "timeout": 120,
                },
            )
        )
    options = [{"id": key, "label": key.title()} for key in PRIORITIES]
    fields = [
        {"id": "title", "label": "Title", "type": "string", "required": True},
        {"id": "priority", "label": "Priority", "type": "single_select", "options": options},
    ]
    ok(api.post("/models/", json={"name": "Issue", "model_fields": fields}))
    to_model = {str(v): k for k, v in PRIORITIES.items()}
    to_repository = {k: str(v) for k, v in PRIORITIES.items()}
    for side in (a, b):
        collection = ok(
            api.post(
                "/collections/",
                json={
                    "name": f"Bugs {side.name}",
                    "repository": f"Redmine {side.name}",
                    "model": "Issue",
                    "projects": [{"id": str(side.project)}],
                    "artifact_types": [str(BUG)],
                },
            )
        )
        for line in (
            {"repository_fields": ["subject"], "model_fields": ["title"], "transform": "copy"},
            {
                "repository_fields": ["priority"],
                "model_fields": ["priority"],
                "transform": "value_map",
                "params": {
                    "to_model": to_model,
                    "to_model_default": "normal",
                    "to_repository": to_repository,
                },
            },
        ):
            ok(api.post(f"/collections/{collection['id']}/mappings/", json={**line, "direction": "both"}))
    both = {"enabled": True, "internal": "keep"}
    integration = ok(
        api.post(
            "/integrations/",
            json={
                "name": "A ↔ B",
                "collection_a": "Bugs A",
                "collection_b": "Bugs B",
                "routes": [{"project_a": str(a.project), "project_b": str(b.project)}],
                "creation_flow": "both",
                "field_flows": {"title": "both", "priority": "both"},
                "conflict_strategy": "a_wins",
                "comment_flow": {"a_to_b": both, "b_to_a": both},
                "detection_interval": interval,
            },
        )
    )
    ok(api.post(f"/integrations/{integration['id']}/run/"))
    return integration["id"]


# --- load --------------------------------------------------------------------------------------------


def create_issues(side: Side, count: int, ledger: Ledger, pool: ThreadPoolExecutor) -> None:
    def one(n: int) -> None:
        tag = f"{side.name}{n:04d}"
        subject = f"[{tag}] created on {side.name}"
        priority = random.choice(list(PRIORITIES))
        body = {
            "project_id": side.project,
            "tracker_id": BUG,
            "subject": subject,
            "priority_id": PRIORITIES[priority],
        }
        sent = time.time()
        answer = side.write(
            "POST", "/issues.json", {"issue": body}, done=lambda: _as_answer(side.find(f"[{tag}]"))
        )
        with ledger.lock:
            ledger.origin[tag] = (side.name, answer.json()["issue"]["id"])
        ledger.add(Write(side.name, tag, time.time(), subject=subject, priority=priority, started=sent))

    list(pool.map(one, range(count)))


def update_and_comment(sides: dict[str, Side], form: Form, ledger: Ledger, twins, pool) -> None:
    """Updates and comments on either twin of random issues, as users of both sides would."""
    jobs = []
    for side in sides.values():
        jobs += [("update", side.name, n) for n in range(form.updates)]
        jobs += [("comment", side.name, n) for n in range(form.comments)]
    random.shuffle(jobs)
    tags = sorted(ledger.origin)

    def one(job) -> None:
        kind, side_name, n = job
        tag = random.choice(tags)
        issue_id = twins(tag, side_name)
        if issue_id is None:
            return  # its twin is not there yet: a user of this side cannot see it either
        side = sides[side_name]
        if kind == "update":
            subject = f"[{tag}] edited on {side_name} #{n} {uuid.uuid4().hex[:6]}"
            priority = random.choice(list(PRIORITIES))
            body = {"subject": subject, "priority_id": PRIORITIES[priority]}
            sent = time.time()
            side.write("PUT", f"/issues/{issue_id}.json", {"issue": body})
            ledger.add(Write(side_name, tag, time.time(), subject=subject, priority=priority, started=sent))
        else:
            token = f"c-{uuid.uuid4().hex[:12]}"
            body = {"notes": f"Comment {token} on {side_name}"}
            written = lambda: _as_answer(  # noqa: E731
                any(token in (j.get("notes") or "") for j in side.issue(issue_id)["journals"]) or None
            )
            side.write("PUT", f"/issues/{issue_id}.json", {"issue": body}, done=written)
            ledger.add(Write(side_name, tag, time.time(), comment=token))

    list(pool.map(one, jobs))


# --- faults ------------------------------------------------------------------------------------------


@dataclass
class Faults:
    hub: ProductionHub
    api: httpx.Client
    limit: float = 300  # how long to watch one fault's held activities before calling them stuck
    recoveries: list[dict] = field(default_factory=list)

    def processing_ids(self, pids: set[int] | None = None) -> set[int]:
        """The activities *processing*; with ``pids``, only those claimed by one of these processes
        (a claim names its holder ``host:pid:nonce``)."""
        page = self.api.get("/activities/", params={"status": "processing", "page_size": 500}).json()
        return {
            row["id"]
            for row in page["results"]
            if pids is None or _pid_of(row.get("claimed_by") or "") in pids
        }

    def _recovered(self, kind: str, held: set[int], started: float, pids: set[int]) -> None:
        """How long the claims of the killed processes stayed *processing* under those processes:
        until the heartbeat timeout released them, at most ``limit`` (a released row claimed again
        by a live worker is recovered)."""
        count, deadline = len(held), started + self.limit
        while held and time.monotonic() < deadline:
            held &= self.processing_ids(pids)
            if held:
                time.sleep(1)
        seconds = round(time.monotonic() - started, 1)
        self.recoveries.append({"fault": kind, "held": count, "seconds": seconds, "stuck": len(held)})

    def kill_worker(self, unit) -> None:
        pids = {unit.pid, *unit.children()}
        held = self.processing_ids(pids)
        started = time.monotonic()
        unit.kill_group()
        self.hub.restart(unit)
        self._recovered("worker process group", held | self.processing_ids(pids), started, pids)

    def holding(self, pids: set[int], within: float, stop: threading.Event) -> set[int]:
        """Wait up to ``within`` seconds for one of ``pids`` to hold claims, and return the holders:
        a kill then lands while the process is at work (the recovery of its claims is what is
        measured; on a quiet machine a batch takes under a second, and a kill at a fixed moment
        mostly met processes holding nothing). Empty: none held any in time; killed all the same."""
        deadline = time.monotonic() + within
        while not stop.is_set():
            page = self.api.get("/activities/", params={"status": "processing", "page_size": 500}).json()
            holders = {_pid_of(row.get("claimed_by") or "") for row in page["results"]} & pids
            if holders or time.monotonic() >= deadline:
                return holders
            stop.wait(0.2)
        return set()

    def kill_child(self, unit, busy: set[int] = frozenset()) -> None:
        children = unit.children()
        if not children:
            return
        import os
        import signal

        child = random.choice(sorted(busy & set(children)) or children)
        held, started = self.processing_ids({child}), time.monotonic()
        os.kill(child, signal.SIGKILL)
        self._recovered("pool child", held | self.processing_ids({child}), started, {child})

    def restart_redis(self) -> None:
        started = time.monotonic()
        self.hub.redis.restart()
        self.recoveries.append(
            {"fault": "redis restart", "held": 0, "seconds": round(time.monotonic() - started, 1), "stuck": 0}
        )


def _pid_of(holder: str) -> int | None:
    parts = holder.split(":")
    return int(parts[1]) if len(parts) > 2 and is_digits(parts[1]) else None


def inject(faults: Faults, form: Form, stop: threading.Event, spacing: float) -> threading.Thread:
    plan = ["worker"] * form.worker_kills + ["child"] * form.child_kills + ["redis"] * form.redis_restarts
    random.shuffle(plan)

    def run() -> None:
        workers = faults.hub.workers_units()
        for n, fault in enumerate(plan):
            # The first fault a few seconds into the creates, the others at most ``spacing`` apart,
            # each kill as soon as its processes hold claims (the initial sync, the updates).
            if stop.wait(5 if n == 0 else spacing / 4):
                return
            unit = workers[n % len(workers)]
            if fault == "worker":
                faults.holding({unit.pid, *unit.children()}, spacing, stop)
                faults.kill_worker(unit)
            elif fault == "child":
                faults.kill_child(unit, faults.holding(set(unit.children()), spacing, stop))
            else:
                faults.restart_redis()

    thread = threading.Thread(target=run, name="faults", daemon=True)
    thread.start()
    return thread


# --- verification ------------------------------------------------------------------------------------


def snapshot(sides: dict[str, Side]) -> dict[str, list[dict]]:
    """Every issue of both projects with its journals."""
    found = {}
    for name, side in sides.items():
        ids = [issue["id"] for issue in side.issues()]
        with ThreadPoolExecutor(4) as pool:
            found[name] = list(pool.map(side.issue, ids))
    return found


def journal_count(state: dict[str, list[dict]]) -> int:
    return sum(len(issue.get("journals", [])) for issues in state.values() for issue in issues)


def _when(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def verify(state: dict[str, list[dict]], ledger: Ledger, api: httpx.Client) -> dict:
    by_tag: dict[str, dict[str, list[dict]]] = {}
    for side, issues in state.items():
        for issue in issues:
            found = TAG.search(issue["subject"])
            if found:
                by_tag.setdefault(found.group(1), {"A": [], "B": []})[side].append(issue)
    figures = {"issues A": len(state["A"]), "issues B": len(state["B"]), "written": len(ledger.origin)}
    duplicates = sum(max(0, len(copies) - 1) for t in by_tag.values() for copies in t.values())
    missing = sum(1 for tag in ledger.origin for side in "AB" if not by_tag.get(tag, {}).get(side))
    comments: dict[str, list[str]] = {}
    driver_writes: dict[tuple[str, str], int] = {}
    for write in sorted(ledger.writes, key=lambda w: w.at):
        driver_writes[(write.tag, write.side)] = driver_writes.get((write.tag, write.side), 0) + 1
        if write.comment:
            comments.setdefault(write.tag, []).append(write.comment)
    conflicted = conflicted_tags(api, by_tag)
    mark_unchanged_priorities(ledger, by_tag)
    wrong_values = lost = doubled = extra_journals = 0
    wrong: list[str] = []  # which issue and what it holds against what was expected: for the report
    latencies: list[float] = []
    for tag, sides in by_tag.items():
        if tag not in ledger.origin:
            continue
        for side, copies in sides.items():
            if len(copies) != 1:
                continue
            issue = copies[0]
            subjects, priorities = expected_values(tag, ledger, conflicted)
            if issue["subject"] not in subjects or issue["priority"]["id"] not in priorities:
                wrong_values += 1
                wrong.append(
                    f"{side}#{issue['id']} holds {issue['subject']!r}/priority {issue['priority']['id']}, "
                    f"expected one of {sorted(subjects)!r}/{sorted(priorities)!r}"
                )
            notes = [j.get("notes") or "" for j in issue.get("journals", [])]
            for token in comments.get(tag, []):
                seen = sum(token in note for note in notes)
                lost += seen == 0
                doubled += max(0, seen - 1)
            hub_journals = [j for j in issue.get("journals", []) if j["user"]["id"] == HUB_USER_ID]
            other = "B" if side == "A" else "A"
            allowed = driver_writes.get((tag, other), 0)
            extra_journals += max(0, len(hub_journals) - allowed)
            latencies += _latencies(issue, side, tag, ledger)
        ends = {(c[0]["subject"], c[0]["priority"]["id"]) for c in sides.values() if len(c) == 1}
        wrong_values += len(ends) > 1  # each twin as allowed, but not the same as its pair
        if len(ends) > 1:
            wrong.append(f"{tag}: the twins differ: {sorted(ends)!r}")
    figures.update(
        conflicts_decided=len(conflicted),
        duplicates=duplicates,
        missing=missing,
        wrong_values=wrong_values,
        wrong_values_seen=wrong,
        comments_written=sum(len(c) for c in comments.values()),
        comments_lost=lost,
        comments_duplicated=doubled,
        extra_hub_journals=extra_journals,
    )
    if latencies:
        latencies.sort()
        figures["latency p50 s"] = round(statistics.median(latencies), 1)
        figures["latency p95 s"] = round(latencies[int(0.95 * (len(latencies) - 1))], 1)
        figures["latency samples"] = len(latencies)
    for status in ("pending", "processing", "failed"):
        page = api.get("/activities/", params={"status": status, "page_size": 500}).json()
        figures[f"activities {status}"] = page["count"]
        reasons: dict[str, int] = {}
        for row in page["results"]:
            reason = f"{row['code']} {row['message'][:120]}".strip() or f"claimed by {row['claimed_by']}"
            reasons[reason] = reasons.get(reason, 0) + 1
        if reasons:
            figures[f"activities {status} why"] = reasons
    return figures


def conflicted_tags(api: httpx.Client, by_tag: dict[str, dict[str, list[dict]]]) -> set[str]:
    """The tags whose issues had a conflict decided by the strategy (the ledger API's ``conflict``
    filter): both twins were changed before Hub synchronized either change."""
    tag_of = {
        (side, str(issue["id"])): tag for tag, sides in by_tag.items() for side, copies in sides.items()
        for issue in copies
    }  # fmt: skip
    found, page = set(), 1
    while True:
        answer = api.get("/activities/", params={"conflict": "any", "page": page, "page_size": 500}).json()
        found |= {tag_of.get((row["source_side"], row["artifact_id"])) for row in answer["results"]}
        if not answer["next"]:
            return found - {None}
        page += 1


def mark_unchanged_priorities(ledger: Ledger, by_tag: dict[str, dict[str, list[dict]]]) -> None:
    """Mark each update that set the priority the issue already held (``Write.priority_kept``),
    from the journal Redmine made of it (the driver's, with the write's subject, and no
    ``priority_id`` detail): Redmine stores that as no change of the priority, so Hub cannot see
    it, and a concurrent change of the other twin's priority rightly stands."""
    for write in ledger.writes:
        if not (write.subject and write.priority) or ledger.origin.get(write.tag, (None,))[0] is None:
            continue
        copies = by_tag.get(write.tag, {}).get(write.side) or []
        for issue in copies[:1]:
            for journal in issue.get("journals", []):
                if journal["user"]["id"] == HUB_USER_ID:
                    continue
                details = journal.get("details", [])
                if any(d.get("name") == "subject" and d.get("new_value") == write.subject for d in details):
                    write.priority_kept = not any(d.get("name") == "priority_id" for d in details)
                    break


def _last(writes: list[Write]) -> list[Write]:
    """The writes that may be the last: every one that returned after the latest start (writes to
    the two twins that overlapped in time have no order the driver can tell)."""
    if not writes:
        return []
    latest_start = max(w.started or w.at for w in writes)
    return [w for w in writes if w.at >= latest_start]


def expected_values(tag: str, ledger: Ledger, conflicted: set[str]) -> tuple[set[str], set[int]]:
    """The subjects and the priority ids a twin may end with, field by field (Hub decides a
    conflict per field, and a write that sets a field to the value it has is no change of it):
    the last write's, and where the two sides were written concurrently (a conflict Hub decided),
    the last write of the side the integration's strategy lets win (``a_wins``): there "last" by
    the driver's clock is not what the strategy decides."""
    writes = sorted((w for w in ledger.writes if w.tag == tag and w.subject), key=lambda w: w.at)
    # Writes to the two twins that overlapped in time have no order the driver can tell (under
    # load a PUT takes seconds, and Redmine dates it when it starts): each of them may be the last.
    last = _last(writes)
    winner = [w for w in writes if w.side == "A"]
    if tag in conflicted and winner:
        last.append(winner[-1])
    # The priority field by field too: a write that kept the priority it found changed nothing
    # there; the last writes that did change it decide (or the strategy's winner among them).
    changing = [w for w in writes if not w.priority_kept]
    priorities = {PRIORITIES[w.priority] for w in last if not w.priority_kept}
    if any(w.priority_kept for w in last):
        priorities |= {PRIORITIES[w.priority] for w in _last(changing)}
        winning = [w for w in changing if w.side == "A"]
        if tag in conflicted and winning:
            priorities.add(PRIORITIES[winning[-1].priority])
    return {w.subject for w in last}, priorities


def _latencies(issue: dict, side: str, tag: str, ledger: Ledger) -> list[float]:
    """Seconds from a write on the other side to the moment this twin showed it (Redmine's own
    timestamps: the twin's creation, or the journal that set the subject)."""
    other = [w for w in ledger.writes if w.tag == tag and w.side != side and w.subject]
    if not other:
        return []
    found = []
    origin_side, _ = ledger.origin[tag]
    if origin_side != side:
        found.append(max(0.0, _when(issue["created_on"]) - other[0].at))
    for write in other[1:] if origin_side != side else other:
        for journal in issue.get("journals", []):
            if any(
                d.get("name") == "subject" and d.get("new_value") == write.subject for d in journal["details"]
            ):
                found.append(max(0.0, _when(journal["created_on"]) - write.at))
                break
    return found


# --- Hub's requests, from Redmine's own log ------------------------------------------------------------

LOG_LINE = re.compile(r"\[(\d{4}-\d\d-\d\dT[\d:.]+) #\d+\]\s+INFO -- : \[([0-9a-f-]+)\]\s+(.*)$")
STARTED = re.compile(r'Started (\w+) "([^"?]+)')


def hub_requests(log: Path, since: float) -> dict[str, int]:
    """Hub's requests to one Redmine since ``since`` (wall clock), by kind, from its production
    log: Hub is Redmine's administrator (``HUB_USER_ID``), the driver and the verification a
    project member, so the request's "Current user" tells them apart."""
    started: dict[str, tuple[float, str]] = {}
    counted: dict[str, int] = {}
    if not log.exists():
        return counted
    for line in log.read_text(errors="replace").splitlines():
        found = LOG_LINE.search(line)
        if not found:
            continue
        at, request, text = found.groups()
        if (start := STARTED.match(text)) is not None:
            when = datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
            path = re.sub(r"/\d+", "/N", start.group(2))
            started[request] = (when, f"{start.group(1)} {path}")
        elif text.startswith(f"Current user: admin (id={HUB_USER_ID})") and request in started:
            when, kind = started.pop(request)
            if when >= since:
                counted[kind] = counted.get(kind, 0) + 1
    return counted


def requests_figures(workdir: Path, since: float, synchronized: int) -> dict:
    """Hub's requests to both Redmines during the run, per synchronized issue, by kind."""
    total: dict[str, int] = {}
    for name in "AB":
        log = workdir / f"redmine-{name}" / "redmine-instance" / "log" / "production.log"
        for kind, n in hub_requests(log, since).items():
            total[kind] = total.get(kind, 0) + n
    top = dict(sorted(total.items(), key=lambda kv: -kv[1])[:8])
    return {
        "hub requests": sum(total.values()),
        "hub requests per issue": round(sum(total.values()) / max(1, synchronized), 1),
        "hub requests by kind": top,
    }


# --- the run -------------------------------------------------------------------------------------------


def wait_for_quiet(api: httpx.Client, sides, form: Form, started: float, limit: float) -> tuple[bool, float]:
    """Quiet: nothing pending, processing or failed (a failed activity is retried, so its change is
    still on its way) in the ledger, and the issue counts unchanged over two polls."""
    deadline = started + limit
    previous = None
    while time.monotonic() < deadline:
        busy = sum(
            api.get("/activities/", params={"status": status}).json()["count"]
            for status in ("pending", "processing", "failed")
        )
        count = sum(len(side.issues()) for side in sides.values())
        if busy == 0 and count == previous:
            return True, time.monotonic() - started
        previous = count if busy == 0 else None
        time.sleep(max(5, form.interval))
    return False, time.monotonic() - started


def run(form_name: str, workdir: Path, *, faults: bool = True) -> dict:
    form = FORMS[form_name]
    if not faults:
        form = Form(**{**form.__dict__, "worker_kills": 0, "child_kills": 0, "redis_restarts": 0})
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    hub = ProductionHub(workdir / "hub")
    # The two Redmines and Hub start side by side: each mostly waits for its own interpreter to
    # load (the first start on a machine also builds Redmine's template database: minutes).
    with ThreadPoolExecutor(3) as starting:
        started = [starting.submit(prepare_redmine, workdir / f"redmine-{name}", 900) for name in "AB"]
        hub_started = starting.submit(hub.start)
    redmines = [future.result() for future in started if future.exception() is None]
    try:
        for future in (*started, hub_started):
            if future.exception() is not None:
                raise future.exception()
        sides = {name: Side(name, redmine) for name, redmine in zip("AB", redmines, strict=True)}
        figures: dict = {"form": form_name, "faults": faults, "setup s": round(time.monotonic() - t0, 1)}
        configured_at = time.time()
        with hub.api() as api:
            configure(api, sides["A"], sides["B"], form.interval)
            ledger = Ledger()
            broken = Faults(hub, api, limit=form.deadline / 2)
            stop = threading.Event()
            load_started = time.monotonic()
            spacing = max(5.0, form.deadline / 10)
            injector = inject(broken, form, stop, spacing)
            with ThreadPoolExecutor(4) as pool:
                for name, count in (("A", form.issues_a), ("B", form.issues_b)):
                    create_issues(sides[name], count, ledger, pool)
                figures["driver create s"] = round(time.monotonic() - load_started, 1)
                deadline = stretched(form, figures["driver create s"])
                figures["deadline s"] = round(deadline)
                broken.limit = deadline / 2
                paired = wait_until_paired(api, len(ledger.origin), load_started, deadline)
                figures["initial sync s"] = paired
                twins = twin_finder(api, sides, ledger)
                update_and_comment(sides, form, ledger, twins, pool)
            injector.join(timeout=deadline)
            stop.set()
            quiet, waited = wait_for_quiet(api, sides, form, load_started, deadline)
            figures.update(quiet=quiet, **{"until quiet s": round(waited, 1)})
            before = snapshot(sides)
            time.sleep(form.quiet_window)  # the window itself is what is measured: growth over it
            after = snapshot(sides)
            figures["journal growth in quiet window"] = journal_count(after) - journal_count(before)
            figures["quiet window s"] = form.quiet_window
            figures.update(verify(after, ledger, api))
            figures["recoveries"] = broken.recoveries
        figures.update(requests_figures(workdir, configured_at, len(ledger.origin)))
        figures["total s"] = round(time.monotonic() - t0, 1)
        return figures
    finally:
        hub.stop()
        for redmine in redmines:
            redmine.server.stop()


def wait_until_paired(api: httpx.Client, expected: int, started: float, deadline: float) -> float | None:
    while time.monotonic() < started + deadline:
        if api.get("/pairs/", params={"page_size": 1}).json()["count"] >= expected:
            return round(time.monotonic() - started, 1)
        time.sleep(2)
    return None


def twin_finder(api: httpx.Client, sides, ledger: Ledger):
    """tag, side → that side's issue id (the original, or its twin as Hub paired it)."""
    pairs: dict[tuple[str, int], int] = {}
    page = 1
    while True:
        answer = api.get("/pairs/", params={"page": page, "page_size": 500}).json()
        for pair in answer["results"]:
            a, b = int(pair["a_artifact_id"]), int(pair["b_artifact_id"])
            pairs[("A", a)], pairs[("B", b)] = b, a
        if not answer["next"]:
            break
        page += 1

    def find(tag: str, side: str) -> int | None:
        origin, issue_id = ledger.origin[tag]
        return issue_id if origin == side else pairs.get((origin, issue_id))

    return find


INVARIANTS = (
    ("duplicates", "a twin made more than once"),
    ("missing", "an issue without its twin"),
    ("wrong_values", "a field not as last written"),
    ("comments_lost", "a comment that never reached the twin"),
    ("comments_duplicated", "a comment written more than once"),
    ("extra_hub_journals", "more Hub journals than changes on the other side"),
    ("journal growth in quiet window", "journals still growing when nobody writes"),
    ("activities processing", "activities left processing"),
    ("activities pending", "activities left pending"),
)


def broken_invariants(figures: dict) -> list[str]:
    broken = [f"{figures[key]} × {what} ({key})" for key, what in INVARIANTS if figures.get(key)]
    if not figures.get("quiet"):
        broken.append(f"not quiet within the form's deadline ({figures.get('until quiet s')} s)")
    return broken
