"""The completed-activity cap, the banner counts, escaping of tool-supplied text, query-count guards
and the error help pages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activity import catalog, retention
from activity.models import ArtifactActivity, BackgroundJob
from activity.views import banner_counts
from tests.activity import factories

pytestmark = pytest.mark.django_db


def test_the_cap_is_the_setting_of_100000_completed_activities(settings):
    assert settings.HUB_COMPLETED_ACTIVITIES_KEPT == 100_000
    factories.activities(10, "completed")
    settings.HUB_COMPLETED_ACTIVITIES_KEPT = 4
    assert retention.trim_completed() == 6


def test_at_most_the_cap_of_completed_activities_are_kept_oldest_by_id_removed_first(monkeypatch):
    # A cap of 1000 and batches of 10 take the same path as 100,000 in batches of 10,000 (three
    # batches here), in a second rather than a minute per database.
    monkeypatch.setattr(retention, "DELETE_BATCH", 10)
    cap = 1000
    rows = [
        ArtifactActivity(integration_id=1, source_side="A", artifact_id=str(n), status="completed")
        for n in range(cap + 25)
    ]
    ArtifactActivity.objects.bulk_create(rows, batch_size=500)
    factories.activities(3, "failed", start=900_000)
    oldest = list(
        ArtifactActivity.objects.filter(status="completed").order_by("id").values_list("id", flat=True)[:26]
    )

    assert retention.trim_completed(limit=cap) == 25

    assert ArtifactActivity.objects.filter(status="completed").count() == cap
    assert not ArtifactActivity.objects.filter(id__in=oldest[:25]).exists()
    assert ArtifactActivity.objects.filter(id=oldest[25]).exists()
    assert ArtifactActivity.objects.filter(status="failed").count() == 3


def test_trimming_below_the_cap_removes_nothing():
    factories.activities(10, "completed")
    assert retention.trim_completed() == 0
    assert retention.trim_completed(limit=4) == 6
    assert ArtifactActivity.objects.count() == 4


def test_the_newest_by_id_stay_whatever_their_creation_time_says():
    """Ids follow creation, and the primary key answers the bound and each chunk without a sort of
    the completed rows by time (issue #19: a trim every thousand activities)."""
    older, newer = factories.activities(2, "completed")
    ArtifactActivity.objects.filter(pk=newer.pk).update(created=timezone.now() - timezone.timedelta(days=3))
    retention.trim_completed(limit=1)
    assert list(ArtifactActivity.objects.values_list("pk", flat=True)) == [newer.pk]


def test_banner_counts_every_tab():
    factories.activities(7, "pending")
    factories.activities(5, "failed", start=100)
    factories.activities(3, "ignored", start=200)
    factories.activities(11, "completed", start=300)
    factories.pairs(13)
    factories.blocker("license:missing", impact="all")
    factories.blocker("integration:1:route")
    factories.job(kind=BackgroundJob.Kind.DATA_MIGRATION)
    factories.job(status="failed")
    counts = banner_counts()
    assert counts["activities"] == {
        "pending": 7,
        "processing": 0,
        "failed": 5,
        "ignored": 3,
        "cancelled": 0,
        "completed": 11,
    }
    assert counts["pairs"] == {"n": 13, "about": False}
    assert (counts["blockers"]["total"], counts["blockers"]["blocking"]) == (2, 1)
    assert counts["blockers"]["migrations"] == {"processing": 1, "failed": 0, "completed": 0}
    assert counts["jobs"] == {"processing": 1, "failed": 1, "completed": 0}


def test_the_configuration_migration_job_counts_with_the_migrations():
    """Its 66003W blockers stay up while it waits, as the integration data migrations' do."""
    factories.job(kind=BackgroundJob.Kind.CONFIGURATION_MIGRATION)
    factories.job(kind=BackgroundJob.Kind.PAIR_EXPORT)
    assert banner_counts()["blockers"]["migrations"] == {"processing": 1, "failed": 0, "completed": 0}


def test_the_blockers_card_breakdown_adds_up_to_its_total(admin_client):
    """Each blocker blocks all integrations or affects some: the two add up to the total, and the
    configuration migrations are counted apart (they are jobs, not blockers)."""
    factories.blocker("integration:1:route")
    factories.job(kind=BackgroundJob.Kind.DATA_MIGRATION)
    body = admin_client.get("/activity/banner/").content.decode()

    def number(testid):
        start = body.index(f'data-testid="{testid}">') + len(f'data-testid="{testid}">')
        return int(re.match(r"\d+", body[start:])[0])

    assert number("count-blockers") == 1
    assert number("count-blockers-blocking") + number("count-blockers-affecting") == 1
    assert "Configuration migrations: 1 processing" in body


def test_banner_partial_polls_itself_and_follows_actions(admin_client):
    body = admin_client.get("/activity/banner/?current=pairs").content.decode()
    assert 'hx-trigger="every 5s, activity-changed from:body"' in body
    assert 'class="count-card current" href="/activity/pairs/"' in body


def test_summary_and_message_from_tools_are_escaped(admin_client):
    factories.activities(
        1,
        "failed",
        summary='<script>alert("summary")</script>',
        message='<img src=x onerror="alert(1)"> and <b>bold</b>',
        url="javascript:alert(1)",
    )
    body = admin_client.get("/activity/activities/failed/").content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&quot;summary&quot;)&lt;/script&gt;" in body
    assert "<img src=x" not in body and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
    assert 'href="javascript:' not in body


