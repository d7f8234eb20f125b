"""The engine's Celery tasks: thin shells that say "look now"."""

import pytest

from integrations.engine import tasks
from tests.engine.sync import new_item

pytestmark = pytest.mark.django_db(transaction=True)


def test_processing_yields_the_worker_after_its_budget_and_leaves_a_wake_up(running, monkeypatch):
    from activity.models import ArtifactActivity
    from integrations.engine import detection

    for n in range(3):
        new_item("alpha", "DEMO", f"Item {n}")
    detection.detect(running.pk)
    wake_ups = []
    monkeypatch.setattr(tasks, "BATCH", 1)
    monkeypatch.setattr(tasks, "BUDGET", 0)
    monkeypatch.setattr(tasks.process, "delay", lambda: wake_ups.append(1))
    assert tasks.process() == 1  # one batch, then the budget is spent
    assert wake_ups == [1]
    assert ArtifactActivity.objects.filter(status="pending").count() == 2


def test_processing_runs_until_nothing_is_due_within_its_budget(running, monkeypatch):
    from activity.models import ArtifactActivity
    from integrations.engine import detection

    for n in range(3):
        new_item("alpha", "DEMO", f"Item {n}")
    detection.detect(running.pk)
    wake_ups = []
    monkeypatch.setattr(tasks, "BATCH", 1)
    monkeypatch.setattr(tasks.process, "delay", lambda: wake_ups.append(1))
    assert tasks.process() == 3
    assert wake_ups == [] and not ArtifactActivity.objects.filter(status="pending").exists()
