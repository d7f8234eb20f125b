"""Time Tracking between two local trackers: each worklog reaches the twin once, a duration edit
follows, filtering keeps entries back, and a copy a killed worker left behind is adopted."""

import datetime as dt

import pytest

from activity.models import ArtifactPair
from connectors.local import service
from connectors.local.models import LocalTimeEntry, LocalUser
from tests.engine.sync import items, new_item, run
from tests.engine.time_tracking import time_tracking

DAY = dt.date(2026, 11, 30)


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=round(n * 60))


def entries_of(item) -> list[tuple]:
    return sorted(
        (e.date, e.duration, e.comment, e.activity) for e in LocalTimeEntry.objects.filter(item=item)
    )


def twin(item):
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    return service.LocalItem.objects.get(pk=int(pair.b_artifact_id))


@pytest.fixture
def worklogs(running):
    return time_tracking(running)


def test_each_time_entry_reaches_the_twin_once_with_its_values(worklogs):
    item = new_item("alpha", "DEMO", "Login fails")
    worker = service.hub_user(service.tracker("alpha"))
    service.add_time_entry(item.pk, worker, DAY, hours(1.5), comment="analysis", activity="testing")
    service.add_time_entry(item.pk, worker, DAY, hours(0.25), comment="fix")
    run(worklogs)
    run(worklogs)  # again: nothing new is filed
    copy = twin(item)
    assert entries_of(copy) == entries_of(item)
    assert LocalTimeEntry.objects.filter(item=copy).count() == 2


def test_worklogs_flow_back_from_the_twin_and_are_not_copied_twice(worklogs):
    item = new_item("alpha", "DEMO", "Login fails")
    run(worklogs)
    copy = twin(item)
    service.add_time_entry(copy.pk, None, DAY, hours(2), comment="review in beta")
    run(worklogs)
    assert [e[2] for e in entries_of(item)] == ["review in beta"]
    assert LocalTimeEntry.objects.filter(item=copy).count() == 1


def test_a_duration_edit_flows_to_the_copy(worklogs):
    item = new_item("alpha", "DEMO", "Login fails")
    entry = service.add_time_entry(item.pk, None, DAY, hours(1), comment="analysis")
    run(worklogs)
    service.update_time_entry(entry.pk, duration=hours(3))
    run(worklogs)
    assert [e[1] for e in entries_of(twin(item))] == [hours(3)]
    copy_entry = LocalTimeEntry.objects.get(item=twin(item))
    service.update_time_entry(copy_entry.pk, duration=hours(4))  # and back the other way
    run(worklogs)
    assert LocalTimeEntry.objects.get(pk=entry.pk).duration == hours(4)


def test_the_worker_is_filed_under_its_twin_person(worklogs):
    alpha, beta = service.tracker("alpha"), service.tracker("beta")
    ann = LocalUser.objects.create(tracker=alpha, username="ann", email="ann@example.org")
    LocalUser.objects.create(tracker=beta, username="ann", email="ann@example.org")
    item = new_item("alpha", "DEMO", "Login fails")
    service.add_time_entry(item.pk, ann, DAY, hours(1))
    run(worklogs)
    assert LocalTimeEntry.objects.get(item=twin(item)).worker.username == "ann"


def test_time_entry_filtering_keeps_other_activities_back(running):
    worklogs = time_tracking(running, filter={"a_to_b": {"activities": ["testing"], "since": "2026-11-01"}})
    item = new_item("alpha", "DEMO", "Login fails")
    service.add_time_entry(item.pk, None, DAY, hours(1), comment="tests", activity="testing")
    service.add_time_entry(item.pk, None, DAY, hours(1), comment="code", activity="development")
    service.add_time_entry(item.pk, None, dt.date(2026, 10, 1), hours(1), comment="old", activity="testing")
    run(worklogs)
    assert [e[2] for e in entries_of(twin(item))] == ["tests"]


def test_a_copy_filed_by_a_worker_killed_before_the_pair_was_saved_is_adopted_not_filed_again(worklogs):
    item = new_item("alpha", "DEMO", "Login fails")
    run(worklogs)
    copy = twin(item)
    service.add_time_entry(item.pk, None, DAY, hours(1), comment="analysis")
    # The killed worker's create went through; its pair update (the time entry map) did not.
    service.add_time_entry(copy.pk, None, DAY, hours(1), comment="analysis")
    run(worklogs)
    assert LocalTimeEntry.objects.filter(item=copy).count() == 1
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    assert len(pair.time_entry_map) == 2


def test_worklogs_do_not_flow_in_a_work_item_synchronization(running):
    item = new_item("alpha", "DEMO", "Login fails")
    service.add_time_entry(item.pk, None, DAY, hours(1))
    run(running)
    assert not LocalTimeEntry.objects.filter(item=twin(item)).exists()
    assert items("beta", "WEB")
