"""A repository that stops connecting while an integration runs (here: its "Act as user" was
removed from the tool) becomes failing and a blocker of the integrations that use it — not only a
line in a log — and the blocker clears at the next change detection once it connects again.

Change detection tests a connection once, then only after a failure a broken connection explains
(issue #20: not on every run; ``integrations/engine/connections.py``). These tests do not depend on
the database engine (tests/conftest.py, ``ONCE_IS_ENOUGH``)."""

import pytest

from activity.blockers import blocks_integration
from activity.models import Blocker
from connectors.local import service
from connectors.local.connector import LocalConnector
from connectors.local.models import LocalUser
from integrations.engine import detection, processing
from integrations.models import Repository
from tests.engine.sync import new_item


@pytest.fixture
def tests_made(monkeypatch):
    """The local trackers' connection tests, by tracker name."""
    made = []
    original = LocalConnector.test_connection

    def counted(self):
        made.append(self.tracker.name)
        return original(self)

    monkeypatch.setattr(LocalConnector, "test_connection", counted)
    return made


def test_detection_tests_a_connection_once_then_not_on_every_run(running, tests_made):
    for _ in range(3):
        detection.detect(running.pk)
    assert sorted(tests_made) == ["alpha", "beta"]


def test_a_repository_whose_acting_user_is_gone_blocks_its_running_integration_until_it_is_back(
    running, tests_made
):
    beta = running.collection_b.repository
    LocalUser.objects.create(tracker=service.tracker("beta"), username="sam")
    Repository.objects.filter(pk=beta.pk).update(username="sam")
    new_item("alpha", "DEMO", "Before sam left")
    detection.detect(running.pk)
    processing.process_batch(limit=100, worker="test")
    assert not blocks_integration(running.pk)

    LocalUser.objects.filter(username="sam").delete()
    detection.detect(running.pk)  # reading works without sam: nothing failed, nothing tested
    assert tests_made.count("beta") == 1
    new_item("alpha", "DEMO", "Its twin would be created by sam")
    detection.detect(running.pk)
    processing.process_batch(limit=100, worker="test")  # the create as sam fails: 61101E
    detection.detect(running.pk)  # which makes this detection test beta's connection
    beta.refresh_from_db()
    assert beta.state == "failing" and beta.last_test_code == "CCRRTT-61101E"
    blocker = Blocker.objects.get(key__startswith=f"repository:{beta.pk}:CCRRTT-61101E")
    assert running.pk in blocker.integration_ids and "sam" in blocker.message
    assert blocks_integration(running.pk)

    LocalUser.objects.create(tracker=service.tracker("beta"), username="sam")
    detection.detect(running.pk)  # a failing repository is tested at every detection
    beta.refresh_from_db()
    assert beta.state == "connected"
    assert not blocks_integration(running.pk)
    tested = tests_made.count("beta")
    detection.detect(running.pk)
    assert tests_made.count("beta") == tested  # connected again: not tested at the next one
