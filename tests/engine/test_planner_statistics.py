"""Issue #19: a large initial detection refreshes the activity table's planner statistics, so the
claims that start while it pages plan on the rows that are there, not on the empty table."""

import pytest
from django.db import connection

from activity.models import ArtifactActivity
from integrations.engine import detection
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
