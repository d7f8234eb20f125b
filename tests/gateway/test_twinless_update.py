"""Key identifier and twinless update: a model field holding the target's formatted id finds the
artifact to change instead of creating one; an id that is missing, malformed or matches nothing
fails the activity with 1408E (retried like any failure), and nothing is created."""

from __future__ import annotations

import pytest

from activity.models import ArtifactActivity
from connectors.local import service
from connectors.local.models import LocalItem, LocalProject
from tests.gateway.conftest import FIXTURES, fixture
from tests.gateway.test_endpoint import drain, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def twinless(gateway):
    gateway.integration.twinless_update, gateway.integration.key_identifier = True, "key"
    gateway.integration.save()
    tracker = service.tracker("beta")
    project = LocalProject.objects.get(tracker=tracker, key="WEB")
    gateway.item = service.create_item(
        project, "bug", {"summary": "Session expires", "priority": "low"}, reporter=service.hub_user(tracker)
    )
    return gateway


def test_the_key_identifier_finds_the_artifact_to_update(live_server, twinless):
    answer = post(live_server, twinless, {"key": twinless.item.formatted_id, "priority": "High"})
    assert answer.status_code == 202
    drain()
    item = LocalItem.objects.get(pk=twinless.item.pk)
    assert item.priority == "high" and item.summary == "Session expires"
    assert LocalItem.objects.count() == 1
    assert ArtifactActivity.objects.get().result == "updated"


def test_a_commit_naming_its_item_updates_it_through_an_extension(live_server, twinless, make_extension):
    twinless.collection.extension = make_extension(
        "Link commits", (FIXTURES / "link-commit.js").read_text(), type="payload_transformation"
    )
    twinless.collection.save()
    assert twinless.item.formatted_id == "WEB-1"
    post(live_server, twinless, fixture("github-push.json"), **{"X-GitHub-Event": "push"})
    drain()
    assert LocalItem.objects.get(pk=twinless.item.pk).priority == "high"
    assert LocalItem.objects.count() == 1


@pytest.mark.parametrize(
    "key, says",
    [(None, "has no formatted id"), ("WEB-999", "No artifact"), ("not an id", "")],
    ids=["missing", "no-match", "malformed"],
)
def test_a_key_that_finds_nothing_fails_with_1408E(live_server, twinless, key, says):
    payload = {"priority": "High"} if key is None else {"key": key, "priority": "High"}
    post(live_server, twinless, payload)
    drain()
    failed = ArtifactActivity.objects.get()
    assert failed.status == "failed" and failed.code == "CCRRTT-1408E" and says in failed.message
    assert failed.next_retry_at is not None
    assert LocalItem.objects.get().priority == "low" and LocalItem.objects.count() == 1
