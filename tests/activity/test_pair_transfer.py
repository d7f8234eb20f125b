"""Export of artifact pairs to a zip with one JSON file, and import of it into another integration."""

import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activity import jobs, pair_transfer
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob
from tests.activity import factories

pytestmark = pytest.mark.django_db


def run_pending_jobs():
    return jobs.run_due_jobs()


def export(admin_client, *integration_ids) -> BackgroundJob:
    response = admin_client.post("/activity/pairs/export/", {"integrations": list(integration_ids)})
    assert response.status_code == 302, response.content.decode()
    run_pending_jobs()
    return BackgroundJob.objects.filter(kind="pair_export").latest("id")


def downloaded(admin_client, job) -> bytes:
    response = admin_client.get(f"/activity/jobs/{job.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def upload(admin_client, integration_id, content: bytes, name="pairs.zip"):
    return admin_client.post(
        "/activity/pairs/import/",
        {"integration": integration_id, "file": SimpleUploadedFile(name, content)},
    )


def test_export_then_import_into_another_integration_recreates_every_pair(admin_client, integrations_running):
    factories.pairs(1500)  # 500 per integration
    ArtifactPair.objects.filter(integration_id=3).update(comment_map={"A:5": "B:9"})
    job = export(admin_client, 3)
    assert job.status == "completed", job.message
    assert job.details["pairs"] == 500 and 3 in integrations_running  # the integration was stopped first
    content = downloaded(admin_client, job)
    with zipfile.ZipFile(__import__("io").BytesIO(content)) as archive:
        assert len(archive.namelist()) == 1
        data = json.loads(archive.read(archive.namelist()[0]))
    assert data["format"] == "hub-artifact-pairs" and len(data["pairs"]) == 500

    response = upload(admin_client, 2, content)
    assert response.status_code == 302, response.content.decode()
    run_pending_jobs()
    imported = BackgroundJob.objects.get(kind="pair_import")
    assert imported.status == "completed", imported.message
    assert imported.details == {"imported": 500, "unchanged": 0}
    source = {
        (p.a_artifact_id, p.b_artifact_id, p.a_summary) for p in ArtifactPair.objects.filter(integration_id=3)
    }
    copied = {
        (p.a_artifact_id, p.b_artifact_id, p.a_summary)
        for p in ArtifactPair.objects.filter(integration_id=2)
        if p.a_artifact_id in {s[0] for s in source}
    }
    assert copied == source
    # Compared in Python: MariaDB's JSON equality compares the column's text with its own spaced
    # form, which compact JSON (activity.models.CompactJSON) is not.
    sample = next(
        (p for p in ArtifactPair.objects.filter(integration_id=2) if p.comment_map == {"A:5": "B:9"}), None
    )
    assert sample is not None and sample.b_snapshot["Priority"] == "Urgent" and sample.last_synced_at


def test_importing_the_same_file_twice_changes_nothing(admin_client, integrations_running):
    factories.pairs(30, integration_id=3)
    content = downloaded(admin_client, export(admin_client, 3))
    for _ in range(2):
        upload(admin_client, 1, content)
        run_pending_jobs()
    assert ArtifactPair.objects.filter(integration_id=1).count() == 30
    assert BackgroundJob.objects.filter(kind="pair_import").latest("id").details == {
        "imported": 0,
        "unchanged": 30,
    }


def test_import_into_a_stopped_integration_is_refused_with_17023e(admin_client, integrations_running):
    factories.pairs(3, integration_id=3)
    content = downloaded(admin_client, export(admin_client, 3))
    response = upload(admin_client, 3, content)  # 3 is stopped
    assert response.status_code == 200 and "CCRRTT-17023E" in response.content.decode()
    assert not BackgroundJob.objects.filter(kind="pair_import").exists()


def test_an_integration_stopped_after_upload_fails_the_job_with_17023e(admin_client, integrations_running):
    factories.pairs(3, integration_id=3)
    content = downloaded(admin_client, export(admin_client, 3))
    upload(admin_client, 1, content)
    integrations_running.append(1)  # stopped before a worker got to the job
    run_pending_jobs()
    job = BackgroundJob.objects.get(kind="pair_import")
    assert (job.status, job.code) == ("failed", "CCRRTT-17023E")
    assert not ArtifactPair.objects.filter(integration_id=1).exists()


def test_conflicting_associations_abort_the_whole_import_with_0005e(admin_client, integrations_running):
    factories.pairs(10, integration_id=3)
    content = downloaded(admin_client, export(admin_client, 3))
    factories.pairs(1, integration_id=1, a_artifact_id="4", b_artifact_id="somewhere-else")
    upload(admin_client, 1, content)
    run_pending_jobs()
    job = BackgroundJob.objects.get(kind="pair_import")
    assert (job.status, job.code) == ("failed", "CCRRTT-0005E")
    assert "PROJ-4" in job.message and "Nothing was imported" in job.message
    assert ArtifactPair.objects.filter(integration_id=1).count() == 1


def test_a_file_that_is_not_an_export_is_refused_with_its_reason(admin_client, integrations_running):
    response = upload(admin_client, 1, b'{"pairs": []}', name="other.json")
    assert "not an artifact pair export" in response.content.decode()
    response = upload(admin_client, 1, b"not json at all", name="x.json")
    assert "CCRRTT-30002E" in response.content.decode()
    assert not BackgroundJob.objects.exists()


def test_a_plain_json_export_is_accepted_too(admin_client, integrations_running):
    factories.pairs(2, integration_id=3)
    content = downloaded(admin_client, export(admin_client, 3))
    with zipfile.ZipFile(__import__("io").BytesIO(content)) as archive:
        raw = archive.read(archive.namelist()[0])
    assert upload(admin_client, 1, raw, name="pairs.json").status_code == 302


def test_one_export_at_a_time(admin_client, integrations_running):
    BackgroundJob.objects.create(kind="pair_export", name="Export running", status="processing")
    response = admin_client.post("/activity/pairs/export/", {"integrations": [1]})
    assert response.status_code == 200 and "still running" in response.content.decode()


def test_export_waits_for_in_flight_activities_and_gives_up_at_the_deadline(integrations_running):
    factories.activities(1, "processing", integration_id=1)
    job = BackgroundJob.objects.create(
        kind="pair_export", name="Export", parameters={"integration_ids": [1], "timeout": 0}
    )
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "Stop the integration yourself" in job.message
    assert 1 in integrations_running


def test_viewers_cannot_export_or_import(viewer_client):
    assert viewer_client.post("/activity/pairs/export/", {"integrations": [1]}).status_code == 403
    assert viewer_client.post("/activity/pairs/import/", {}).status_code == 403


def test_waiting_polls_until_processing_ends():
    activity = factories.activities(1, "processing", integration_id=1)[0]
    ticks = iter(range(100))

    def clock():
        tick = next(ticks)
        if tick == 1:
            ArtifactActivity.objects.filter(pk=activity.pk).update(status="completed")
        return 0.0

    pair_transfer.wait_for_in_flight([1], timeout=10, clock=clock)


def test_starting_an_export_is_logged_with_the_user(admin_client, integrations_running, caplog):
    factories.pairs(2, integration_id=3)
    with caplog.at_level("INFO", logger="hub.activity"):
        export(admin_client, 3)
    assert "ada: started the export of the artifact pairs of integrations [3]" in caplog.text
