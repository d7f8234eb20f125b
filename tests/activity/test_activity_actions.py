"""Every artifact-activity action, single and bulk, on a ledger of thousands of rows."""

import logging

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity, LedgerSettings
from tests.activity import factories

pytestmark = pytest.mark.django_db

Status = ArtifactActivity.Status


def post(client, url, htmx=True, **data):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url, data, **headers)


def status_of(row) -> str:
    row.refresh_from_db()
    return row.status


@pytest.fixture
def ledger():
    """Thousands of rows over three integrations; tests act on a few and check the rest stay."""
    return {
        "completed": factories.activities(2000, Status.COMPLETED),
        "failed": factories.activities(600, Status.FAILED, start=3000),
        "pending": factories.activities(300, Status.PENDING, start=4000),
        "ignored": factories.activities(150, Status.IGNORED, start=5000),
    }


def test_cancelling_a_pending_activity_drops_it_and_answers_with_its_row(admin_client, ledger):
    row = ledger["pending"][0]
    response = post(admin_client, "/activity/activities/action/cancel/", ids=row.pk)
    assert response.status_code == 200
    assert status_of(row) == Status.CANCELLED
    assert row.waiting_key is None
    body = response.content.decode()
    assert f'id="activities-{row.pk}"' in body and 'hx-swap-oob="true"' in body
    assert "1 activity cancelled." in body
    assert response["HX-Trigger"] == "activity-changed"
    assert ArtifactActivity.objects.filter(status=Status.PENDING).count() == 299


def test_ignoring_a_pending_activity_moves_it_to_ignored(admin_client, ledger):
    row = ledger["pending"][1]
    post(admin_client, "/activity/activities/action/ignore/", ids=row.pk)
    assert status_of(row) == Status.IGNORED


def test_prioritizing_a_pending_activity_puts_it_ahead_of_every_waiting_one(admin_client, ledger):
    row = ledger["pending"][2]
    post(admin_client, "/activity/activities/action/prioritize/", ids=row.pk)
    row.refresh_from_db()
    others = ArtifactActivity.objects.filter(status__in=ArtifactActivity.WAITING).exclude(pk=row.pk)
    assert all(row.priority > other.priority for other in others)


def test_prioritizing_a_failed_activity_makes_its_retry_due_now(admin_client, ledger):
    row = ledger["failed"][0]
    ArtifactActivity.objects.filter(pk=row.pk).update(
        next_retry_at=timezone.now() + timezone.timedelta(hours=1)
    )
    post(admin_client, "/activity/activities/action/prioritize/", ids=row.pk)
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.next_retry_at <= timezone.now() and row.priority > 0


def test_retrying_a_failed_activity_not_yet_scheduled_makes_it_due_now(admin_client, ledger):
    row = ledger["failed"][1]
    response = post(admin_client, "/activity/activities/action/retry/", ids=row.pk)
    row.refresh_from_db()
    assert row.next_retry_at is not None and row.next_retry_at <= timezone.now()
    assert "Scheduled for processing as soon as possible." in response.content.decode()


def test_retry_makes_an_activity_already_scheduled_due_now(admin_client, ledger):
    row = ledger["failed"][2]
    ArtifactActivity.objects.filter(pk=row.pk).update(
        next_retry_at=timezone.now() + timezone.timedelta(hours=2)
    )
    response = post(admin_client, "/activity/activities/action/retry/", ids=row.pk)
    assert "1 activity scheduled for retry now." in response.content.decode()
    row.refresh_from_db()
    assert row.status == "failed" and row.next_retry_at <= timezone.now()


def test_recreate_asks_the_engine_for_a_new_twin_only_when_the_twin_was_deleted(admin_client, ledger):
    deleted_twin, other = ledger["failed"][3], ledger["failed"][4]
    ArtifactActivity.objects.filter(pk=deleted_twin.pk).update(twin_deleted=True, code="CCRRTT-50001E")
    post(admin_client, "/activity/activities/action/recreate/", ids=[deleted_twin.pk, other.pk])
    deleted_twin.refresh_from_db()
    other.refresh_from_db()
    assert deleted_twin.recreate and deleted_twin.next_retry_at is not None
    assert not other.recreate


