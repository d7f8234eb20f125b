"""Cause 4 of issue #20: the retry schedule is capped at any retry count, and one activity's failure
fails that activity alone — never the batch it was claimed with."""

import datetime as dt

import pytest

from activity.models import ArtifactActivity
from integrations.engine import detection, processing, retry
from tests.engine.sync import items, new_item


@pytest.mark.parametrize("count", [1, 7, 8, 45, 1_000, 10**9])
def test_the_delay_never_passes_the_cap_and_never_overflows(count):
    assert dt.timedelta(0) < retry.delay(count) <= retry.CAP


def test_the_delay_grows_from_thirty_seconds_and_a_server_wait_can_only_lengthen_it():
    assert retry.delay(1) == dt.timedelta(seconds=30)
    assert retry.delay(2) == dt.timedelta(seconds=60)
    assert retry.delay(45) == retry.CAP
    assert retry.delay(45, server_wait=7200) == dt.timedelta(hours=2)


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_many_retries_fails_only_its_own_activity(running):
    # Only high-priority items have a route: the other one fails with CCRRTT-17008E, an ordinary
    # failure, after 45 earlier ones (5 s CCRRTT-50013W retries reach that in minutes).
    running.routes.update(condition={"field": "priority", "operator": "equals", "value": "high"})
    routed = new_item("alpha", "DEMO", "Has a route", priority="high")
    stuck = new_item("alpha", "DEMO", "Has none", priority="low")
    detection.detect(running.pk)
    ArtifactActivity.objects.filter(artifact_id=str(stuck.pk)).update(retry_count=45)

    assert processing.process_batch(limit=100, worker="test") == 2

    failed = ArtifactActivity.objects.get(artifact_id=str(stuck.pk))
    assert (failed.status, failed.code, failed.retry_count) == ("failed", "CCRRTT-17008E", 46)
    assert failed.next_retry_at <= failed.last_error_at + retry.CAP
    done = ArtifactActivity.objects.get(artifact_id=str(routed.pk))
    assert (done.status, done.result) == ("completed", "created")
    assert [i.summary for i in items("beta", "WEB")] == ["Has a route"]
    assert not ArtifactActivity.objects.filter(status="processing").exists()


@pytest.mark.django_db(transaction=True)
def test_whatever_escapes_a_batch_fails_its_activities_visibly_instead_of_leaving_them_claimed(
    running, monkeypatch
):
    new_item("alpha", "DEMO", "One")
    new_item("alpha", "DEMO", "Two")
    detection.detect(running.pk)

    def broken(self):
        raise RuntimeError("a bug between the batch's steps")

    monkeypatch.setattr(processing.Creations, "run", broken)
    processing.process_batch(limit=100, worker="test")

    rows = ArtifactActivity.objects.all()
    assert {(a.status, a.code) for a in rows} == {("failed", "CCRRTT-0001E")}
    assert all("a bug between the batch's steps" in a.message and a.next_retry_at for a in rows)
