"""Export → import: changes applied in order and matched by name, the first failure stops the import
and offers the rest, bad uploads change nothing, and an integration is reproduced on another
database (SQLite → PostgreSQL) by names alone."""

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hub.models import ConfigurationChange
from integrations import snapshots, transfer
from integrations.models import Integration, Model, Repository, RepositoryCollection
from tests.integrations.screens import create_collection, create_integration, create_model, create_repository

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def built(admin_client, trackers, master_password):
    alpha = create_repository(admin_client, "Alpha", "local://alpha")
    beta = create_repository(admin_client, "Beta", "local://beta")
    model = create_model(admin_client)
    a = create_collection(admin_client, "Alpha defects", alpha, model, "DEMO")
    b = create_collection(admin_client, "Beta defects", beta, model, "WEB")
    return create_integration(admin_client, a, b)


def exported(admin_client) -> bytes:
    response = admin_client.post(reverse("history-export"), {"all": "1"})
    assert response.status_code == 200
    return response.content


def wipe():
    Integration.objects.all().delete()
    RepositoryCollection.objects.all().delete()
    Model.objects.all().delete()
    Repository.objects.all().delete()


def upload(client, data: bytes, name="changes.zip"):
    return client.post(reverse("history-import"), {"file": SimpleUploadedFile(name, data, "application/zip")})


def test_import_through_the_screens_reproduces_the_configuration(admin_client, built):
    before = snapshots.snapshot("integration", built)
    data = exported(admin_client)
    wipe()
    response = upload(admin_client, data)
    assert response.status_code == 302
    review = admin_client.get(response["Location"]).content.decode()
    assert "create integration “Alpha ↔ Beta”" in review
    result = admin_client.post(response["Location"]).content.decode()
    assert "Import complete" in result
    integration = Integration.objects.get(name="Alpha ↔ Beta")
    assert snapshots.snapshot("integration", integration) == before
    assert ConfigurationChange.objects.filter(source="import", element_name="Alpha ↔ Beta").exists()


def test_imported_repositories_ask_for_credentials(admin_client, built):
    data = exported(admin_client)
    wipe()
    transfer.apply_changes(transfer.read_zip(data), None)
    assert Repository.objects.get(label="Alpha").needs_new_credentials


def test_an_element_that_already_exists_stops_the_import_and_offers_the_rest(admin_client, built):
    data = exported(admin_client)
    wipe()
    Model.objects.create(name="Defect")
    response = upload(admin_client, data)
    html = admin_client.post(response["Location"]).content.decode()
    assert "Import stopped" in html and "already exists" in html
    assert Repository.objects.count() == 2 and not Integration.objects.exists()
    remaining_url = re.search(r'href="([^"]+)" data-testid="import-remaining"', html).group(1)
    remaining = admin_client.get(remaining_url)
    changes = transfer.read_zip(b"".join(remaining.streaming_content))
    assert changes[0].summary == "create model “Defect”"


def test_an_update_of_a_missing_element_stops_the_import(built):
    changes = [transfer.ExportedChange("update", "model", "Nothing", {}, {"name": "Nothing"})]
    result = transfer.apply_changes(changes, None)
    assert result.failed is changes[0] and "is missing here" in result.reason


def test_a_change_referring_to_a_missing_element_stops_with_17031E(built):
    data = snapshots.snapshot("collection", built.collection_a)
    data["name"], data["repository"] = "Elsewhere", "No such repository"
    result = transfer.apply_changes(
        [transfer.ExportedChange("create", "collection", "Elsewhere", None, data)], None
    )
    assert (
        result.reason.startswith("CCRRTT-17031E")
        and not RepositoryCollection.objects.filter(name="Elsewhere").exists()
    )


def test_a_corrupt_zip_is_refused_and_changes_nothing(admin_client, built):
    count = ConfigurationChange.objects.count()
    html = upload(admin_client, b"PK\x03\x04 not really a zip").content.decode()
    assert "not a zip file" in html
    assert ConfigurationChange.objects.count() == count


