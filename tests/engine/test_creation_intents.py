"""Causes 2 and 3 of issue #20: a creation intent whose activity is not running any more blocks
nothing, an artifact that carries Hub's creation marker is never copied back as an original, and a
batch re-reads the pairs right before it creates (two local trackers, both keeping markers)."""

import datetime as dt

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local import service
from connectors.local.models import LocalProject
from integrations.engine import detection, processing
from integrations.models import CreationIntent
from tests.engine.sync import items, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running(running):
    """Creations flow both ways: only then can a twin Hub made in beta be copied back to alpha."""
    running.creation_flow = "both"
    running.save()
    return running


def orphaned_intent(integration, source, target_project: str, age=dt.timedelta(seconds=1)) -> CreationIntent:
    """An intent whose activity failed (or was cancelled, or its worker died) after writing it."""
    intent = CreationIntent.objects.create(
        integration=integration,
        source_side="A",
        source_artifact_id=str(source.pk),
        target_project=target_project,
        target_type="bug",
        marker=f"hub-orphan-{source.pk}",
    )
    CreationIntent.objects.filter(pk=intent.pk).update(created=timezone.now() - age)
    ArtifactActivity.objects.create(
        integration_id=integration.pk,
        source_side="A",
        artifact_id=str(source.pk),
        status="failed",
        code="CCRRTT-17003E",
        retry_count=1,
        next_retry_at=timezone.now() + dt.timedelta(hours=1),
    )
    return intent


def hubs_twin(intent: CreationIntent, summary: str):
    """The twin an earlier attempt created in beta before it died: it carries the intent's marker."""
    tracker = service.tracker("beta")
    return service.create_item(
        LocalProject.objects.get(tracker=tracker, key="WEB"),
        "bug",
        {"summary": summary},
        reporter=service.hub_user(tracker),
        marker=intent.marker,
    )


def test_an_intent_whose_activity_failed_does_not_hold_up_creations_the_other_way(running):
    source = new_item("alpha", "DEMO", "Failed after its intent")
    orphaned_intent(running, source, "WEB")
    original = new_item("beta", "WEB", "Made by a person in beta")

    run(running, rounds=2)

    row = ArtifactActivity.objects.get(source_side="B", artifact_id=str(original.pk))
    assert (row.status, row.result) == ("completed", "created")
    assert [i.summary for i in items("alpha", "DEMO") if i.pk != source.pk] == ["Made by a person in beta"]


def test_hubs_unpaired_twin_is_never_copied_back_while_its_intent_is_open_however_old(running):
    source = new_item("alpha", "DEMO", "Its twin was made, then the worker died")
    intent = orphaned_intent(running, source, "WEB", age=dt.timedelta(hours=1))
    twin = hubs_twin(intent, source.summary)

    detection.detect(running.pk)
    processing.process_batch(limit=100, worker="test")

    row = ArtifactActivity.objects.get(source_side="B", artifact_id=str(twin.pk))
    assert (row.status, row.code) == ("failed", "CCRRTT-50013W")
    assert intent.marker in row.message
    assert [i.pk for i in items("alpha", "DEMO")] == [source.pk]  # no twin of the twin


def test_hubs_twin_whose_intent_is_gone_is_reported_with_17016E_not_copied_back(running):
    source = new_item("alpha", "DEMO", "Lost track of")
    intent = orphaned_intent(running, source, "WEB")
    twin = hubs_twin(intent, source.summary)
    intent.delete()

    detection.detect(running.pk)
    processing.process_batch(limit=100, worker="test")

    row = ArtifactActivity.objects.get(source_side="B", artifact_id=str(twin.pk))
    assert (row.status, row.code) == ("failed", "CCRRTT-17016E")
    assert intent.marker in row.message and "does not copy it back" in row.message
    assert [i.pk for i in items("alpha", "DEMO")] == [source.pk]


