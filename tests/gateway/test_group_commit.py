"""The endpoint's group commit (``intake.store``): payloads of one process that arrive while another
thread's commit is under way are stored together, in one transaction, and each is answered only
once that commit holds it; a payload the database refuses fails alone. And the door's single
re-read: at a door's expiry one thread reads it again while the others go on with what it knew."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError

from integrations.gateway import intake
from integrations.models import GatewayPayload

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)  # polling with a deadline


def store_in_threads(payloads: list[GatewayPayload]) -> tuple[dict, dict]:
    """Each payload stored by a thread of its own while this thread holds the commit turn, so that
    they all wait for it; then the turn is let go. (results by index, failures by index)."""
    from django.db import connection

    results, failures = {}, {}

    def store(index: int, payload: GatewayPayload) -> None:
        try:
            results[index] = intake.store(payload).pk
        except Exception as error:  # noqa: BLE001 - the test looks at it
            failures[index] = error
        finally:
            connection.close()

    with intake._turn:
        threads = [threading.Thread(target=store, args=pair) for pair in enumerate(payloads)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(intake._waiting) == len(payloads))
    for thread in threads:
        thread.join(30)
    return results, failures


@pytest.fixture
def groups(monkeypatch):
    monkeypatch.setattr(intake, "GROUP_COMMIT", True)  # the default; a test of another file may turn it off
    sizes = []
    insert = intake._insert

    def recorded(group):
        sizes.append(len(group))
        return insert(group)

    monkeypatch.setattr(intake, "_insert", recorded)
    return sizes


def payload(gateway, title: str, **kwargs) -> GatewayPayload:
    return GatewayPayload(collection=gateway.collection, body=f'{{"title": "{title}"}}', **kwargs)


def test_payloads_waiting_for_a_commit_are_stored_in_one_transaction(gateway, groups):
    results, failures = store_in_threads([payload(gateway, f"Build {n}") for n in range(6)])
    assert failures == {} and len(set(results.values())) == 6
    assert groups == [6]
    stored = GatewayPayload.objects.filter(pk__in=results.values())
    assert sorted(stored.values_list("body", flat=True)) == sorted(
        f'{{"title": "Build {n}"}}' for n in range(6)
    )
    assert intake._waiting == [] and intake._done == {}


def test_a_payload_the_database_refuses_fails_alone(gateway, groups):
    payloads = [payload(gateway, f"Build {n}") for n in range(3)]
    payloads.insert(1, GatewayPayload(collection=gateway.collection, body=None))  # NOT NULL
    results, failures = store_in_threads(payloads)
    assert set(failures) == {1} and set(results) == {0, 2, 3}
    assert GatewayPayload.objects.filter(pk__in=results.values()).count() == 3
    assert GatewayPayload.objects.count() == 3
    assert groups == [4]  # the group failed whole; then each payload was stored on its own


def test_a_group_whose_commit_fails_is_stored_again_payload_by_payload_and_each_id_answered_is_stored(
    gateway, groups, monkeypatch
):
    """The database refuses the group only at its COMMIT (a foreign key checked at commit, as on
    PostgreSQL and SQLite; MariaDB checks it at the INSERT): by then the multi-row INSERT gave every
    payload an id, which the rollback took back. Each payload is then stored on its own; no thread
    answers with an id of the rolled-back group that is not stored."""
    from django.db import connection
    from django.db.backends.base.base import BaseDatabaseWrapper

    refused_commits = []
    commit = BaseDatabaseWrapper.commit

    def recorded_commit(self):
        try:
            commit(self)
        except Exception as error:
            refused_commits.append(error)
            raise

    monkeypatch.setattr(BaseDatabaseWrapper, "commit", recorded_commit)
    payloads = [payload(gateway, f"Build {n}") for n in range(3)]
    payloads.insert(2, GatewayPayload(collection_id=gateway.collection.pk + 1000, body="{}"))
    results, failures = store_in_threads(payloads)
    assert set(failures) == {2} and set(results) == {0, 1, 3}
    assert groups == [4]  # the group failed whole; then each payload was stored on its own
    assert len(set(results.values())) == 3
    stored = GatewayPayload.objects.filter(pk__in=results.values())
    assert sorted(stored.values_list("pk", "body")) == sorted(
        (results[index], payloads[index].body) for index in results
    )
    assert GatewayPayload.objects.count() == 3
    assert isinstance(failures[2], IntegrityError)
    if connection.vendor != "mysql":
        assert [type(error) for error in refused_commits] == [IntegrityError]  # the group's COMMIT


def test_a_connection_shared_between_threads_stores_each_payload_alone(gateway, groups):
    """The test server's threads on the in-memory SQLite database share the test's connection, and
    with it one transaction: grouping there let one thread's 202 ride on another's group (intake.py)."""
    from django.db import connection

    connection.inc_thread_sharing()
    try:
        stored = intake.store(payload(gateway, "Shared"))
    finally:
        connection.dec_thread_sharing()
    assert GatewayPayload.objects.filter(pk=stored.pk).exists()
    assert groups == []  # saved directly, not through a group


def test_a_lone_payload_is_stored_at_once(gateway, groups):
    stored = []

    def store() -> None:  # on a connection of its own: the test's may be the live server's, shared
        from django.db import connection

        try:
            stored.append(intake.store(payload(gateway, "Alone")))
        finally:
            connection.close()

    thread = threading.Thread(target=store)
    thread.start()
    thread.join(30)
    assert stored[0].pk is not None and GatewayPayload.objects.filter(pk=stored[0].pk).exists()
    assert groups == [1]


def test_twenty_threads_posting_at_once_are_each_answered_with_a_stored_payload(gateway, groups):
    results, failures = {}, {}
    start = threading.Barrier(20)

    def post(index: int) -> None:
        from django.db import connection

        start.wait()
        try:
            results[index] = intake.store(payload(gateway, f"Concurrent {index}")).pk
        except Exception as error:  # noqa: BLE001
            failures[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == {}
    assert GatewayPayload.objects.filter(pk__in=results.values()).count() == 20
    assert sum(groups) == 20 and len(groups) <= 20


def test_at_a_doors_expiry_one_thread_reads_it_again_and_the_others_use_what_it_knew(gateway, monkeypatch):
    intake.forget()
    known = intake.door(gateway.collection.pk)
    known.known_until = 0.0  # expired
    reading, release, reads = threading.Event(), threading.Event(), []
    read = intake._read_door

    def slow_read(collection_id, now):
        reads.append(threading.current_thread().name)
        reading.set()
        release.wait(30)
        return read(collection_id, now)

    monkeypatch.setattr(intake, "_read_door", slow_read)

    def read_in_thread() -> None:
        from django.db import connection

        try:
            intake.door(gateway.collection.pk)
        finally:
            connection.close()

    reader = threading.Thread(target=read_in_thread, name="reader")
    reader.start()
    assert reading.wait(30)
    assert intake.door(gateway.collection.pk) is known  # no second read while the first is under way
    release.set()
    reader.join(30)
    assert reads == ["reader"]
    fresh = intake.door(gateway.collection.pk)
    assert fresh is not known and fresh.known_until > time.monotonic()
    intake.forget()