def test_a_foreign_zip_is_refused(admin_client, built):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "something else"}))
    assert (
        "not an export of Hub configuration changes"
        in upload(admin_client, buffer.getvalue()).content.decode()
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "no manifest.json" in upload(admin_client, buffer.getvalue()).content.decode()


def test_an_oversized_upload_is_refused(admin_client, built, monkeypatch):
    monkeypatch.setattr(transfer, "MAX_ZIP_BYTES", 1000)
    assert "larger than" in upload(admin_client, b"0" * 2000).content.decode()


def test_a_change_with_an_unknown_action_is_refused(built):
    data = transfer.to_zip([transfer.ExportedChange("settings", "model", "X", None, {})])
    with pytest.raises(transfer.ImportRefused, match="cannot be imported"):
        transfer.read_zip(data)


def test_exports_carry_no_credentials(admin_client, built):
    repository = Repository.objects.get(label="Alpha")
    repository.password = "never-exported"
    repository.save()
    admin_client.post(
        reverse("repository-edit", args=[repository.pk]),
        {
            "label": "Alpha",
            "url": "local://alpha",
            "password": "changed-secret",
            "events_per_minute": "0",
            "enabled": "on",
        },
    )
    assert b"changed-secret" not in exported(admin_client)


# --- two databases ----------------------------------------------------------------------------


def _in_other_hub(home: Path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HUB_HOME": str(home),
        "HUB_DATABASE_URL": database_url,
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("HUB_TEST_DATABASE_NAME", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


SNAPSHOT_SCRIPT = (
    "import json; from integrations.snapshots import snapshot; "
    "from integrations.models import Integration; i = Integration.objects.get(name='Alpha ↔ Beta'); "
    "print(json.dumps({'integration': snapshot('integration', i), "
    "'mapping': snapshot('mapping', i.collection_a)}))"
)


@pytest.fixture
def postgres_hub(tmp_path):
    from tests.support.server import ServerDatabase

    database = ServerDatabase("postgres")
    database.create()
    home = tmp_path / "other-hub"
    home.mkdir()
    migrated = _in_other_hub(home, database.url, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    yield home, database.url
    database.drop()


def _reproduced(home, url) -> dict:
    shown = _in_other_hub(home, url, "shell", "-c", SNAPSHOT_SCRIPT)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout.strip().splitlines()[-1])  # after the shell's own notice


def test_round_trip_to_postgresql_reproduces_the_integration_by_names(
    admin_client, built, postgres_hub, tmp_path
):
    home, url = postgres_hub
    archive = tmp_path / "changes.zip"
    archive.write_bytes(exported(admin_client))
    imported = _in_other_hub(home, url, "import_configuration", str(archive))
    assert imported.returncode == 0, imported.stderr
    assert _reproduced(home, url) == {
        "integration": snapshots.snapshot("integration", built),
        "mapping": snapshots.snapshot("mapping", built.collection_a),
    }


def test_round_trip_with_a_failing_change_in_the_middle_then_the_rest(
    admin_client, built, postgres_hub, tmp_path
):
    home, url = postgres_hub
    archive, rest = tmp_path / "changes.zip", tmp_path / "rest.zip"
    archive.write_bytes(exported(admin_client))
    blocked = _in_other_hub(
        home, url, "shell", "-c", "from integrations.models import Model; Model.objects.create(name='Defect')"
    )
    assert blocked.returncode == 0, blocked.stderr
    stopped = _in_other_hub(home, url, "import_configuration", str(archive), "--remaining", str(rest))
    assert stopped.returncode != 0 and "model “Defect” already exists" in stopped.stderr
    assert transfer.read_zip(rest.read_bytes())[0].summary == "create model “Defect”"
    _in_other_hub(
        home, url, "shell", "-c", "from integrations.models import Model; Model.objects.all().delete()"
    )
    finished = _in_other_hub(home, url, "import_configuration", str(rest))
    assert finished.returncode == 0, finished.stderr
    assert _reproduced(home, url)["integration"] == snapshots.snapshot("integration", built)