def test_the_retry_of_the_failed_creation_pairs_the_twin_it_made_and_the_twin_then_follows(running):
    source = new_item("alpha", "DEMO", "Created before the failure")
    intent = orphaned_intent(running, source, "WEB")
    twin = hubs_twin(intent, source.summary)
    ArtifactActivity.objects.filter(source_side="A").update(next_retry_at=timezone.now())

    run(running)
    # The twin, detected while the retry associated it, waited for its pair (CCRRTT-50013W) and is
    # then found paired and unchanged: nothing written, no row left.
    ArtifactActivity.objects.filter(status="failed").update(next_retry_at=timezone.now())
    run(running)

    pair = ArtifactPair.objects.get()
    assert (pair.a_artifact_id, pair.b_artifact_id) == (str(source.pk), str(twin.pk))
    assert len(items("alpha", "DEMO")) == 1 and len(items("beta", "WEB")) == 1
    assert not CreationIntent.objects.exists()
    assert not ArtifactActivity.objects.filter(status__in=["pending", "processing", "failed"]).exists()


def test_a_pair_recorded_after_the_batch_read_the_pairs_makes_an_update_not_a_duplicate(running, monkeypatch):
    """Another worker's create commits between this batch's pair read and its create: the twin
    (without a marker here: a tool that keeps none reads it as an original) is seen as paired."""
    source = new_item("alpha", "DEMO", "Created by another worker")
    twin = new_item("beta", "WEB", "Created by another worker")
    detection.detect(running.pk)
    ArtifactActivity.objects.filter(source_side="A").delete()  # the other worker has that one
    read_pairs = processing.Batch.pairs_of

    def then_the_other_worker_commits(self, activities):
        found = read_pairs(self, activities)
        ArtifactPair.objects.create(
            integration_id=running.pk,
            a_artifact_id=str(source.pk),
            b_artifact_id=str(twin.pk),
            a_snapshot={"title": source.summary},
            b_snapshot={"title": twin.summary},
        )
        return found

    monkeypatch.setattr(processing.Batch, "pairs_of", then_the_other_worker_commits)
    processing.process_batch(limit=100, worker="test")

    assert [i.pk for i in items("alpha", "DEMO")] == [source.pk]
    assert ArtifactPair.objects.count() == 1
    # Found paired with nothing to write (no row kept), instead of CCRRTT-0001E on pair_unique.
    assert not ArtifactActivity.objects.filter(status="failed").exists()


def created_then_died(running, monkeypatch, summary: str):
    """The twin is created in beta, then the worker dies before the pair is recorded."""
    from tests.engine.test_no_duplicate import WorkerDied, die_after_the_remote_create, restore

    real = die_after_the_remote_create(monkeypatch)
    source = new_item("alpha", "DEMO", summary)
    with pytest.raises(WorkerDied):
        run(running)
    restore(monkeypatch, real)
    [twin] = items("beta", "WEB")
    return source, twin


def test_a_change_made_on_the_twin_while_the_worker_was_dead_is_brought_back_not_overwritten(
    running, monkeypatch
):
    """Issue #20, cause 5: re-pairing after an interrupted create compares with the values the
    twin was created from, instead of writing every field that differs from the source."""
    from tests.engine.sync import change, the_worker_died

    source, twin = created_then_died(running, monkeypatch, "As created")
    change(twin, summary="Changed by a person on the twin")
    the_worker_died()

    run(running)

    assert [i.summary for i in items("beta", "WEB")] == ["Changed by a person on the twin"]
    assert [i.summary for i in items("alpha", "DEMO")] == ["Changed by a person on the twin"]
    assert ArtifactPair.objects.get().b_artifact_id == str(twin.pk)


def test_a_field_changed_on_both_while_the_worker_was_dead_is_a_conflict_for_the_strategy(
    running, monkeypatch
):
    from tests.engine.sync import change, the_worker_died

    running.conflict_strategy = "error"
    running.save()
    source, twin = created_then_died(running, monkeypatch, "As created")
    change(twin, summary="from beta")
    change(source, summary="from alpha")
    the_worker_died()

    run(running)

    failed = ArtifactActivity.objects.get(source_side="A", status="failed")
    assert failed.code == "CCRRTT-50002E" and "from alpha" in failed.message and "from beta" in failed.message
    assert [i.summary for i in items("beta", "WEB")] == ["from beta"]  # nothing overwritten
