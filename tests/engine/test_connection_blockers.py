"""A repository that stops connecting while an integration runs (here: its "Act as user" was
removed from the tool) becomes failing and a blocker of the integrations that use it — not only a
line in a log — and the blocker clears at the next change detection once it connects again."""

from activity.blockers import blocks_integration
from activity.models import Blocker
from connectors.local import service
from connectors.local.models import LocalUser
from integrations.engine import detection
from integrations.models import Repository


def test_a_repository_whose_acting_user_is_gone_blocks_its_running_integration_until_it_is_back(running):
    beta = running.collection_b.repository
    LocalUser.objects.create(tracker=service.tracker("beta"), username="sam")
    Repository.objects.filter(pk=beta.pk).update(username="sam")
    detection.detect(running.pk)
    assert not blocks_integration(running.pk)

    LocalUser.objects.filter(username="sam").delete()
    detection.detect(running.pk)
    beta.refresh_from_db()
    assert beta.state == "failing" and beta.last_test_code == "CCRRTT-61101E"
    blocker = Blocker.objects.get(key__startswith=f"repository:{beta.pk}:CCRRTT-61101E")
    assert running.pk in blocker.integration_ids and "sam" in blocker.message
    assert blocks_integration(running.pk)

    LocalUser.objects.create(tracker=service.tracker("beta"), username="sam")
    detection.detect(running.pk)
    beta.refresh_from_db()
    assert beta.state == "connected"
    assert not blocks_integration(running.pk)