def test_blocker_links_go_only_to_hub_paths_or_web_addresses(admin_client):
    related = [
        {"label": "Integration", "url": "/integrations/1/"},
        {"label": "Elsewhere", "url": "//evil.example/x"},
        {"label": "Script", "url": "javascript:alert(1)"},
    ]
    factories.blocker(related=related)
    body = admin_client.get("/activity/blockers/").content.decode()
    assert '<a href="/integrations/1/">Integration</a>' in body
    assert 'href="//evil.example' not in body and 'href="javascript:' not in body


def test_pair_summaries_are_escaped(admin_client):
    factories.pairs(1, a_summary="<script>x()</script>", b_formatted_id="<b>B-1</b>")
    body = admin_client.get("/activity/pairs/").content.decode()
    assert "<script>x()" not in body and "<b>B-1</b>" not in body and "&lt;b&gt;B-1&lt;/b&gt;" in body


@pytest.mark.parametrize(
    "url",
    [
        "/activity/activities/failed/",
        "/activity/activities/completed/",
        "/activity/activities/pending/",
        "/activity/activities/ignored/",
        "/activity/pairs/",
        "/activity/blockers/",
        "/activity/jobs/processing/",
        "/activity/jobs/completed/",
        "/activity/banner/",
    ],
)
def test_each_list_costs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries, url):
    for status in ("failed", "completed", "pending", "ignored"):
        factories.activities(
            60, status, start={"failed": 0, "completed": 100, "pending": 200, "ignored": 300}[status]
        )
    factories.pairs(60)
    for n in range(30):
        factories.blocker(f"integration:{n}:route")
        factories.job(name=f"job {n}", details={"projects updated": ["A → B"]})
        factories.job(name=f"done {n}", status="completed", log=[{"time": "t", "message": "m"}])
    admin_client.get(url)  # sessions and the integration-name cache warm up once
    # What every signed-in page costs (session, user, role, whatever the shell reads), measured on
    # a page that reads no ledger at all, so this guard follows changes elsewhere.
    with CaptureQueriesContext(connection) as shell:
        admin_client.get("/help/errors/")
    # Then count + page (the Ignored tab also reads its switch; an activity tab asks PostgreSQL's
    # planner for its statuses' estimate), or the banner's four grouped counts (plus, on PostgreSQL,
    # the pair-count and the per-status estimates): never one query per row.
    own = 6 if url.endswith("banner/") else 4
    with django_assert_max_num_queries(len(shell.captured_queries) + own):
        response = admin_client.get(url)
    assert response.status_code == 200


def test_error_help_index_and_page(admin_client):
    body = admin_client.get("/help/errors/").content.decode()
    assert body.count('href="/help/errors/CCRRTT-') == len(catalog.CATALOG)
    entry = catalog.entry("CCRRTT-17023E")
    page = admin_client.get("/help/errors/CCRRTT-17023E/").content.decode()
    assert entry.title in page
    assert admin_client.get("/help/errors/CCRRTT-99999E/").status_code == 404


def test_codes_shown_on_the_screen_link_to_their_help_page(admin_client):
    factories.activities(1, "failed")
    factories.blocker()
    factories.job(status="failed", code="CCRRTT-1110E", message="Project gone")
    for url in ("/activity/activities/failed/", "/activity/blockers/", "/activity/jobs/failed/"):
        body = admin_client.get(url).content.decode()
        assert 'class="code" href="/help/errors/CCRRTT-' in body, url