def test_ignoring_and_cancelling_failed_activities(admin_client, ledger):
    ignored, cancelled = ledger["failed"][5], ledger["failed"][6]
    post(admin_client, "/activity/activities/action/ignore/", ids=ignored.pk)
    post(admin_client, "/activity/activities/action/cancel/", ids=cancelled.pk)
    assert status_of(ignored) == Status.IGNORED
    assert status_of(cancelled) == Status.CANCELLED


def test_stop_ignoring_moves_an_ignored_activity_back_to_failed_unscheduled(admin_client, ledger):
    row = ledger["ignored"][0]
    response = post(admin_client, "/activity/activities/action/stop-ignoring/", ids=row.pk)
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.next_retry_at is None and row.waiting_key
    assert 'data-action="retry"' in response.content.decode()


def test_stop_ignoring_an_artifact_that_changed_since_keeps_only_the_newer_activity(admin_client, ledger):
    ignored = ledger["ignored"][1]
    newer = factories.activities(
        1,
        Status.PENDING,
        integration_id=ignored.integration_id,
        source_side=ignored.source_side,
        artifact_id=ignored.artifact_id,
    )[0]
    post(admin_client, "/activity/activities/action/stop-ignoring/", ids=ignored.pk)
    assert status_of(ignored) == Status.CANCELLED
    assert status_of(newer) == Status.PENDING


def test_bulk_actions_on_selected_rows_change_only_those(admin_client, ledger):
    chosen = ledger["failed"][10:15]
    response = post(
        admin_client,
        "/activity/activities/failed/action/ignore/",
        scope="selected",
        ids=[r.pk for r in chosen],
    )
    assert "5 activities ignored." in response.content.decode()
    assert ArtifactActivity.objects.filter(status=Status.IGNORED).count() == 155
    assert ArtifactActivity.objects.filter(status=Status.FAILED).count() == 595


@pytest.mark.parametrize(
    ("tab", "action", "moved_to"),
    [
        ("pending", "cancel", Status.CANCELLED),
        ("pending", "ignore", Status.IGNORED),
        ("failed", "ignore", Status.IGNORED),
        ("failed", "cancel", Status.CANCELLED),
    ],
)
def test_bulk_action_within_filters_touches_exactly_what_the_filters_select(
    admin_client, ledger, tab, action, moved_to
):
    response = post(
        admin_client, f"/activity/activities/{tab}/action/{action}/", scope="filtered", integration="2"
    )
    in_tab = [r for r in ledger[tab] if r.integration_id == 2]
    assert f"{len(in_tab)} activities" in response.content.decode()
    assert ArtifactActivity.objects.filter(status=moved_to, integration_id=2).count() >= len(in_tab)
    assert not ArtifactActivity.objects.filter(status=tab, integration_id=2).exists()
    assert ArtifactActivity.objects.filter(status=tab, integration_id=1).exists()
    assert 'id="list" hx-swap-oob="true"' in response.content.decode()


def test_bulk_retry_and_prioritize_within_filters(admin_client, ledger):
    post(admin_client, "/activity/activities/failed/action/retry/", scope="filtered", q="PROJ-13")
    assert not ArtifactActivity.objects.filter(status=Status.FAILED, next_retry_at=None).exists()
    post(admin_client, "/activity/activities/failed/action/prioritize/", scope="filtered", integration="3")
    assert not ArtifactActivity.objects.filter(status=Status.FAILED, integration_id=3, priority=0).exists()
    assert ArtifactActivity.objects.filter(status=Status.FAILED, integration_id=1, priority=0).exists()


def test_bulk_recreate_within_filters(admin_client, ledger):
    ArtifactActivity.objects.filter(pk__in=[r.pk for r in ledger["failed"][:20]]).update(twin_deleted=True)
    post(admin_client, "/activity/activities/failed/action/recreate/", scope="filtered")
    assert ArtifactActivity.objects.filter(recreate=True).count() == 20


