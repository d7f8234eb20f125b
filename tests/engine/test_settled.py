"""Change detection's settled stamps (``integrations/engine/settled.py``): a listing that gives only
a "last changed" time skips an artifact Hub read and found unchanged long enough after that time,
and nothing else. No SQL of its own beyond one conditional UPDATE (tests/conftest.py,
``ONCE_IS_ENOUGH``)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from activity.models import ArtifactPair
from connectors.types import ChangedItem
from integrations.engine import detection, settled

pytestmark = pytest.mark.django_db

CHANGED = dt.datetime(2026, 12, 2, 8, 17, 33, tzinfo=dt.UTC)


@pytest.fixture
def pair(integration):
    return ArtifactPair.objects.create(integration_id=integration.pk, a_artifact_id="7", b_artifact_id="42")


def artifact(updated):
    return SimpleNamespace(id="42", updated=updated)


def test_a_read_long_enough_after_the_change_settles_the_stamp(pair):
    read = CHANGED + settled.settle_after()
    assert settled.record(pair.integration_id, "B", [artifact(CHANGED)], read) == 1
    pair.refresh_from_db()
    assert pair.b_settled == settled.stamp(CHANGED) and pair.a_settled == ""
    assert settled.record(pair.integration_id, "B", [artifact(CHANGED)], read) == 0  # already so


def test_a_read_within_the_margin_of_the_change_settles_nothing(pair):
    # a change in that same second (or committed within the overlap) could still follow the read
    read = CHANGED + settled.settle_after() - dt.timedelta(milliseconds=1)
    assert settled.record(pair.integration_id, "B", [artifact(CHANGED)], read) == 0
    assert settled.record(pair.integration_id, "B", [artifact(None)], timezone.now()) == 0


def test_the_margin_covers_the_detection_overlap_and_the_clock_tolerance():
    assert settled.settle_after() == detection.OVERLAP + settled.CLOCK_TOLERANCE


def test_a_listing_at_the_settled_stamp_is_skipped_any_other_time_is_not():
    seen = ("2026-12-02T08:17:33Z/5", settled.stamp(CHANGED))
    at_stamp = ChangedItem("42", CHANGED, "2026-12-02T08:17:33Z")
    later = ChangedItem("42", CHANGED + dt.timedelta(seconds=1), "2026-12-02T08:17:34Z")
    assert detection.already_seen(at_stamp, seen)
    assert not detection.already_seen(later, seen)
    assert not detection.already_seen(at_stamp, ("2026-12-02T08:17:33Z/5", ""))  # never settled
    assert not detection.already_seen(at_stamp, None)  # not paired
    # a full scan reads it anyway: it is what finds a change that moved no time (a relation)
    assert not detection.already_seen(at_stamp, seen, full=True)
    # a listing that gives the whole revision is compared by it, as before
    assert detection.already_seen(ChangedItem("42", CHANGED, "r5"), ("r5", ""))
