"""Two-way Work Item Synchronization between a local tracker (A) and each cloud tool (B), the tool
being its fake from ``tests/fakes/`` on loopback (``tests/engine/cloud.py``). Detection and
processing run in-process as in ``test_sync.py``; faults are injected into the fake's answers:
429 storms with and without headers, 5xx, timeouts, an expired token, the tool's clock hours
behind Hub's. Every fault ends with the change delivered once and nothing lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair, Blocker
from connectors.local import service
from connectors.local.models import LocalItem, LocalUser
from tests.engine.cloud import GRACE, TOOLS, integration_with
from tests.engine.sync import change, items, new_item, run
from tests.fakes.harness import Fault

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=sorted(TOOLS))
def tool(request):
    made = TOOLS[request.param]()
    yield made
    made.close()


@pytest.fixture
def synced(trackers, master_password, licensed, tool):
    return integration_with(tool)


def twin_id(item: LocalItem) -> str:
    return ArtifactPair.objects.get(a_artifact_id=str(item.pk)).b_artifact_id


def local_twin(artifact_id: str) -> LocalItem:
    return LocalItem.objects.get(pk=int(ArtifactPair.objects.get(b_artifact_id=artifact_id).a_artifact_id))


def make_retries_due() -> None:
    ArtifactActivity.objects.filter(status="failed").update(next_retry_at=timezone.now())


# --- creation both ways, with the creation marker ---------------------------------------------------


def test_local_item_gets_one_twin_that_carries_the_creation_marker(synced, tool):
    item = new_item("alpha", "DEMO", "Crash on save")
    run(synced)
    [remote] = tool.ids()
    assert tool.read(remote).title == "Crash on save"
    assert tool.read(remote).marker.startswith("hub-")
    assert twin_id(item) == remote
    activity = ArtifactActivity.objects.get(source_side="A", artifact_id=str(item.pk))
    assert (activity.status, activity.result) == ("completed", "created")
    run(synced)  # the tool's side of the new pair is Hub's own write: nothing comes back
    assert items("alpha", "DEMO") == [item] and len(tool.ids()) == 1


def test_tool_issue_gets_one_local_twin(synced, tool):
    remote = tool.create("Reported in the tool")
    run(synced)
    [item] = items("alpha", "DEMO")
    assert item.summary == "Reported in the tool" and local_twin(remote).pk == item.pk
    assert len(tool.ids()) == 1


class WorkerDied(BaseException):
    pass


def test_crash_between_the_remote_create_and_the_pair_finds_the_twin_by_its_marker(synced, tool, monkeypatch):
    original = tool.connector_class.create_artifact

    def create_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise WorkerDied

    monkeypatch.setattr(tool.connector_class, "create_artifact", create_then_die)
    item = new_item("alpha", "DEMO", "Created once")
    with pytest.raises(WorkerDied):
        run(synced)
    assert len(tool.ids()) == 1 and not ArtifactPair.objects.exists()
    monkeypatch.setattr(tool.connector_class, "create_artifact", original)
    from integrations.models import SyncLock

    ArtifactActivity.objects.update(claimed_at="2000-01-01T00:00:00Z")  # the dead worker's claim goes stale
    SyncLock.objects.update(acquired="2000-01-01T00:00:00Z")
    run(synced)
    [remote] = tool.ids()
    assert twin_id(item) == remote
    assert ArtifactActivity.objects.get(source_side="A", status="completed").result == "associated"


# --- updates, conflicts, no write-back ----------------------------------------------------------------


def test_updates_flow_both_ways_and_hub_does_not_write_back_its_own_write(synced, tool):
    item = new_item("alpha", "DEMO", "First")
    run(synced)
    remote, revision = twin_id(item), LocalItem.objects.get(pk=item.pk).revision
    before = len(tool.writes())
    change(item, summary="Second")
    run(synced)
    assert tool.read(remote).title == "Second"
    assert len(tool.writes()) == before + 1  # one update, and none back though it is detected
    assert LocalItem.objects.get(pk=item.pk).revision == revision + 1

    before = len(tool.writes())
    tool.change(remote, title="Third")
    run(synced)
    item.refresh_from_db()
    assert item.summary == "Third" and item.revision == revision + 2
    assert len(tool.writes()) == before


@pytest.mark.parametrize(("strategy", "winner"), [("a_wins", "local"), ("b_wins", "tool")])
def test_a_conflict_is_resolved_by_the_strategy(synced, tool, strategy, winner):
    synced.conflict_strategy = strategy
    synced.save()
    item = new_item("alpha", "DEMO", "Original")
    run(synced)
    remote = twin_id(item)
    change(item, summary="local")
    tool.change(remote, title="tool")
    run(synced)
    item.refresh_from_db()
    assert (item.summary, tool.read(remote).title) == (winner, winner)


def test_persons_are_reconciled_by_username_both_ways(synced, tool):
    grace = LocalUser.objects.get(tracker__name="alpha", username=GRACE)
    item = new_item("alpha", "DEMO", "Assigned here", assignee=str(grace.pk))
    run(synced)
    assert tool.read(twin_id(item)).owner == GRACE
    remote = tool.create("Assigned in the tool", owner=GRACE)
    run(synced)
    assert local_twin(remote).assignee_id == grace.pk


def test_comments_flow_once_each_way(synced, tool):
    item = new_item("alpha", "DEMO", "With comments")
    service.add_comment(item.pk, None, "first")
    run(synced)
    remote = twin_id(item)
    tool.comment(remote, "reply from the tool")
    run(synced)
    run(synced)
    assert tool.read(remote).comments == [("first", False), ("reply from the tool", False)]
    local = sorted(c.body for c in LocalItem.objects.get(pk=item.pk).comments.all())
    assert local == ["first", "reply from the tool"]


# --- faults: nothing lost, clear codes, retried ------------------------------------------------------


def test_a_short_429_storm_with_retry_after_is_waited_out_inline(synced, tool):
    item = new_item("alpha", "DEMO", "Before the storm")
    run(synced)
    tool.fake.inject(Fault(status=429, headers={"Retry-After": "1"}, times=2, method=tool.update_method))
    change(item, summary="During the storm")
    run(synced)
    assert tool.read(twin_id(item)).title == "During the storm"
    assert not ArtifactActivity.objects.filter(status="failed").exists()


@pytest.mark.parametrize(
    ("fault", "code", "transient"),
    [
        (
            Fault(status=429, headers={"Retry-After": "120"}, times=1000, method="PATCH"),
            "CCRRTT-61105I",
            True,
        ),
        (Fault(status=429, times=1000, method="PATCH"), "CCRRTT-61105I", True),  # a bare 429
        (Fault(status=502, body=b"Bad gateway", times=1000, method="PATCH"), "CCRRTT-30013E", True),
        (Fault(status=503, times=1000, method="PATCH"), "CCRRTT-61104E", True),
        (Fault(hang=7, times=1000, method="PATCH"), "CCRRTT-1000E", True),  # no answer within 5 s
    ],
    ids=["429-retry-after", "429-bare", "502", "503", "timeout"],
)
def test_a_write_fault_fails_with_its_code_and_the_retry_delivers_the_change(
    synced, tool, fault, code, transient
):
    item = new_item("alpha", "DEMO", "Before")
    run(synced)
    tool.fake.inject(dataclasses.replace(fault, method=tool.update_method))  # a fresh copy per tool
    change(item, summary="After")
    run(synced, rounds=1)
    failed = ArtifactActivity.objects.get(source_side="A", status="failed")
    assert failed.code == code and failed.next_retry_at > timezone.now()
    if fault.headers.get("Retry-After"):
        assert failed.next_retry_at >= timezone.now() + dt.timedelta(seconds=100)  # the tool's wait
    assert tool.read(twin_id(item)).title == "Before"
    tool.fake.clear_faults()
    make_retries_due()
    run(synced)
    assert tool.read(twin_id(item)).title == "After"
    assert not ArtifactActivity.objects.filter(status="failed").exists()
    assert ArtifactActivity.objects.filter(source_side="A", result="updated").count() == 1


def test_an_expired_token_fails_with_61101E_and_nothing_is_lost_once_it_is_renewed(synced, tool):
    item = new_item("alpha", "DEMO", "Before")
    remote = tool.create("Made in the tool")
    run(synced)
    secret = tool.credential()
    tool.expire_credentials()
    change(item, summary="After")
    tool.change(remote, title="Changed in the tool meanwhile")
    run(synced, rounds=1)
    # The connection check before detection finds the refused credentials and blocks the
    # integration; a write that got as far as the tool failed with the same code.
    [blocker] = Blocker.objects.filter(code="CCRRTT-61101E")
    assert secret not in blocker.message
    for failed in ArtifactActivity.objects.filter(status="failed"):
        assert failed.code == "CCRRTT-61101E" and secret not in failed.message
    assert tool.read(twin_id(item)).title == "Before"
    tool.renew_credentials()
    make_retries_due()
    run(synced)
    assert tool.read(twin_id(item)).title == "After"
    assert local_twin(remote).summary == "Changed in the tool meanwhile"
    assert not Blocker.objects.filter(code="CCRRTT-61101E").exists()


def test_detection_through_a_5xx_storm_loses_nothing(synced, tool):
    remote = tool.create("Before the storm")
    run(synced)
    tool.fake.inject(Fault(status=500, times=1000))  # every request: reads and searches alike
    tool.change(remote, title="Changed during the storm")
    run(synced, rounds=1)
    assert Blocker.objects.filter(code="CCRRTT-30013E").exists()  # the failing repository, or its detection
    tool.fake.clear_faults()
    run(synced)
    assert local_twin(remote).summary == "Changed during the storm"


# --- clocks ------------------------------------------------------------------------------------------


def test_a_tool_clock_seven_hours_behind_hubs_loses_no_change(synced, tool):
    """The watermark is the tool's own clock, never Hub's: a tool in UTC-7 whose clock is also
    wrong by hours still has every change after the watermark seen."""
    tool.fake.clock_offset = -dt.timedelta(hours=7)
    remote = tool.create("Early")
    run(synced)
    tool.change(remote, title="Later by the tool's clock")
    run(synced)
    assert local_twin(remote).summary == "Later by the tool's clock"


def test_a_change_in_the_repeated_hour_of_a_dst_change_is_seen(synced, tool):
    """The tool's clock in the hour US clocks go back (01:00-02:00 happens twice in Los Angeles,
    where the Jira user lives): a change in the second 01:30 is after one in the first."""
    tool.fake.clock_offset = dt.datetime(2026, 11, 1, 8, 20, tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)
    remote = tool.create("Before the change of clocks")  # 01:20 PDT
    run(synced)
    tool.fake.clock_offset += dt.timedelta(hours=1)  # 09:20 UTC = 01:20 PST, the same wall time
    tool.change(remote, title="In the repeated hour")
    run(synced)
    assert local_twin(remote).summary == "In the repeated hour"


def test_a_day_without_time_stays_the_same_day_both_ways(synced, tool):
    """A due date is a calendar day: 29 March (when Europe's clocks change) arrives as 29 March on
    a tool whose user is in UTC-7/-8, never as a midnight shifted into the day before."""
    if "due" not in tool.fields:
        assert "due" not in tool.fields  # GitHub issues have no date field: nothing to shift
        return
    item = new_item("alpha", "DEMO", "Due on a DST day", due_date=dt.date(2026, 3, 29))
    run(synced)
    remote = twin_id(item)
    assert tool.read(remote).due == "2026-03-29"
    tool.set_due(remote, "2026-11-01")
    run(synced)
    assert LocalItem.objects.get(pk=item.pk).due_date == dt.date(2026, 11, 1)
