"""The engine's Celery tasks: thin shells that say "look now"."""

import pytest

from activity.models import ArtifactActivity
from integrations.engine import detection, tasks
from tests.engine.sync import new_item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three_detected(running, monkeypatch):
    """Three detected items, batches of one, and the wake-ups the task sends (recorded, not sent)."""
    for n in range(3):
        new_item("alpha", "DEMO", f"Item {n}")
    detection.detect(running.pk)
    monkeypatch.setattr(tasks, "BATCH", 1)
    monkeypatch.setattr(tasks, "_pace", {})
    wake_ups = []
    monkeypatch.setattr(tasks.process, "delay", lambda: wake_ups.append(1))
    return wake_ups


def test_processing_yields_the_worker_after_its_budget_and_leaves_a_wake_up(three_detected, monkeypatch):
    monkeypatch.setattr(tasks, "BUDGET", 0)
    assert tasks.process() == 1  # one batch, then the budget is spent
    assert three_detected == [1]
    assert ArtifactActivity.objects.filter(status="pending").count() == 2


def test_processing_runs_until_nothing_is_due_within_its_budget(three_detected, monkeypatch):
    monkeypatch.setattr(tasks, "BUDGET", 600)  # three batches fit, however loaded the machine
    assert tasks.process() == 3
    assert three_detected == [] and not ArtifactActivity.objects.filter(status="pending").exists()


def test_a_round_of_the_process_task_checks_the_gates_and_releases_stale_claims_once(
    three_detected, monkeypatch
):
    """Issue #19: the batch and the gateway work of one round shared nothing, so each checked the
    instance-wide gates (lease, master password, license, blockers) and released dead workers'
    claims: a dozen queries twice for every batch of 100."""
    from hub import gates
    from integrations.engine import claims

    calls = {"gates": 0, "release": 0}
    check, release = gates.integration_work_allowed, claims.release_stale

    def counted_check():
        calls["gates"] += 1
        return check()

    def counted_release(*args, **kwargs):
        calls["release"] += 1
        return release(*args, **kwargs)

    monkeypatch.setattr(gates, "integration_work_allowed", counted_check)
    monkeypatch.setattr(claims, "release_stale", counted_release)
    monkeypatch.setattr(tasks, "BUDGET", 0)
    assert tasks.process() == 1
    assert calls == {"gates": 1, "release": 1}


def test_the_process_task_does_nothing_while_a_gate_is_closed(three_detected, monkeypatch):
    from hub import gates

    monkeypatch.setattr(gates, "integration_work_allowed", lambda: (False, "CCRRTT-16001E: locked"))
    assert tasks.process() == 0
    assert ArtifactActivity.objects.filter(status="pending").count() == 3


def test_a_slow_batch_makes_the_next_claim_smaller(monkeypatch):
    """Issue #20: at about a second per activity (Redmine) a process claims what fits into its
    budget, so that the other processes find work too instead of one holding 100 rows."""
    from hub import gates
    from integrations.engine import processing
    from integrations.gateway import work

    clock, asked = [0.0], []

    def batch(limit, **_):
        asked.append(limit)
        clock[0] += limit * 1.0  # one second per activity
        return limit if len(asked) < 3 else 0

    monkeypatch.setattr(tasks, "_pace", {})
    monkeypatch.setattr(tasks.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(processing, "process_batch", batch)
    monkeypatch.setattr(work, "process_due", lambda limit, **_: 0)
    monkeypatch.setattr(gates, "integration_work_allowed", lambda: (True, ""))
    monkeypatch.setattr(tasks.process, "delay", lambda: None)
    tasks.process()
    assert asked[0] == tasks.BATCH  # nothing known yet
    tasks.process()
    assert asked[1] == 5  # one per second, five seconds of budget
    assert tasks.batch_size() == 5


def test_a_fast_batch_makes_the_next_claim_larger_up_to_the_cap(monkeypatch):
    """Issue #19: against a fast tool (the local tracker, about a millisecond per activity) a process
    claims MAX_BATCH once its pace is known, so what each batch costs whatever its size (claim,
    context, gates) is shared by more activities; the first claim, pace unknown, stays BATCH."""
    monkeypatch.setattr(tasks, "_pace", {})
    assert tasks.batch_size() == tasks.BATCH == 100
    monkeypatch.setattr(tasks, "_pace", {"per_s": 60.0})
    assert tasks.batch_size() == 300  # five seconds of budget at that pace
    monkeypatch.setattr(tasks, "_pace", {"per_s": 1000.0})
    assert tasks.batch_size() == tasks.MAX_BATCH == 500


def test_run_asks_for_the_first_detection_at_once_instead_of_at_the_first_tick(
    integration, licensed, monkeypatch
):
    from integrations import services

    asked = []
    monkeypatch.setattr(tasks.detect, "delay", asked.append)
    services.start(integration)
    assert asked == [integration.pk]


def test_run_still_starts_the_integration_when_the_broker_cannot_be_reached(
    integration, licensed, monkeypatch
):
    from kombu.exceptions import OperationalError

    from integrations import services

    def unreachable(_integration_id):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.detect, "delay", unreachable)
    assert services.start(integration).state == "running"


def test_a_batch_runs_without_cyclic_collections_and_the_collector_is_back_after_it(
    three_detected, monkeypatch
):
    import gc

    from integrations.engine import processing

    seen = []
    real = processing.process_batch

    def batch(**kwargs):
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr(processing, "process_batch", batch)
    monkeypatch.setattr(tasks, "BUDGET", 600)
    assert gc.isenabled()
    assert tasks.process() == 3
    assert seen and not any(seen)  # paused inside every batch
    assert gc.isenabled()  # and on again after the task


def test_the_collector_is_back_after_a_batch_that_raises_and_stays_off_if_it_was():
    import gc

    with pytest.raises(RuntimeError), tasks.collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a batch failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with tasks.collector_paused():
            pass
        assert not gc.isenabled()  # a caller's own pause is left alone
    finally:
        gc.enable()
