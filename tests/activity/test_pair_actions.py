"""Artifact pairs: Sync now (either side), details, delete with its log, bulk forms."""

import logging

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from hub.ids import is_digits
from tests.activity import factories

pytestmark = pytest.mark.django_db


def post(client, url, **data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


@pytest.fixture
def pairs():
    return factories.pairs(3000)


def test_sync_now_from_side_b_makes_that_artifact_pending(admin_client, pairs):
    pair = pairs[5]
    response = post(admin_client, "/activity/pairs/action/sync/", ids=pair.pk, side="B")
    assert "Synchronization requested for 1 artifact." in response.content.decode()
    activity = ArtifactActivity.objects.get()
    assert (activity.status, activity.source_side, activity.artifact_id) == (
        "pending",
        "B",
        pair.b_artifact_id,
    )
    assert activity.integration_id == pair.integration_id and activity.formatted_id == pair.b_formatted_id


def test_sync_now_twice_keeps_one_waiting_activity_and_moves_it_forward(admin_client, pairs):
    pair = pairs[6]
    post(admin_client, "/activity/pairs/action/sync/", ids=pair.pk, side="A")
    post(admin_client, "/activity/pairs/action/sync/", ids=pair.pk, side="A")
    activity = ArtifactActivity.objects.get()
    assert activity.priority == 2


def test_sync_now_refreshes_a_failed_activity_instead_of_adding_one(admin_client, pairs):
    pair = pairs[7]
    failed = factories.activities(
        1, "failed", integration_id=pair.integration_id, source_side="A", artifact_id=pair.a_artifact_id
    )[0]
    post(admin_client, "/activity/pairs/action/sync/", ids=pair.pk, side="A")
    assert ArtifactActivity.objects.count() == 1
    failed.refresh_from_db()
    assert failed.next_retry_at is not None


def test_sync_now_needs_a_valid_side(admin_client, pairs):
    response = post(admin_client, "/activity/pairs/action/sync/", ids=pairs[0].pk, side="C")
    assert response.status_code == 400 and not ArtifactActivity.objects.exists()


def test_sync_selected_starts_from_both_artifacts_of_each_pair(admin_client, pairs):
    ids = [p.pk for p in pairs[:4]]
    post(admin_client, "/activity/pairs/action/sync/", scope="selected", ids=ids, side="both")
    assert ArtifactActivity.objects.filter(status="pending").count() == 8


def test_sync_all_now_needs_a_filter_and_touches_what_it_selects(admin_client, pairs):
    response = post(admin_client, "/activity/pairs/action/sync/", scope="filtered", side="both")
    assert response.status_code == 400 and not ArtifactActivity.objects.exists()
    post(admin_client, "/activity/pairs/action/sync/", scope="filtered", side="both", integration="3")
    assert ArtifactActivity.objects.count() == 2 * 1000
    assert set(ArtifactActivity.objects.values_list("integration_id", flat=True)) == {3}


def test_sync_all_button_names_how_many_pairs_it_will_touch(admin_client, pairs):
    assert 'data-testid="sync-all"' not in admin_client.get("/activity/pairs/").content.decode()
    body = admin_client.get("/activity/pairs/?q=broken+12").content.decode()
    expected = ArtifactPair.objects.filter(a_summary__contains="broken 12").count()
    assert f"Synchronize all {expected} pairs the filters select?" in body


def test_deleting_a_pair_logs_who_when_and_both_artifacts(admin_client, pairs, settings):
    pair = pairs[8]
    response = post(admin_client, "/activity/pairs/action/delete/", ids=pair.pk)
    assert not ArtifactPair.objects.filter(pk=pair.pk).exists()
    assert f'id="pairs-{pair.pk}"' in response.content.decode() and "Removed." in response.content.decode()
    for handler in logging.getLogger("hub.deleted_pairs").handlers:
        handler.flush()
    text = (settings.HUB.logs_dir / "deleted-pairs.log").read_text()
    line = next(line for line in text.splitlines() if pair.a_formatted_id + " " in line)
    assert "deleted by ada" in line and pair.b_formatted_id in line and pair.a_url in line
    assert is_digits(line[:4])  # the time stamp starts the line


def test_delete_selected_removes_only_those(admin_client, pairs):
    ids = [p.pk for p in pairs[10:20]]
    post(admin_client, "/activity/pairs/action/delete/", scope="selected", ids=ids)
    assert ArtifactPair.objects.count() == 2990


def test_pair_details_show_one_row_per_field_with_both_values(admin_client, pairs):
    pair = pairs[9]
    body = admin_client.get(f"/activity/pairs/{pair.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert body.count('data-testid="field-row"') == 3
    assert "High" in body and "Urgent" in body


def test_pair_details_search_finds_fields_not_values(admin_client, pairs):
    pair = pairs[9]
    url = f"/activity/pairs/{pair.pk}/?field=prio"
    body = admin_client.get(
        url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"pair-{pair.pk}-fields"
    ).content.decode()
    assert body.count('data-testid="field-row"') == 1 and "Priority" in body
    body = admin_client.get(f"/activity/pairs/{pair.pk}/?field=High").content.decode()
    assert 'data-testid="field-row"' not in body


@pytest.mark.parametrize("action", ["sync", "delete"])
def test_viewers_are_refused_pair_actions(viewer_client, pairs, action):
    response = post(viewer_client, f"/activity/pairs/action/{action}/", ids=pairs[0].pk, side="A")
    assert response.status_code == 403
    assert ArtifactPair.objects.count() == 3000 and not ArtifactActivity.objects.exists()
