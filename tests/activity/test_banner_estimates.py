"""Issue #19: the Activity screen on a huge ledger (a large initial sync's backlog). On PostgreSQL a
status the planner puts above ``EXACT_UP_TO`` rows is shown as "about" its estimate, and the exact
count is limited to the other statuses (an index range scan, not a scan of the whole table); the
pending tab's result count is the estimate too. Elsewhere every count stays exact."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from activity import views
from activity.models import ArtifactActivity
from hub.bulk import insert_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]

COMMON = {"integration_id": 7, "integration_name": "Bench", "source_side": "A", "source_project": "DEMO"}


@pytest.fixture
def huge_ledger(monkeypatch):
    """80 pending, 10 failed, 5 completed, with "huge" meaning above 50 rows and a status above 20."""
    monkeypatch.setattr(views, "ESTIMATE_ABOVE", 50)
    monkeypatch.setattr(views, "EXACT_UP_TO", 20)
    rows = []
    for status, count, offset in (("pending", 80, 0), ("failed", 10, 1000), ("completed", 5, 2000)):
        for n in range(offset, offset + count):
            key = None if status == "completed" else ArtifactActivity.make_waiting_key(7, "A", str(n))
            rows.append({"artifact_id": str(n), "status": status, "waiting_key": key})
    insert_rows(ArtifactActivity, COMMON, rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE activity_artifactactivity")


def test_large_statuses_are_estimates_and_the_exact_count_skips_them(huge_ledger):
    with CaptureQueriesContext(connection) as queries:
        counts, about = views.count_activities()
    table = f"FROM {connection.ops.quote_name(ArtifactActivity._meta.db_table)}"
    activity_queries = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    assert len(activity_queries) == 1
    if connection.vendor == "postgresql":
        assert [status for status, estimated in about.items() if estimated] == ["pending"]
        assert counts["pending"] == 80  # ANALYZE sampled all 95 rows: the estimate is exact here
        assert "'pending'" not in activity_queries[0] and " IN (" in activity_queries[0]
        assert len(queries.captured_queries) == 2  # the estimate, then the exact count of the rest
    else:
        assert not any(about.values())
        assert counts["pending"] == 80
    assert (counts["failed"], counts["completed"], counts["processing"]) == (10, 5, 0)


def test_the_banner_and_the_pending_tab_say_about_for_an_estimate(huge_ledger):
    banner = render_to_string("activity/_banner.html", {"counts": views.banner_counts()})
    estimated = connection.vendor == "postgresql"
    assert ("about 80 Pending" in banner) is estimated
    assert "80 Pending" in banner and "10 Failed" in banner and "about 10 Failed" not in banner
    pending = views.LedgerPaginator(
        ArtifactActivity.objects.filter(status="pending").order_by("-id"), 25, statuses=("pending",)
    )
    assert (pending.count, pending.approximate) == (80, estimated)
    failed = views.LedgerPaginator(
        ArtifactActivity.objects.filter(status="failed").order_by("-id"), 25, statuses=("failed",)
    )
    assert (failed.count, failed.approximate) == (10, False)
