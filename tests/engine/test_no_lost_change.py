"""Invariant 1 in-process, at the two moments a change can slip between Hub's reads: while change
detection is paging (before the watermark moves), and while the artifact's own activity is being
processed (after the fresh read, before the commit). The restart cases are in test_workers.py and
test_crash.py (real worker processes)."""

from datetime import timedelta

import pytest

from connectors.local.connector import LocalConnector
from integrations.engine import detection
from tests.engine.sync import change, items, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_change_made_while_detection_pages_is_detected_next_time(running, monkeypatch):
    first, second = new_item("alpha", "DEMO", "First"), new_item("alpha", "DEMO", "Second")
    run(running)
    # Without the overlap window, so that only the watermark rule (the tool's clock as read before
    # the first page) keeps the change below from being skipped.
    monkeypatch.setattr(detection, "OVERLAP", timedelta(0))
    real = LocalConnector.changed_since
    changed = []

    def change_after_reading(self, *args, **kwargs):
        page = real(self, *args, **kwargs)
        if self.tracker.name == "alpha" and not changed:
            change(second, summary="Changed while Hub was paging")  # not on the page just read
            changed.append(True)
        return page

    monkeypatch.setattr(LocalConnector, "changed_since", change_after_reading)
    change(first, summary="First, changed")
    run(running)
    assert changed
    assert [twin.summary for twin in items("beta", "WEB")] == [
        "First, changed",
        "Changed while Hub was paging",
    ]


def test_a_change_made_while_its_activity_is_processed_arrives(running, monkeypatch):
    item = new_item("alpha", "DEMO", "Being synchronized")

    def then_someone_edits_the_source(create):
        def create_then_edit(self, *args, **kwargs):
            created = create(self, *args, **kwargs)
            change(item, summary="Edited while Hub wrote the twin")  # after Hub's fresh read
            return created

        return create_then_edit

    for name in ("create_artifact", "create_artifacts"):  # one by one, or a batch's twins together
        monkeypatch.setattr(
            LocalConnector, name, then_someone_edits_the_source(getattr(LocalConnector, name))
        )
    run(running)
    [twin] = items("beta", "WEB")
    assert twin.summary == "Edited while Hub wrote the twin"
