"""Time Tracking between the local tracker (A) and the real Redmine 5 (B): worklogs reach Redmine's
spent time once each, duration edits flow both ways, and 500 worklogs arrive exactly once although
the worker filing them is killed with SIGKILL halfway (that one needs real worker processes, hence
a server database; it is ``production_shape``: the PostgreSQL stage runs it, the others deselect it
rather than skip it, tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from activity.models import ArtifactPair
from connectors.local import service
from connectors.local.models import LocalTimeEntry
from integrations.models import Integration, ModelField
from tests.engine.sync import new_item, run
from tests.engine.test_redmine_sync import (  # noqa: F401 - fixtures
    configure,
    integration_between,
    redmine,
    sync_model,
)
from tests.engine.time_tracking import map_time_entries

pytestmark = pytest.mark.django_db(transaction=True)
DAY = dt.date(2026, 11, 30)


def spent_time_project(redmine) -> str:  # noqa: F811
    """A Redmine project of this test with the time tracking module on."""
    identifier = f"time-{uuid.uuid4().hex[:10]}"
    body = {
        "name": identifier,
        "identifier": identifier,
        "is_public": True,
        "tracker_ids": [1, 2, 3],
        "enabled_module_names": ["issue_tracking", "time_tracking"],
    }
    response = redmine.rest.post("/projects.json", json={"project": body})
    response.raise_for_status()
    return str(response.json()["project"]["id"])


def spent_time(redmine, issue_id: str) -> list[dict]:  # noqa: F811
    params = {"issue_id": issue_id, "limit": 100}
    rows = []
    while True:
        body = redmine.rest.get("/time_entries.json", params={**params, "offset": len(rows)}).json()
        rows += body["time_entries"]
        if len(rows) >= body["total_count"] or not body["time_entries"]:
            return rows


@pytest.fixture
def worklogs(trackers, sync_model, redmine, master_password, licensed):  # noqa: F811
    """Local DEMO → a new Redmine project, work items created A → B, worklogs both ways."""
    from tests.engine.test_redmine_sync import local_collection, redmine_collection

    project = spent_time_project(redmine)
    ModelField.objects.create(
        model=sync_model, key="worklogs", label="Worklogs", type="time_entries", position=9
    )
    local, remote = local_collection(sync_model), redmine_collection(sync_model, redmine.prepared, [project])
    for collection in (local, remote):
        map_time_entries(collection)
    integration = integration_between(local, remote, [("DEMO", project)])
    integration.style = Integration.Style.TIME_TRACKING
    integration.creation_flow = "a_to_b"
    integration.field_flows = {"title": "both", "worklogs": {"flow": "both"}}
    integration.save()
    return integration, project


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=round(n * 60))


def test_worklogs_reach_redmine_once_and_duration_edits_flow_both_ways(worklogs, redmine):  # noqa: F811
    integration, _ = worklogs
    item = new_item("alpha", "DEMO", "Slow search")
    entry = service.add_time_entry(item.pk, None, DAY, hours(1.5), comment="profiling")
    service.add_time_entry(item.pk, None, DAY, hours(0.25), comment="review")
    run(integration)
    issue_id = ArtifactPair.objects.get(a_artifact_id=str(item.pk)).b_artifact_id
    rows = spent_time(redmine, issue_id)
    assert sorted((r["comments"], r["hours"], r["spent_on"]) for r in rows) == [
        ("profiling", 1.5, "2026-11-30"),
        ("review", 0.25, "2026-11-30"),
    ]
    run(integration)  # nothing is filed twice
    assert len(spent_time(redmine, issue_id)) == 2

    service.update_time_entry(entry.pk, duration=hours(2))
    run(integration)
    assert {r["comments"]: r["hours"] for r in spent_time(redmine, issue_id)}["profiling"] == 2.0

    review = next(r for r in spent_time(redmine, issue_id) if r["comments"] == "review")
    # Redmine files time without touching the issue: detection finds it by the entry's own clock.
    redmine.rest.put(
        f"/time_entries/{review['id']}.json", json={"time_entry": {"hours": 0.75}}
    ).raise_for_status()
    run(integration)
    local = {e.comment: e.duration for e in LocalTimeEntry.objects.filter(item=item)}
    assert local == {"profiling": hours(2), "review": hours(0.75)}


def test_spent_time_logged_in_redmine_reaches_the_local_twin(worklogs, redmine):  # noqa: F811
    integration, _ = worklogs
    item = new_item("alpha", "DEMO", "Slow search")
    run(integration)
    issue_id = ArtifactPair.objects.get(a_artifact_id=str(item.pk)).b_artifact_id
    activity = redmine.rest.get("/enumerations/time_entry_activities.json").json()["time_entry_activities"][0]
    body = {"issue_id": int(issue_id), "hours": 1.25, "spent_on": "2026-11-29", "comments": "from Redmine"}
    body["activity_id"] = activity["id"]
    redmine.rest.post("/time_entries.json", json={"time_entry": body}).raise_for_status()
    run(integration)
    [copy] = LocalTimeEntry.objects.filter(item=item)
    assert (copy.comment, copy.duration, copy.date) == ("from Redmine", hours(1.25), dt.date(2026, 11, 29))
    assert len(spent_time(redmine, issue_id)) == 1


# --- 500 worklogs and a kill -9 in the middle (real worker processes: server database) ----------


@pytest.fixture
def processes(redis_server):
    from tests.engine.workers import Processes

    started = Processes(redis_server.url)
    yield started
    started.stop_all()


def spent_in_project(redmine, project: str) -> int:  # noqa: F811
    body = redmine.rest.get("/time_entries.json", params={"project_id": project, "limit": 1}).json()
    return body["total_count"]


# Real worker processes need a server database (the suite's SQLite database is in memory), and one
# engine is enough for a test of a minute or more: ``production_shape`` keeps it to the PostgreSQL
# stage (deselected elsewhere, not skipped), ``slow`` starts it first under xdist.
@pytest.mark.production_shape
@pytest.mark.slow
def test_500_worklogs_arrive_once_each_although_the_worker_is_killed_midway(
    worklogs,
    redmine,  # noqa: F811
    processes,
    tmp_path,
):
    from activity.models import ArtifactActivity
    from tests.engine.workers import wait_for

    integration, project = worklogs
    integration.detection_interval = 1
    integration.save()
    for number in range(10):
        item = new_item("alpha", "DEMO", f"Item {number}")
        for n in range(50):
            service.add_time_entry(
                item.pk, None, DAY, hours(0.25 + n % 4 * 0.25), comment=f"log {number}-{n}"
            )
    sentinel = tmp_path / "time-entry-created"
    crash = {"HUB_TEST_CRASH_SENTINEL": str(sentinel), "HUB_TEST_CRASH_AFTER": "250"}
    processes.worker(include="tests.engine.time_entry_crash_point", env=crash)
    processes.beat()
    wait_for(sentinel.exists, 240, "the worker did not file 250 worklogs", processes)
    filed_before_the_kill = spent_in_project(redmine, project)
    assert filed_before_the_kill >= 250
    processes.kill("worker")
    processes.worker()

    def settled() -> bool:
        busy = ArtifactActivity.objects.filter(status__in=["pending", "processing", "failed"]).exists()
        return not busy and spent_in_project(redmine, project) >= 500

    wait_for(settled, 300, "not every worklog reached Redmine", processes)
    comments = []
    for pair in ArtifactPair.objects.filter(integration_id=integration.pk):
        comments += [row["comments"] for row in spent_time(redmine, pair.b_artifact_id)]
    assert len(comments) == 500
    assert sorted(comments) == sorted(f"log {i}-{n}" for i in range(10) for n in range(50))
