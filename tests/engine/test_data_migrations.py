"""Per-integration data migrations after an upgrade, and the Upgrade Backup Files they make
necessary (Settings → Advanced; seed 1450-1488, 6514-6519): each integration is migrated by its own
Integration Data Migration job while the others run; what those synchronized meanwhile is written
to an upgrade backup file, which, uploaded after restoring an older backup, keeps Hub from creating
those twins a second time. The configuration history's own migration job, while the History screen
waits. The codes: 66003W, 1414I, 0006W, 0006E, 22001E, 0005E, 0001E (retried), 17030W, 30021E.

Nothing here depends on the database engine (plain ORM reads and writes): ONCE_IS_ENOUGH."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activity import jobs, services
from activity.blockers import blocks_integration
from activity.models import AppliedDataMigration, ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from hub.addresses import MASK as URL_MASK
from hub.fields import MASK
from hub.models import ConfigurationChange
from integrations import data_migrations, history_migrations, upgrade_backup
from integrations.models import ChangeWatermark, Integration
from tests.activity import factories
from tests.engine.sync import items, new_item, run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.HUB_HOME = tmp_path
    return tmp_path


@pytest.fixture
def other(running):
    """A second integration (stopped) that the upgrade also has to migrate."""
    return Integration.objects.create(
        name="Alpha ↔ Beta (second)", collection_a=running.collection_a, collection_b=running.collection_b
    )


def job_of(integration) -> BackgroundJob:
    return BackgroundJob.objects.get(kind=BackgroundJob.Kind.DATA_MIGRATION, integration_id=integration.pk)


def blocker_of(integration) -> Blocker | None:
    return Blocker.objects.filter(key=data_migrations.blocker_key(integration.pk)).first()


def one_way_comments(pair: ArtifactPair) -> None:
    """A pair as an older version wrote it: its comment twins recorded in one direction only."""
    ArtifactPair.objects.filter(pk=pair.pk).update(comment_map={"A:1": "B:7", "A:2": ""})


def test_each_integration_is_migrated_by_its_own_job_and_the_file_keeps_what_ran_meanwhile(running, other):
    new_item("alpha", "DEMO", "Before the upgrade", priority="high")
    run(running)
    old_pair = ArtifactPair.objects.get(integration_id=running.pk)
    one_way_comments(old_pair)
    written_by_engine = ArtifactPair.objects.get(pk=old_pair.pk).updated

    planned = data_migrations.plan()

    assert {job.integration_id for job in planned} == {running.pk, other.pk}
    assert blocker_of(running).code == blocker_of(other).code == "CCRRTT-66003W"
    assert blocks_integration(running.pk) and blocks_integration(other.pk)
    assert data_migrations.plan() == []  # a second start during the upgrade queues nothing twice

    finished = jobs.execute(job_of(running).pk)

    assert finished.status == BackgroundJob.Status.COMPLETED, finished.message
    migrated = ArtifactPair.objects.get(pk=old_pair.pk)
    assert migrated.comment_map == {"A:1": "B:7", "B:7": "A:1", "A:2": ""}
    assert migrated.updated == written_by_engine  # the rewrite is not taken for a synchronization
    assert finished.details["migrations"] == {"0001_maps_both_ways": 1}
    # The migrated integration runs on while the other still waits for its job.
    assert not blocks_integration(running.pk) and blocks_integration(other.pk)
    new_item("alpha", "DEMO", "Synchronized during the upgrade", priority="high")
    run(running)
    assert len(items("beta", "WEB")) == 2
    assert upgrade_backup.files() == []  # written when the upgrade's last job ends

    assert jobs.execute(job_of(other).pk).status == BackgroundJob.Status.COMPLETED
    assert not Blocker.objects.filter(code__in=["CCRRTT-66003W", "CCRRTT-1414I"]).exists()
    (file,) = upgrade_backup.files()
    document = json.loads(upgrade_backup.path_of(file["name"]).read_text())
    (entry,) = document["integrations"]
    assert entry["id"] == running.pk
    assert [pair["a"]["summary"] for pair in entry["pairs"]] == ["Synchronized during the upgrade"]
    assert entry["watermarks"]
    assert data_migrations.plan() == []  # applied once per integration

    # An older backup is restored: it knows nothing of the pair made during the upgrade.
    during = ArtifactPair.objects.get(a_summary="Synchronized during the upgrade")
    during.delete()
    ChangeWatermark.objects.filter(integration=running).update(position=timezone.now() - timedelta(days=1))
    counts = upgrade_backup.upload(upgrade_backup.path_of(file["name"]).read_bytes())

    assert (counts["pairs_added"], counts["integrations_missing"]) == (1, [])
    assert counts["watermarks_moved"] >= 1
    run(running)
    assert len(items("beta", "WEB")) == 2  # no second twin
    assert ArtifactPair.objects.filter(integration_id=running.pk).count() == 2
    # Uploading the same file again changes nothing and conflicts with nothing.
    assert upgrade_backup.upload(upgrade_backup.path_of(file["name"]).read_bytes())["pairs_added"] == 0


def test_a_schema_upgrade_of_an_existing_database_queues_the_data_migrations(running, monkeypatch):
    from hub import firststart

    monkeypatch.setattr(firststart, "pending_migrations", lambda: (120, 3))  # an existing database, behind
    monkeypatch.setattr(firststart, "call_command", lambda *args, **kwargs: None)
    firststart.migrate()
    assert job_of(running).status == BackgroundJob.Status.PENDING
    assert blocker_of(running).code == "CCRRTT-66003W"


def test_failed_activities_on_a_disabled_repository_stop_the_migration_with_0006E_until_prioritized(running):
    repository = running.collection_b.repository
    repository.enabled = False
    repository.save()
    factories.activities(1, ArtifactActivity.Status.FAILED, integration_id=running.pk)
    (job,) = data_migrations.plan()

    failed = jobs.execute(job.pk)

    assert (failed.status, failed.code) == (BackgroundJob.Status.FAILED, "CCRRTT-0006E")
    assert repository.label in failed.message and failed.next_retry_at is not None
    assert blocker_of(running).code == "CCRRTT-0006E" and blocks_integration(running.pk)
    repository.enabled = True
    repository.save()
    assert services.prioritize_jobs(BackgroundJob.objects.filter(pk=job.pk)) == 1
    assert jobs.run_due_jobs() == [job.pk]
    assert BackgroundJob.objects.get(pk=job.pk).status == BackgroundJob.Status.COMPLETED
    assert blocker_of(running) is None
    assert AppliedDataMigration.objects.filter(integration_id=running.pk).count() == len(
        data_migrations.REGISTRY
    )


def test_a_migration_stopped_by_a_shutdown_says_0006W_and_resumes_by_itself(running):
    (job,) = data_migrations.plan()
    BackgroundJob.objects.filter(pk=job.pk).update(
        status="processing", details={"worker": "killed.example:1:0"}
    )

    jobs.run_due_jobs()

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.COMPLETED
    assert any(line["message"].startswith("CCRRTT-0006W") for line in job.log)
    assert upgrade_backup.files() == []  # nothing synchronized during this upgrade: no file to keep


def test_pairs_of_integrations_that_no_longer_exist_are_deleted_with_22001E(running):
    factories.pairs(3, integration_id=987_654)
    data_migrations.plan()
    assert not ArtifactPair.objects.filter(integration_id=987_654).exists()
    blocker = Blocker.objects.get(key=data_migrations.ORPHANS_KEY)
    assert (blocker.code, blocker.kind) == ("CCRRTT-22001E", Blocker.Kind.ACKNOWLEDGE)
    assert "3 artifact pairs" in blocker.message


def test_a_conflicting_pair_aborts_the_upload_with_0005E_and_applies_nothing(running):
    new_item("alpha", "DEMO", "Paired", priority="high")
    run(running)
    pair = ArtifactPair.objects.get()
    path = upgrade_backup.write(timezone.now() - timedelta(minutes=1))
    document = json.loads(path.read_text())
    document["integrations"][0]["pairs"].append(
        {
            **document["integrations"][0]["pairs"][0],
            "b": {**document["integrations"][0]["pairs"][0]["b"], "artifact_id": "elsewhere"},
        }
    )
    ArtifactPair.objects.filter(pk=pair.pk).update(a_summary="unchanged")

    with pytest.raises(jobs.JobFailed) as refused:
        upgrade_backup.upload(json.dumps(document).encode())

    assert refused.value.code == "CCRRTT-0005E" and "Nothing was applied" in refused.value.message
    assert ArtifactPair.objects.get().a_summary == "unchanged"


def test_the_screen_lists_downloads_deletes_and_uploads_upgrade_backup_files(
    admin_client, viewer, running, settings
):
    settings.HUB_UPGRADE_BACKUPS_KEPT = 2
    now = timezone.now()
    for hours in (3, 2, 1):
        upgrade_backup.write(now - timedelta(hours=hours))
    names = [item["name"] for item in upgrade_backup.files()]
    assert len(names) == 2  # the oldest went: retention
    as_viewer = Client()  # admin_client and viewer_client are one client
    as_viewer.force_login(viewer)
    assert as_viewer.get(reverse("settings-upgrade-backup-download", args=[names[0]])).status_code == 403

    page = admin_client.get(reverse("settings-advanced")).content.decode()
    assert all(name in page for name in names) and 'data-testid="upgrade-backup-upload"' in page
    download = admin_client.get(reverse("settings-upgrade-backup-download", args=[names[0]]))
    assert (
        download.status_code == 200
        and json.loads(b"".join(download.streaming_content))["format"] == "hub-upgrade-backup"
    )
    assert (
        admin_client.get(
            reverse("settings-upgrade-backup-download", args=["..%2Fhub.properties"])
        ).status_code
        == 404
    )

    admin_client.post(reverse("settings-upgrade-backup-delete", args=[names[1]]))
    assert [item["name"] for item in upgrade_backup.files()] == names[:1]

    with upgrade_backup.path_of(names[0]).open("rb") as file:
        applied = admin_client.post(reverse("settings-upgrade-backup-upload"), {"file": file}, follow=True)
    assert "The upgrade backup file was imported" in applied.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("notes.json", b'{"format": "something else"}', content_type="application/json")
    refused = admin_client.post(reverse("settings-upgrade-backup-upload"), {"file": bad}, follow=True)
    assert (
        "CCRRTT-30002E" in refused.content.decode()
        and "not an upgrade backup file" in refused.content.decode()
    )


def failing_once(error: str):
    """A registered migration that raises ``error`` the first time it runs (a bug, a lost
    connection) and succeeds after; and the list of its calls."""
    calls = []

    def apply(*integration_id) -> int:
        calls.append(integration_id)
        if len(calls) == 1:
            raise RuntimeError(error)
        return 0

    return apply, calls


def test_an_unexpected_failure_0001E_is_retried_and_prioritized_like_the_others(
    admin_client, running, monkeypatch
):
    """A migration that fails unexpectedly (a bug, a lost connection) is not left failed for good:
    its integration would wait for ever. It is retried on the schedule, without end, and
    Prioritize on Background Jobs runs it at once."""
    fails, calls = failing_once("connection to the database lost")
    monkeypatch.setitem(
        data_migrations.REGISTRY,
        "9999_fails_once",
        data_migrations.DataMigration("9999_fails_once", "Fails once", fails),
    )
    (job,) = data_migrations.plan()

    failed = jobs.execute(job.pk)

    assert (failed.status, failed.code) == (BackgroundJob.Status.FAILED, "CCRRTT-0001E")
    assert failed.next_retry_at is not None and "Prioritize" in failed.message
    assert blocker_of(running).code == "CCRRTT-0001E" and blocks_integration(running.pk)
    # Retries never run out for this kind: the last interval repeats.
    BackgroundJob.objects.filter(pk=job.pk).update(retry_count=len(jobs.RETRY_DELAYS) + 3)
    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.PENDING)
    calls.clear()
    again = jobs.execute(job.pk)
    assert again.code == "CCRRTT-0001E"
    assert again.next_retry_at - again.finished == jobs.RETRY_DELAYS[-1]

    page = admin_client.get(reverse("activity-list", args=["jobs", "failed"])).content.decode()
    assert 'data-action="prioritize"' in page and "CCRRTT-0001E" in page

    assert services.prioritize_jobs(BackgroundJob.objects.filter(pk=job.pk)) == 1
    assert jobs.run_due_jobs() == [job.pk]
    assert BackgroundJob.objects.get(pk=job.pk).status == BackgroundJob.Status.COMPLETED
    assert blocker_of(running) is None and not blocks_integration(running.pk)


def test_other_kinds_still_end_failed_for_good_on_an_unexpected_error(monkeypatch):
    from integrations.route_move import RouteMove

    monkeypatch.setattr(RouteMove, "run", lambda self, **_: 1 / 0)
    job = RouteMove.enqueue(name="Move routes", parameters={})
    failed = jobs.execute(job.pk)
    assert (failed.code, failed.next_retry_at) == ("CCRRTT-0001E", None)


def recorded_under_older_rules(**values) -> ConfigurationChange:
    """A history entry as an older version recorded it: written as given, not through hub.audit."""
    return ConfigurationChange.objects.create(
        source="console", action="update", element_type="repository", element_name="Alpha", **values
    )


def test_the_history_migration_job_makes_history_say_30021E_and_its_export_17030W_until_done(
    admin_client, running
):
    entry = recorded_under_older_rules(
        before={"label": "Alpha", "api_key": "old-key-1"},
        after={"label": "Alpha", "url": "https://hub:s3cret@tracker.example/"},
    )

    job = history_migrations.plan()

    assert job is not None and job.kind == BackgroundJob.Kind.HISTORY_MIGRATION
    assert history_migrations.plan() is None  # a second start during the upgrade queues nothing twice
    page = admin_client.get(reverse("history"))
    assert page.status_code == 503 and page["Retry-After"]
    assert "CCRRTT-30021E" in page.content.decode() and "old-key-1" not in page.content.decode()
    export = admin_client.post(reverse("history-export"), {"all": "1"})
    assert export.status_code == 503 and "CCRRTT-17030W" in export.content.decode()
    # Configuration history is not operational data: the integrations run on meanwhile.
    assert not blocks_integration(running.pk)
    new_item("alpha", "DEMO", "Synchronized while the history migrates", priority="high")
    run(running)
    assert len(items("beta", "WEB")) == 1

    done = jobs.execute(job.pk)

    assert done.status == BackgroundJob.Status.COMPLETED, done.message
    assert done.details["migrations"] == {"0001_redact_history": 1}
    entry.refresh_from_db()
    assert entry.before == {"label": "Alpha", "api_key": MASK}
    assert entry.after == {"label": "Alpha", "url": f"https://hub:{URL_MASK}@tracker.example/"}
    page = admin_client.get(reverse("history"))
    assert page.status_code == 200 and 'data-testid="history"' in page.content.decode()
    export = admin_client.post(reverse("history-export"), {"all": "1"})
    assert export.status_code == 200 and export["Content-Type"] == "application/zip"
    assert history_migrations.plan() is None  # applied once


def test_an_interrupted_history_migration_resumes_and_a_failed_one_is_prioritized(running, monkeypatch):
    recorded_under_older_rules(before={"password": "plain"})
    job = history_migrations.plan()
    interrupted = {"status": "processing", "details": {"worker": "gone.example:1:0"}}
    BackgroundJob.objects.filter(pk=job.pk).update(**interrupted)
    fails, _ = failing_once("disk I/O error")
    monkeypatch.setitem(
        history_migrations.REGISTRY,
        "9999_fails_once",
        history_migrations.HistoryMigration("9999_fails_once", "Fails once", fails),
    )
    BackgroundJob.objects.filter(pk=job.pk).update(
        parameters={"migrations": ["0001_redact_history", "9999_fails_once"]}
    )

    jobs.run_due_jobs()  # the shutdown is found (0006W), the job resumes and then fails: 0001E

    job.refresh_from_db()
    assert any(line["message"].startswith("CCRRTT-0006W") for line in job.log)
    assert (job.status, job.code) == (BackgroundJob.Status.FAILED, "CCRRTT-0001E")
    assert job.next_retry_at is not None and history_migrations.migrating()
    assert services.prioritize_jobs(BackgroundJob.objects.filter(pk=job.pk)) == 1
    assert jobs.run_due_jobs() == [job.pk]
    assert BackgroundJob.objects.get(pk=job.pk).status == BackgroundJob.Status.COMPLETED
    assert not history_migrations.migrating() and history_migrations.pending() == []


def test_an_empty_history_is_marked_migrated_without_a_job():
    assert history_migrations.plan() is None
    assert history_migrations.pending() == [] and not history_migrations.migrating()


def test_while_its_job_rewrites_an_integration_shows_1414I(running, monkeypatch):
    seen = []

    def records_the_blocker(integration_id: int) -> int:
        seen.append(blocker_of(running).code)
        return 0

    monkeypatch.setitem(
        data_migrations.REGISTRY,
        "9999_observes",
        data_migrations.DataMigration("9999_observes", "Observes", records_the_blocker),
    )
    (job,) = data_migrations.plan()
    assert blocker_of(running).code == "CCRRTT-66003W"  # waiting for its job
    assert jobs.execute(job.pk).status == BackgroundJob.Status.COMPLETED
    assert seen == ["CCRRTT-1414I"] and blocker_of(running) is None
