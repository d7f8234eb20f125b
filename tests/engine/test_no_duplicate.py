"""Invariant 2 in-process, for the two guards besides the marker lookup (test_sync.py and the real
worker kill in test_crash.py): a twin Hub created but has not paired yet, seen by detection on the
other side, gets no twin of its own (CCRRTT-50013W, wait); and where the target keeps no marker,
Hub stops with CCRRTT-17016E instead of risking a second twin."""

import dataclasses

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local.connector import LocalConnector
from integrations.engine import detection, processing
from integrations.models import CreationIntent
from tests.engine.sync import items, new_item, run, the_worker_died

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerDied(BaseException):
    """Stands for the worker process dying: nothing after it runs, not even the failure handling."""


CREATES = ("create_artifact", "create_artifacts")  # one by one, or a batch's twins together


def die_after_the_remote_create(monkeypatch) -> dict:
    real = {name: getattr(LocalConnector, name) for name in CREATES}

    def then_die(create):
        def create_then_die(self, *args, **kwargs):
            create(self, *args, **kwargs)
            raise WorkerDied

        return create_then_die

    for name in CREATES:
        monkeypatch.setattr(LocalConnector, name, then_die(real[name]))
    return real


def restore(monkeypatch, real: dict) -> None:
    for name, create in real.items():
        monkeypatch.setattr(LocalConnector, name, create)


def test_an_unpaired_twin_seen_from_the_other_side_waits_instead_of_getting_a_twin(running, monkeypatch):
    running.creation_flow = "both"
    running.save()
    real = die_after_the_remote_create(monkeypatch)
    item = new_item("alpha", "DEMO", "Made in alpha")
    with pytest.raises(WorkerDied):
        run(running)
    restore(monkeypatch, real)
    [twin] = items("beta", "WEB")
    assert CreationIntent.objects.exists() and not ArtifactPair.objects.exists()

    detection.detect(running.pk)  # beta's new item, which is Hub's unpaired twin
    ArtifactActivity.objects.filter(source_side="B").update(priority=1)  # goes before alpha's retry
    processing.process_batch(limit=1, worker="another")
    waiting = ArtifactActivity.objects.get(source_side="B", artifact_id=str(twin.pk))
    assert (waiting.status, waiting.code) == ("failed", "CCRRTT-50013W")
    assert len(items("alpha", "DEMO")) == 1  # no twin of the twin

    the_worker_died()
    ArtifactActivity.objects.filter(pk=waiting.pk).update(next_retry_at="2000-01-01T00:00:00Z")
    run(running)
    assert len(items("alpha", "DEMO")) == len(items("beta", "WEB")) == 1
    assert ArtifactPair.objects.get().a_artifact_id == str(item.pk)


def test_without_a_creation_marker_a_possible_earlier_create_stops_with_17016E(running, monkeypatch):
    no_marker = dataclasses.replace(LocalConnector.capabilities, creation_marker=False)
    monkeypatch.setattr(LocalConnector, "capabilities", no_marker)
    real = die_after_the_remote_create(monkeypatch)
    new_item("alpha", "DEMO", "Maybe created")
    with pytest.raises(WorkerDied):
        run(running)
    restore(monkeypatch, real)

    the_worker_died()
    run(running)
    assert len(items("beta", "WEB")) == 1  # not a second one
    failed = ArtifactActivity.objects.get(status="failed")
    assert failed.code == "CCRRTT-17016E" and "Beta defects" in failed.message
