import pytest
from django.db import IntegrityError, transaction

from activity.models import ArtifactActivity, ArtifactPair

pytestmark = pytest.mark.django_db

Status = ArtifactActivity.Status


def activity(**fields):
    defaults = {"integration_id": 1, "integration_name": "Bugs", "source_side": "A", "artifact_id": "42"}
    return ArtifactActivity.objects.create(**{**defaults, **fields})


def test_second_waiting_activity_for_the_same_artifact_is_refused():
    activity(status=Status.PENDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        activity(status=Status.FAILED)


def test_finished_activities_for_the_same_artifact_may_pile_up_beside_one_waiting():
    activity(status=Status.COMPLETED)
    activity(status=Status.COMPLETED)
    activity(status=Status.CANCELLED)
    activity(status=Status.PENDING)
    assert ArtifactActivity.objects.count() == 4


def test_other_side_or_integration_is_another_artifact():
    activity(status=Status.PENDING)
    activity(status=Status.PENDING, source_side="B")
    activity(status=Status.PENDING, integration_id=2)
    assert ArtifactActivity.objects.filter(waiting_key__isnull=False).count() == 3


def test_waiting_key_follows_status_on_save_and_in_bulk_updates():
    row = activity(status=Status.PENDING)
    row.status = Status.COMPLETED
    row.save(update_fields=["status"])
    row.refresh_from_db()
    assert row.waiting_key is None
    ArtifactActivity.objects.filter(pk=row.pk).update(
        status=Status.FAILED, waiting_key=ArtifactActivity.waiting_key_expression()
    )
    row.refresh_from_db()
    assert row.waiting_key == ArtifactActivity.make_waiting_key(1, "A", "42")


def test_an_artifact_has_one_pair_per_integration_on_each_side():
    ArtifactPair.objects.create(integration_id=1, a_artifact_id="1", b_artifact_id="9")
    with pytest.raises(IntegrityError), transaction.atomic():
        ArtifactPair.objects.create(integration_id=1, a_artifact_id="1", b_artifact_id="8")
    with pytest.raises(IntegrityError), transaction.atomic():
        ArtifactPair.objects.create(integration_id=1, a_artifact_id="2", b_artifact_id="9")
    ArtifactPair.objects.create(integration_id=2, a_artifact_id="1", b_artifact_id="9")
