"""The artifact pair import reads its upload within limits, refuses wrong shapes by pair number,
writes all or nothing, and keeps no upload it does not apply."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activity import jobs, pair_transfer
from activity.models import ArtifactPair, BackgroundJob
from hub import uploads
from tests.hub.test_uploads import zipped


def pair_export(pairs) -> bytes:
    return json.dumps({"format": pair_transfer.FORMAT, "version": 1, "pairs": pairs}).encode()


def upload_pairs(client, content: bytes, name="pairs.json"):
    return client.post(
        "/activity/pairs/import/", {"integration": 1, "file": SimpleUploadedFile(name, content)}
    )


@pytest.fixture
def import_dir():
    return pair_transfer.transfer_dir("import")


@pytest.mark.django_db
def test_the_pair_import_refuses_a_zip_holding_200_mb_in_bounded_memory(
    admin_client, integrations_running, import_dir, monkeypatch
):
    monkeypatch.setattr(pair_transfer, "ZIP_LIMITS", uploads.ZipLimits(10**8, 10**8, 10**8, 16))
    monkeypatch.setattr(pair_transfer, "MAX_JSON_BYTES", 10**8)
    content = zipped(
        {
            "artifact-pairs.json": b'{"format": "hub-artifact-pairs", "version": 1, "pairs": ['
            + b" " * (200 * 1024 * 1024)
            + b"]}"
        }
    )
    response = upload_pairs(admin_client, content, "pairs.zip")
    assert response.status_code == 200 and "CCRRTT-30002E" in response.content.decode()
    assert "unpacks to more than" in response.content.decode()
    assert not list(import_dir.glob("*")) and not BackgroundJob.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("entries", [[1], ["x"], [None], [[]]])
def test_pair_entries_that_are_not_objects_are_refused_not_a_server_error(
    admin_client, integrations_running, import_dir, entries
):
    response = upload_pairs(admin_client, pair_export(entries))
    assert response.status_code == 200 and "Pair 1 is not an object." in response.content.decode()
    assert not list(import_dir.glob("*"))


@pytest.mark.django_db
def test_pair_json_nested_100000_deep_is_refused_not_a_server_error(
    admin_client, integrations_running, import_dir
):
    deep = (
        b'{"format": "hub-artifact-pairs", "version": 1, "pairs": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    )
    response = upload_pairs(admin_client, deep)
    assert response.status_code == 200 and "nested deeper than 64 levels" in response.content.decode()
    assert not list(import_dir.glob("*"))


@pytest.mark.django_db
def test_a_field_too_long_for_the_database_is_refused_by_pair_number(admin_client, integrations_running):
    pairs = [
        {"a": {"artifact_id": "1"}, "b": {"artifact_id": "2"}},
        {"a": {"artifact_id": "x" * 300}, "b": {"artifact_id": "3"}},
    ]
    response = upload_pairs(admin_client, pair_export(pairs))
    assert "Pair 2: A artifact_id is not text of at most 255" in response.content.decode()


@pytest.mark.django_db
def test_an_import_job_that_fails_removes_its_upload_and_writes_nothing(
    admin_client, integrations_running, import_dir
):
    ArtifactPair.objects.create(integration_id=1, a_artifact_id="1", b_artifact_id="9")
    pairs = [{"a": {"artifact_id": str(n)}, "b": {"artifact_id": str(100 + n)}} for n in range(2, 4000)]
    pairs.append({"a": {"artifact_id": "1"}, "b": {"artifact_id": "500"}})  # conflicts, found last
    assert upload_pairs(admin_client, pair_export(pairs)).status_code == 302
    jobs.run_due_jobs()
    job = BackgroundJob.objects.get(kind="pair_import")
    assert job.status == "failed" and job.code == "CCRRTT-0005E"
    assert ArtifactPair.objects.count() == 1  # the 3,998 written before the conflict were rolled back
    assert not list(import_dir.glob("*"))


@pytest.mark.django_db
def test_an_applied_import_removes_its_upload(admin_client, integrations_running, import_dir):
    pairs = [{"a": {"artifact_id": "1"}, "b": {"artifact_id": "2"}, "last_synced_at": None}]
    assert upload_pairs(admin_client, pair_export(pairs)).status_code == 302
    jobs.run_due_jobs()
    assert BackgroundJob.objects.get(kind="pair_import").status == "completed"
    assert ArtifactPair.objects.count() == 1 and not list(import_dir.glob("*"))
