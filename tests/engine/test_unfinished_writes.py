"""A write Hub began and whose pair it never recorded (worker killed after the write, or the activity
failed after it): the next processing of the pair must not take the old snapshot for the written
side's state (issue #20, the bounded acceptance run's "A#10 and B#17 both hold priority 1, the last
write was 2": B's change reached A, the worker died before the pair's commit, a user put A back to
the old value, and the retry of B's activity then took A for unchanged and wrote B's value over it —
the last write lost on both sides). Two local trackers: the integration of the ``running`` fixture,
title both ways, A wins."""

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local.connector import LocalConnector
from connectors.local.models import LocalItem
from tests.engine.sync import change, new_item, run, the_worker_died

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerDied(BaseException):
    pass


def paired(running) -> tuple[LocalItem, LocalItem]:
    item = new_item("alpha", "DEMO", "Original")
    run(running)
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    return item, LocalItem.objects.get(pk=int(pair.b_artifact_id))


def die_at_the_write(monkeypatch, *, after: bool) -> None:
    """The next write to the local tracker kills the worker, after it landed or before."""
    update_artifact = LocalConnector.update_artifact

    def write_then_die(self, artifact_id, fields, **kwargs):
        monkeypatch.setattr(LocalConnector, "update_artifact", update_artifact)
        if after:
            update_artifact(self, artifact_id, fields, **kwargs)
        raise WorkerDied

    monkeypatch.setattr(LocalConnector, "update_artifact", write_then_die)


def beta_change_dies_at_its_write_to_alpha(running, monkeypatch, *, after: bool):
    item, twin = paired(running)
    change(twin, summary="from beta")
    die_at_the_write(monkeypatch, after=after)
    with pytest.raises(WorkerDied):
        run(running)
    item.refresh_from_db()
    assert item.summary == ("from beta" if after else "Original")
    return item, twin


def summaries(*items: LocalItem) -> tuple[str, ...]:
    for item in items:
        item.refresh_from_db()
    return tuple(item.summary for item in items)


def test_a_change_back_to_the_old_value_after_an_unrecorded_write_is_not_overwritten(running, monkeypatch):
    item, twin = beta_change_dies_at_its_write_to_alpha(running, monkeypatch, after=True)
    change(item, summary="Original")  # the last write: alpha's user puts the old title back
    the_worker_died()
    run(running)
    # Both changed since the last recorded synchronization: a conflict, decided by A wins, recorded.
    assert summaries(item, twin) == ("Original", "Original")
    decided = ArtifactActivity.objects.exclude(conflict="").get()
    assert decided.conflict == "A" and {c["field"] for c in decided.conflicts} == {"title"}
    assert not ArtifactActivity.objects.filter(status__in=("processing", "failed", "pending")).exists()
    pair = ArtifactPair.objects.get()
    assert "__writing__" not in pair.a_snapshot and "__writing__" not in pair.b_snapshot


def test_an_unrecorded_write_that_landed_is_taken_as_synchronized(running, monkeypatch):
    item, twin = beta_change_dies_at_its_write_to_alpha(running, monkeypatch, after=True)
    revision = item.revision
    the_worker_died()
    run(running)
    assert summaries(item, twin) == ("from beta", "from beta")
    assert item.revision == revision  # not written again
    assert not ArtifactActivity.objects.exclude(conflict="").exists()
    change(item, summary="later in alpha")  # and alpha's next change flows as alpha's alone
    run(running)
    assert summaries(item, twin) == ("later in alpha", "later in alpha")
    assert not ArtifactActivity.objects.exclude(conflict="").exists()


def test_a_write_that_never_landed_is_made_by_the_retry(running, monkeypatch):
    item, twin = beta_change_dies_at_its_write_to_alpha(running, monkeypatch, after=False)
    the_worker_died()
    run(running)
    assert summaries(item, twin) == ("from beta", "from beta")
    assert not ArtifactActivity.objects.exclude(conflict="").exists()
