import pytest

from tests.activity import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/activity/blockers/",
        "/activity/jobs/processing/",
        "/activity/jobs/failed/",
        "/activity/jobs/completed/",
        "/activity/activities/pending/",
        "/activity/activities/processing/",
        "/activity/activities/failed/",
        "/activity/activities/ignored/",
        "/activity/activities/completed/",
        "/activity/pairs/",
        "/activity/banner/",
    ],
)
def test_every_tab_renders(admin_client, url):
    factories.activities(30, "failed")
    factories.activities(30, "completed", start=100)
    factories.pairs(30)
    factories.blocker()
    factories.job()
    response = admin_client.get(url)
    assert response.status_code == 200, response.content[:2000]


@pytest.mark.parametrize("query", ["", "?integration=2"])
def test_the_pair_list_is_read_in_index_order_without_sorting_the_table(admin_client, query):
    """At 1,000,000 pairs a sort of the whole table costs seconds (docs/performance.md); the default
    order must come straight from an index: SQLite's plan says ``USE TEMP B-TREE FOR ORDER BY``
    when it would have to sort."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    factories.pairs(30)
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(f"/activity/pairs/{query}").status_code == 200
    selects = [q["sql"] for q in captured if 'FROM "activity_artifactpair"' in q["sql"]]
    (page,) = [sql for sql in selects if "LIMIT" in sql]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {page}")
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    assert "TEMP B-TREE" not in plan, plan
