"""Issue #19: one change detection of an integration at a time. An initial detection of a large
project pages for minutes while beat asks for another every interval; each worker used to run its
own copy of the same listing, and none was left to process what they found."""

from contextlib import contextmanager

import pytest

from activity.models import ArtifactActivity
from integrations.engine import claims, detection
from tests.engine.sync import new_item

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def detecting_in_another_worker(integration_id: int):
    """The detection lock held as another worker holds it: advisory locks belong to a database
    connection (PostgreSQL, MariaDB), so the other worker is another connection; elsewhere the lock
    is a row with another holder."""
    from django.db import connection, connections

    key = detection.detection_lock(integration_id)
    if connection.vendor not in ("postgresql", "mysql"):
        assert claims.lock_many([key], "another-worker") == {key}
        yield
        claims.unlock_many([key], "another-worker")
        return
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [claims._advisory_id(key)])
                assert cursor.fetchone()[0] is True
            else:
                cursor.execute("SELECT GET_LOCK(%s, 0)", [claims._lock_name(key)])
                assert cursor.fetchone()[0] == 1
        yield
    finally:
        other.close()  # the server drops a closed connection's advisory locks


def test_a_detection_asked_for_while_another_pages_is_not_started_twice(running):
    new_item("alpha", "DEMO", "Found once")
    with detecting_in_another_worker(running.pk):
        assert detection.detect(running.pk) == 0
        assert not ArtifactActivity.objects.exists()
    assert detection.detect(running.pk) == 1  # the lock let go: the next tick detects
    with detecting_in_another_worker(running.pk):  # and lets go of it when it is done
        pass


def test_a_full_scan_runs_even_while_a_detection_pages(running):
    new_item("alpha", "DEMO", "Scanned")
    with detecting_in_another_worker(running.pk):
        assert detection.detect(running.pk, full=True) == 1
