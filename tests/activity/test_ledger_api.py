"""The ledger under /api/v1/: the Activity screen's lists and filters as JSON, paged like the screen,
and its actions for administrators — with API tokens, viewers read-only, CSRF for sessions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob
from hub import api_tokens
from tests.activity import factories
from tests.integrations.test_api import Api

Status = ArtifactActivity.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def api(administrator, integrations_running):
    return Api(api_tokens.create_token(administrator, "ledger")[1])


@pytest.fixture
def viewer_api(viewer, integrations_running):
    return Api(api_tokens.create_token(viewer, "ledger viewer")[1])


def test_activities_filter_by_status_integration_and_artifact(api):
    factories.activities(6, Status.COMPLETED)
    factories.activities(3, Status.PROCESSING, start=100, integration_id=2)
    failed = factories.activities(1, Status.FAILED, start=200, integration_id=1)[0]

    processing = api.get("/activities/?status=processing").json()
    assert processing["count"] == 3 and {row["status"] for row in processing["results"]} == {"processing"}
    both = api.get("/activities/?status=processing&status=failed").json()
    assert both["count"] == 4
    assert api.get("/activities/?integration=2").json()["count"] == 3 + 2  # two of the completed ones
    by_artifact = api.get(f"/activities/?artifact={failed.formatted_id}").json()
    assert [row["id"] for row in by_artifact["results"]] == [failed.pk]
    assert by_artifact["results"][0]["code"] == "CCRRTT-1002E"
    assert api.get(f"/activities/{failed.pk}/").json()["artifact_id"] == failed.artifact_id


def test_an_unknown_filter_value_is_refused_with_the_field_named(api):
    response = api.get("/activities/?status=sleeping")
    assert response.status_code == 400
    assert response.json()["code"] == "CCRRTT-30002E" and "status" in response.json()["errors"]


def test_lists_are_paged_like_the_screen(api):
    factories.activities(30, Status.PENDING)
    first = api.get("/activities/").json()
    assert first["count"] == 30 and len(first["results"]) == 25 and first["approximate"] is False
    assert len(api.get("/activities/?page=2").json()["results"]) == 5
    assert len(api.get("/activities/?page_size=500").json()["results"]) == 30
    newest_first = [row["id"] for row in first["results"]]
    assert newest_first == sorted(newest_first, reverse=True)


def test_pairs_show_both_artifacts_and_filter_by_either(api):
    factories.pairs(4)
    found = api.get("/pairs/?artifact=%23500002").json()["results"]
    assert [(row["a_formatted_id"], row["b_formatted_id"]) for row in found] == [("PROJ-2", "#500002")]
    assert api.get("/pairs/?artifact=PROJ-3").json()["count"] == 1
    assert "a_snapshot" not in found[0] and "comment_map" not in found[0]


def test_blockers_and_jobs_are_listed(api):
    factories.blocker()
    factories.job()
    factories.job(status=BackgroundJob.Status.FAILED, name="Export pairs")
    assert api.get("/blockers/").json()["results"][0]["code"] == "CCRRTT-1401E"
    assert api.get("/jobs/?status=failed").json()["results"][0]["name"] == "Export pairs"
    assert api.get("/jobs/").json()["count"] == 2


def test_single_actions_change_the_row_as_the_screen_does(api):
    later = timezone.now() + timezone.timedelta(hours=1)
    failed = factories.activities(1, Status.FAILED, next_retry_at=later)[0]
    pending = factories.activities(1, Status.PENDING, start=50)[0]
    answer = api.post(f"/activities/{failed.pk}/retry/")
    assert answer.status_code == 200 and answer.json()["changed"] == 1
    failed.refresh_from_db()
    assert failed.next_retry_at <= timezone.now()
    assert api.post(f"/activities/{pending.pk}/prioritize/").json()["changed"] == 1
    assert api.post(f"/activities/{pending.pk}/ignore/").json()["changed"] == 1
    pending.refresh_from_db()
    assert pending.status == Status.IGNORED and pending.waiting_key is None


def test_bulk_actions_take_ids_or_the_filters(api):
    rows = factories.activities(5, Status.PENDING, integration_id=1)
    factories.activities(3, Status.PENDING, start=10, integration_id=2)
    assert api.post("/activities/ignore/", {"ids": [rows[0].pk, rows[1].pk]}).json()["changed"] == 2
    answer = api.post("/activities/ignore/?integration=2", {"filtered": True}).json()
    assert answer["changed"] == 3 and "3 activities ignored" in answer["message"]
    assert ArtifactActivity.objects.filter(status=Status.PENDING).count() == 3
    refused = api.post("/activities/ignore/", {})
    assert refused.status_code == 400 and refused.json()["code"] == "CCRRTT-30002E"


def test_sync_now_makes_the_chosen_side_pending(api):
    pair = factories.pairs(2)[0]
    answer = api.post(f"/pairs/{pair.pk}/sync/", {"side": "B"})
    assert answer.json()["changed"] == 1
    made = ArtifactActivity.objects.get()
    assert (made.source_side, made.artifact_id, made.status) == ("B", pair.b_artifact_id, Status.PENDING)
    everything = api.post("/pairs/sync/", {"filtered": True})
    assert everything.status_code == 400  # as on the screen: Sync now of every pair needs a filter
    assert api.post("/pairs/sync/", {"ids": [pair.pk], "side": "C"}).status_code == 400
    assert ArtifactPair.objects.count() == 2


def test_viewers_read_but_cannot_act(viewer_api):
    row = factories.activities(1, Status.FAILED)[0]
    assert viewer_api.get("/activities/").status_code == 200
    refused = viewer_api.post(f"/activities/{row.pk}/retry/")
    assert refused.status_code == 403
    assert viewer_api.post("/activities/retry/", {"ids": [row.pk]}).status_code == 403


def test_a_signed_in_session_needs_the_csrf_token_to_act(administrator, integrations_running):
    row = factories.activities(1, Status.FAILED)[0]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(administrator)
    assert browser.get("/api/v1/activities/").status_code == 200
    refused = browser.post(f"/api/v1/activities/{row.pk}/retry/", content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]


def test_without_credentials_nothing_is_shown(client):
    answer = client.get("/api/v1/activities/")
    assert answer.status_code == 401 and "results" not in answer.json()


def test_the_openapi_document_names_every_field_the_ledger_answers_with(api):
    schema = api.client.get("/api/v1/schema/", {"format": "json"}, **api.headers).json()
    factories.activities(1, Status.PENDING)
    factories.pairs(1)
    factories.blocker()
    factories.job()
    components = schema["components"]["schemas"]
    for path, component in (
        ("/activities/", "Activity"),
        ("/pairs/", "Pair"),
        ("/blockers/", "LedgerBlocker"),
        ("/jobs/", "Job"),
    ):
        page = api.get(path).json()
        assert set(page) == set(components[f"Paginated{component}List"]["properties"]), path
        assert set(page["results"][0]) == set(components[component]["properties"]), path
    for operation in ("/api/v1/activities/{id}/retry/", "/api/v1/activities/retry/", "/api/v1/pairs/sync/"):
        assert "post" in schema["paths"][operation]


def test_an_id_beyond_any_row_answers_404(api):
    for path in ("/activities/99999999999999999999999/", "/pairs/9223372036854775808/sync/"):
        answer = api.get(path) if path.count("/") == 3 else api.post(path)
        assert answer.status_code == 404, (path, answer.content)
    huge = api.post("/activities/retry/", {"ids": [2**70]})
    assert huge.status_code == 200 and huge.json()["changed"] == 0
