"""Invariant 6: every failure of the engine is on the Activity screen with its code, a specific
message, the related elements and its retry schedule — never only in a log."""

import html
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity, Blocker
from connectors.errors import Overloaded, Unreachable
from connectors.local.connector import LocalConnector
from integrations.engine import detection, mapping, processing
from integrations.models import Repository
from tests.engine.sync import items, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)


def screen(client, url: str) -> str:
    return html.unescape(client.get(url).content.decode())


def failed_activity_on_screen(client) -> tuple[ArtifactActivity, str]:
    failed = ArtifactActivity.objects.get(status="failed")
    return failed, screen(client, "/activity/activities/failed/")


def test_an_unexpected_exception_fails_the_activity_with_0001E_on_the_activity_screen(
    running, admin_client, monkeypatch
):
    real = mapping.to_model

    def broken(lines, fields):
        if fields.get("summary") == "Breaks the mapping":
            raise RuntimeError("the tracker answered something nobody expected")
        return real(lines, fields)

    monkeypatch.setattr(processing.mapping, "to_model", broken)
    new_item("alpha", "DEMO", "Breaks the mapping")
    new_item("alpha", "DEMO", "Goes through")
    run(running)

    assert [twin.summary for twin in items("beta", "WEB")] == ["Goes through"]  # one failure stops no other
    failed, page = failed_activity_on_screen(admin_client)
    assert failed.code == "CCRRTT-0001E"
    assert failed.retry_count == 1 and failed.next_retry_at > timezone.now()
    assert "CCRRTT-0001E" in page
    assert "RuntimeError: the tracker answered something nobody expected" in page
    assert failed.formatted_id and failed.formatted_id in page and "Breaks the mapping" in page
    assert running.name in page and "Alpha defects" in page and "Beta defects" in page  # related elements
    assert "Retried 1 time" in page and failed.next_retry_at.strftime("%Y-%m-%d %H:%M") in page


def test_running_out_of_memory_fails_the_activity_with_0003E_and_retries_it_later(
    running, admin_client, monkeypatch
):
    real = mapping.to_model

    def exhausted(lines, fields):
        if fields.get("summary") == "Too big":
            raise MemoryError()
        return real(lines, fields)

    monkeypatch.setattr(processing.mapping, "to_model", exhausted)
    new_item("alpha", "DEMO", "Too big")
    run(running)
    failed, page = failed_activity_on_screen(admin_client)
    assert failed.code == "CCRRTT-0003E" and "CCRRTT-0003E" in page and "out of memory" in page
    assert failed.next_retry_at > timezone.now()


def test_a_transient_connector_error_is_shown_with_its_code_and_retried_at_the_servers_wait(
    running, admin_client, monkeypatch
):
    def unreachable(self, *args, **kwargs):
        raise Overloaded("Beta is under too much load.", retry_after=600)  # the server asked for 10 min

    monkeypatch.setattr(LocalConnector, "create_artifact", unreachable)
    monkeypatch.setattr(LocalConnector, "create_artifacts", unreachable)
    new_item("alpha", "DEMO", "Waits for beta")
    run(running)

    failed, page = failed_activity_on_screen(admin_client)
    assert (failed.code, failed.retry_count) == (Overloaded.code, 1)
    assert failed.next_retry_at >= timezone.now() + timedelta(seconds=590)
    assert Overloaded.code in page and "Beta is under too much load." in page
    assert "Next retry at" in page


def test_a_failed_change_detection_is_a_blocker_that_stops_nothing_and_clears_itself(
    running, admin_client, monkeypatch
):
    real = LocalConnector.changed_since

    def beta_unreachable(self, *args, **kwargs):
        if self.tracker.name == "beta":
            raise Unreachable("Beta refused the connection.")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LocalConnector, "changed_since", beta_unreachable)
    new_item("alpha", "DEMO", "Detected on the side that answers")
    run(running)

    blocker = Blocker.objects.get(key=detection.failure_key(running.pk, "B"))
    assert blocker.code == Unreachable.code and blocker.integration_ids == [running.pk]
    assert "Beta refused the connection." in blocker.message and "every 60 seconds" in blocker.message
    page = screen(admin_client, "/activity/blockers/")
    assert Unreachable.code in page and "Beta refused the connection." in page
    assert f"/integrations/{running.pk}/" in page and "Repository “Beta”" in page
    assert "Beta refused the connection." in screen(admin_client, f"/integrations/{running.pk}/")
    # It stops nothing: side A was read, and its change was synchronized.
    assert [twin.summary for twin in items("beta", "WEB")] == ["Detected on the side that answers"]

    monkeypatch.setattr(LocalConnector, "changed_since", real)
    run(running)
    assert not Blocker.objects.exists()


def test_an_unexpected_exception_in_change_detection_is_a_0001E_blocker(running, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ValueError("page cursor out of range")

    monkeypatch.setattr(LocalConnector, "changed_since", broken)
    detection.detect(running.pk)
    assert sorted(Blocker.objects.values_list("key", "code")) == [
        (detection.failure_key(running.pk, "A"), "CCRRTT-0001E"),
        (detection.failure_key(running.pk, "B"), "CCRRTT-0001E"),
    ]
    assert "ValueError: page cursor out of range" in Blocker.objects.first().message


def test_an_error_quoting_a_repository_secret_is_shown_and_logged_with_the_secret_masked(
    running, admin_client, monkeypatch, caplog
):
    secret = "s3cret/beta pass"
    beta = Repository.objects.get(label="Beta")
    beta.password = secret
    beta.save()
    real_changed_since = LocalConnector.changed_since

    def leaky(self, *args, **kwargs):  # a library's message quoting the URL it was given
        raise RuntimeError(f"POST https://hub:{quote(secret, safe='')}@beta.example/ refused")

    def beta_leaks(self, *args, **kwargs):
        if self.tracker.name == "beta":
            leaky(self)
        return real_changed_since(self, *args, **kwargs)

    monkeypatch.setattr(LocalConnector, "create_artifact", leaky)
    monkeypatch.setattr(LocalConnector, "create_artifacts", leaky)
    monkeypatch.setattr(LocalConnector, "changed_since", beta_leaks)
    new_item("alpha", "DEMO", "Meets a leaky library")
    with caplog.at_level("ERROR"):
        run(running)

    failed, page = failed_activity_on_screen(admin_client)
    assert failed.message == "RuntimeError: POST https://hub:••••••••@beta.example/ refused"
    blocker = Blocker.objects.get(key=detection.failure_key(running.pk, "B"))
    assert "https://hub:••••••••@beta.example/" in blocker.message
    shown = page + screen(admin_client, "/activity/blockers/") + caplog.text
    assert "https://hub:••••••••@beta.example/" in caplog.text  # the traceback is logged, masked
    assert secret not in shown and quote(secret, safe="") not in shown
