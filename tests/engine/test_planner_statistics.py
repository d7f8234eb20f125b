"""Issue #19: the engine keeps the planner statistics of its tables fresh while a backfill fills them:
a large initial detection analyzes the activity table, so the claims that start while it pages plan
on the rows that are there, not on the empty table; and after their batches the workers analyze a
table that has grown far past its last analyze (the pairs), where autovacuum lags or is off."""

import os
import time

import pytest
from django.db import connection

from activity.models import ArtifactActivity, ArtifactPair
from integrations.engine import detection, planner
from tests.engine.sync import new_item

pytestmark = pytest.mark.django_db(transaction=True)


def estimated_rows() -> float | None:
    """What the planner believes the activity table holds (None where the engine does not say)."""
    table = ArtifactActivity._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
            row = cursor.fetchone()
            return float(row[0].split()[0]) if row else None
        cursor.execute(
            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            " AND TABLE_NAME = %s",
            [table],
        )
        return float(cursor.fetchone()[0])


def test_the_detection_that_records_many_activities_analyzes_the_table(running, monkeypatch):
    monkeypatch.setattr(detection, "ANALYZE_AT", (3,))  # 5,000 in production
    for n in range(4):
        new_item("alpha", "DEMO", f"Item {n}")
    assert detection.detect(running.pk) == 4
    assert estimated_rows() == 4


def test_a_small_detection_does_not(running, monkeypatch):
    analyzed = []
    monkeypatch.setattr(detection, "refresh_planner_statistics", lambda: analyzed.append(1))
    new_item("alpha", "DEMO", "Alone")
    assert detection.detect(running.pk) == 1
    assert analyzed == []


def pair_count_believed() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [ArtifactPair._meta.db_table])
        return cursor.fetchone()[0]


def listed_within(table: str, lister, deadline: float = 10.0) -> bool:
    """Whether ``lister()`` (stale or dead tables) names ``table`` within ``deadline`` s: a
    backend's table counts reach the statistics views up to a second after its commit."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
        if table in lister():
            return True
        time.sleep(0.1)  # polling the statistics views, which lag commits by design
    return False


ON_POSTGRESQL = os.environ.get("HUB_TEST_DB", "sqlite") == "postgres"


def pairs(integration, count: int) -> None:
    ArtifactPair.objects.bulk_create(
        ArtifactPair(integration_id=integration.pk, a_artifact_id=str(n), b_artifact_id=f"b{n}")
        for n in range(count)
    )


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's statistics views")
def test_a_table_grown_far_past_its_last_analyze_is_analyzed_by_the_next_refresh(running, monkeypatch):
    monkeypatch.setattr(planner, "STALE_ROWS", 100)
    monkeypatch.setattr(planner, "MOST_AT_ONCE", 1000)  # earlier tests leave staler tables behind
    table = ArtifactPair._meta.db_table
    planner.analyze([table])
    assert pair_count_believed() == 0
    pairs(running, 300)
    assert listed_within(table, planner.stale_tables)

    assert table in planner.refresh_stale()
    assert pair_count_believed() == 300
    assert table not in planner.stale_tables()


def test_a_table_is_not_stale_below_the_threshold_nor_off_postgresql(running, monkeypatch):
    monkeypatch.setattr(planner, "MOST_AT_ONCE", 1000)
    planner.analyze([ArtifactPair._meta.db_table])  # earlier tests of the session changed it too
    pairs(running, 20)
    analyzed = planner.refresh_stale()
    assert ArtifactPair._meta.db_table not in analyzed
    if not ON_POSTGRESQL:
        assert analyzed == []


def vacuum_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's autovacuum")
def test_where_autovacuum_is_off_a_table_full_of_dead_rows_is_vacuumed(running, monkeypatch):
    monkeypatch.setattr(planner, "STALE_ROWS", 100)
    monkeypatch.setattr(planner, "MOST_AT_ONCE", 1000)  # earlier tests leave deader tables behind
    monkeypatch.setattr(planner, "autovacuum_off", lambda: True)
    table = ArtifactPair._meta.db_table
    pairs(running, 300)
    ArtifactPair.objects.filter(integration_id=running.pk).delete()
    assert listed_within(table, planner.dead_tables)
    before = vacuum_count(table)

    assert table in planner.vacuum_dead()
    end = time.monotonic() + 10
    while vacuum_count(table) == before and time.monotonic() < end:
        time.sleep(0.1)  # the vacuum's count reaches the statistics views up to a second later
    assert vacuum_count(table) == before + 1


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's autovacuum")
def test_where_autovacuum_is_on_the_workers_leave_vacuuming_to_it(running, monkeypatch):
    monkeypatch.setattr(planner, "STALE_ROWS", 100)
    monkeypatch.setattr(planner, "MOST_AT_ONCE", 1000)
    monkeypatch.setattr(planner, "autovacuum_off", lambda: False)
    pairs(running, 300)
    ArtifactPair.objects.filter(integration_id=running.pk).delete()
    assert listed_within(ArtifactPair._meta.db_table, planner.dead_tables)
    assert planner.vacuum_dead() == []


def test_the_workers_look_after_the_tables_at_the_trims_turn(monkeypatch):
    from integrations.engine import upkeep

    calls = []
    monkeypatch.setattr(planner, "refresh_stale", lambda: calls.append("analyze") or [])
    monkeypatch.setattr(planner, "vacuum_dead", lambda: calls.append("vacuum") or [])
    monkeypatch.setattr(upkeep, "trim", lambda: 0)
    monkeypatch.setitem(upkeep._since, "processed", 0)
    monkeypatch.setitem(upkeep._since, "at", time.monotonic())  # this process's last trim: just now
    upkeep.after_batch(upkeep.TRIM_AFTER - 1)
    assert calls == []
    upkeep.after_batch(1)
    assert calls == ["analyze", "vacuum"]