def test_stop_ignoring_all_needs_a_filter(admin_client, ledger):
    response = post(admin_client, "/activity/activities/ignored/action/stop-ignoring/", scope="filtered")
    assert response.status_code == 400
    assert ArtifactActivity.objects.filter(status=Status.IGNORED).count() == 150
    response = post(
        admin_client, "/activity/activities/ignored/action/stop-ignoring/", scope="filtered", integration="1"
    )
    assert response.status_code == 200
    assert ArtifactActivity.objects.filter(status=Status.IGNORED).count() == 100


def test_bulk_stop_ignoring_selected(admin_client, ledger):
    ids = [r.pk for r in ledger["ignored"][:7]]
    post(admin_client, "/activity/activities/ignored/action/stop-ignoring/", scope="selected", ids=ids)
    assert ArtifactActivity.objects.filter(pk__in=ids, status=Status.FAILED).count() == 7


def test_remove_all_completed_within_filters_keeps_the_others(admin_client, ledger):
    post(admin_client, "/activity/activities/completed/action/remove/", scope="filtered", integration="1")
    assert not ArtifactActivity.objects.filter(status=Status.COMPLETED, integration_id=1).exists()
    assert ArtifactActivity.objects.filter(status=Status.COMPLETED).count() == 2000 - 667
    post(admin_client, "/activity/activities/completed/action/remove/", scope="filtered")
    assert not ArtifactActivity.objects.filter(status=Status.COMPLETED).exists()
    assert ArtifactActivity.objects.filter(status=Status.FAILED).count() == 600


def test_remove_never_deletes_unfinished_activities(admin_client, ledger):
    post(admin_client, "/activity/activities/failed/action/remove/", scope="filtered")
    assert ArtifactActivity.objects.filter(status=Status.FAILED).count() == 600


def test_actions_without_htmx_redirect_back_with_a_message(admin_client, ledger):
    row = ledger["pending"][3]
    response = post(admin_client, "/activity/activities/pending/action/cancel/", htmx=False, ids=row.pk)
    assert response.status_code == 302 and response["Location"].startswith("/activity/activities/pending/")
    assert status_of(row) == Status.CANCELLED


def test_an_action_without_a_selection_is_refused_with_a_reason(admin_client, ledger):
    response = post(admin_client, "/activity/activities/pending/action/cancel/", scope="selected")
    assert response.status_code == 400 and b"Select at least one" in response.content


@pytest.mark.parametrize(
    "action", ["prioritize", "cancel", "ignore", "retry", "recreate", "stop-ignoring", "remove"]
)
def test_viewers_are_refused_every_activity_action(viewer_client, ledger, action):
    def snapshot():
        return list(
            ArtifactActivity.objects.order_by("id").values_list("status", "priority", "next_retry_at")
        )

    before = snapshot()
    response = post(viewer_client, f"/activity/activities/action/{action}/", scope="filtered", q="PROJ")
    assert response.status_code == 403
    assert snapshot() == before


def test_viewers_see_no_action_buttons(viewer_client, ledger):
    body = viewer_client.get("/activity/activities/failed/").content.decode()
    assert "Result 1 - 25 of 600" in body
    assert 'data-action="ignore"' not in body and "Bulk actions" not in body


def test_actions_are_logged_with_the_user(admin_client, ledger, caplog):
    with caplog.at_level(logging.INFO, logger="hub.activity"):
        post(admin_client, "/activity/activities/action/ignore/", ids=ledger["failed"][7].pk)
    assert "ada: ignored 1 artifact activities" in caplog.text


def test_auto_retry_switch_is_stored_and_shown(admin_client, ledger):
    response = post(admin_client, "/activity/auto-retry/", enabled="on")
    assert LedgerSettings.get().auto_retry_ignored
    assert "checked" in response.content.decode()
    post(admin_client, "/activity/auto-retry/")
    assert not LedgerSettings.get().auto_retry_ignored
    assert 'data-testid="auto-retry"' in admin_client.get("/activity/activities/ignored/").content.decode()
