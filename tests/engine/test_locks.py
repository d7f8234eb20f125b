"""Artifact locks: a second holder is refused (CCRRTT-17004W) until the first lets go."""

import pytest

from integrations.engine import claims
from tests.engine.sync import hold_as_another_worker


@pytest.mark.django_db(transaction=True)
def test_a_held_artifact_is_refused_to_another_worker_until_released():
    from django.db import connection

    key = claims.lock_key(1, "A", "42")
    with claims.locked([key], "worker-1"):
        if connection.vendor in ("postgresql", "mysql"):
            # Advisory locks belong to a connection: the other worker is another connection.
            from django.db import connections

            other = connections.create_connection("default")
            with other.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [claims._advisory_id(key)])
                    assert cursor.fetchone()[0] is False
                else:
                    cursor.execute("SELECT GET_LOCK(%s, 0)", [claims._lock_name(key)])
                    assert cursor.fetchone()[0] == 0
            other.close()
        else:
            with pytest.raises(claims.Busy) as busy, claims.locked([key], "worker-2"):
                pass
            assert busy.value.code == "CCRRTT-17004W"
    with claims.locked([key], "worker-2"):
        pass


@pytest.mark.django_db(transaction=True)
def test_lock_many_takes_the_free_keys_and_leaves_the_held_ones():
    held, free = claims.lock_key(1, "A", "1"), claims.lock_key(1, "A", "2")
    release = hold_as_another_worker(held)
    try:
        assert claims.lock_many([held, free], "worker-2") == {free}
        claims.unlock_many([free], "worker-2")
    finally:
        release()
    assert claims.lock_many([held, free], "worker-2") == {held, free}
    claims.unlock_many([held, free], "worker-2")


@pytest.mark.django_db(transaction=True)
def test_a_lock_held_by_a_hub_on_another_database_of_the_same_mariadb_server_is_not_ours():
    """GET_LOCK names are global to a MariaDB server, where PostgreSQL's advisory locks belong to
    one database. Two Hubs on one server (or two test workers, each with its own database) both
    have an integration 1: one's detection lock must not stop the other's detection."""
    from django.db import connection, connections

    if connection.vendor != "mysql":
        pytest.skip("GET_LOCK names are global to a MariaDB server; elsewhere locks are per database")
    key = "detect:1"
    other = connections.create_connection("default")  # the other Hub's session on the same server
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 0)", [claims._lock_name(key, "another_hub")])
            assert cursor.fetchone()[0] == 1
        assert claims.lock_many([key], "worker-1") == {key}
        with other.cursor() as cursor:  # while ours, in our database, is refused to the other
            cursor.execute("SELECT GET_LOCK(%s, 0)", [claims._lock_name(key)])
            assert cursor.fetchone()[0] == 0
        claims.unlock_many([key], "worker-1")
    finally:
        other.close()
