"""Both twins' activities claimed in one batch (issue #20, seen in the bounded acceptance run: a
title brought from B to A, then A's stale title written back to B 18 s later): the batch reads its
sources at its start, so once the first activity has written the twin, the second must read its
source again instead of taking Hub's own write for a change to undo. Within one batch, so not a
matter of the database engine (tests/conftest.py, ``ONCE_IS_ENOUGH``)."""

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local import service
from connectors.local.models import LocalItem
from integrations.engine import detection, processing
from tests.engine.sync import change, new_item, run


def test_the_second_twin_of_a_batch_is_read_again_after_the_first_wrote_it(running):
    item = new_item("alpha", "DEMO", "As created")
    run(running)
    twin = LocalItem.objects.get(pk=int(ArtifactPair.objects.get(a_artifact_id=str(item.pk)).b_artifact_id))

    change(twin, summary="Edited on beta")  # a field change on B
    service.add_comment(item.pk, None, "a comment on alpha")  # A changes, no field flows from it
    detection.detect(running.pk)
    assert ArtifactActivity.objects.filter(status="pending").count() == 2
    # B's activity first, as a claim may order them: it writes A, then A's activity comes next
    ArtifactActivity.objects.filter(status="pending", source_side="B").update(priority=1)
    assert processing.process_batch(limit=100, worker="test") == 2  # one batch, both twins

    item.refresh_from_db()
    twin.refresh_from_db()
    assert (item.summary, twin.summary) == ("Edited on beta", "Edited on beta")
    assert any("a comment on alpha" in comment.body for comment in twin.comments.all())
