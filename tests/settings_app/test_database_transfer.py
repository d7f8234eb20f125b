"""Storage Settings' database transfer from the embedded SQLite database to a real PostgreSQL and
MariaDB server: every table copied with its rows, the vault's data key with them, the switch-over
settings written sealed, and a transfer killed half-way leaving Hub where it was."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import MySQLdb
import pytest
from django.db import OperationalError
from django.utils import timezone

from activity import jobs
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from hub import storage, vault
from hub.models import InstanceLease, MasterKey
from integrations.models import Repository
from settings_app import transfer
from tests.integrations.factories import *  # noqa: F403
from tests.support.server import ServerDatabase

# The transfer starts from the embedded SQLite database, so only the SQLite stage of CI runs these
# (the PostgreSQL and MariaDB servers are the targets in every stage).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("HUB_TEST_DB", "sqlite") != "sqlite", reason="a transfer from SQLite needs SQLite"
    ),
]

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
    from hub.instance import instance_id

    instance = instance_id()
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
    # Values the copy must keep exactly: COPY's text format escapes tabs, newlines and backslashes.
    ArtifactPair.objects.filter(a_artifact_id="0").update(
        a_summary="tab\there\nnew line\\back slash ünïcode",
        a_snapshot={"title": "x\ty", "list": [1, None, "\\N", {"deep": True}], "empty": ""},
        last_synced_at=timezone.now(),
    )
    return integration


def rows_of(alias: str) -> dict[str, list[tuple]]:
    """Every table's rows as tuples in primary-key order (secrets as their tokens)."""

    def plain(value):
        return getattr(value, "token", value)

    found = {}
    for model in transfer.models_in_order():
        names = [f.attname for f in model._meta.concrete_fields if not getattr(f, "generated", False)]
        rows = model._base_manager.using(alias).order_by("pk").values_list(*names)
        found[model._meta.db_table] = [tuple(plain(value) for value in row) for row in rows]
    return found


def run_transfer(stored: storage.StorageSettings, **parameters) -> BackgroundJob:
    job = transfer.start_transfer(stored, vault.encrypt("", transfer.PENDING_CONTEXT), "admin")
    if parameters:
        BackgroundJob.objects.filter(pk=job.pk).update(parameters={**job.parameters, **parameters})
    return jobs.execute(job.pk)


def test_transfer_copies_every_table_and_the_data_key(populated, target, hub_home, settings):
    job = run_transfer(target)

    assert job.status == BackgroundJob.Status.COMPLETED, job.message
    alias = transfer.open_alias(target.database(""), "check")
    try:
        assert transfer.row_counts(alias) == transfer.row_counts("default")
        assert ArtifactPair.objects.using(alias).count() == PAIRS
        copied, original = rows_of(alias), rows_of("default")
        # The job's own row goes on changing (its log, its status) after it was copied, and so does
        # the heartbeat of the process running it (every log line and progress step beats).
        still_moving = {"activity_backgroundjob", "integrations_workerheartbeat"}
        differing = [t for t in original if copied[t] != original[t] and t not in still_moving]
        assert not differing, {table: (original[table][:2], copied[table][:2]) for table in differing}
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

    # A process started now (as runhub restarts them) opens the external database and reads secrets.
    home = _hub_copy(hub_home, settings, settings.HUB_MASTER_KEY_FILE)
    switched = _python(
        home,
        "from django.db import connection; from integrations.models import Repository\n"
        "print(connection.vendor, Repository.objects.get(label='Alpha').password.reveal())",
        stdout=subprocess.PIPE,
    )
    out, _ = switched.communicate(timeout=60)
    assert out.decode().split() == [
        {"postgresql": "postgresql", "mysql": "mysql"}[target.kind],
        REPOSITORY_PASSWORD,
    ]


def test_unreadable_database_settings_stop_the_start_with_30020E(tmp_path):
    (tmp_path / storage.FILE_NAME).write_text("{not json")
    env = {**os.environ, "HUB_HOME": str(tmp_path)}
    env.pop("HUB_TEST_DB", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "CCRRTT-30020E" in result.stderr and "Traceback" not in result.stderr


def _hub_copy(home: Path, settings, master_file: Path) -> Path:
    """This test's Hub as a real data directory another process can run on: the test database
    copied into HUB_HOME/hub.sqlite3 with the same instance id, signing key and master password file."""
    from django.db import connection

    connection.ensure_connection()
    with sqlite3.connect(home / "hub.sqlite3") as copy:
        connection.connection.backup(copy)
    (home / "secret.key").write_text(settings.SECRET_KEY)
    (home / "hub.properties").write_text(f"hub.security.masterPasswordFile={master_file}\n")
    return home


def _python(home: Path, code: str, **options) -> subprocess.Popen:
    env = {**os.environ, "HUB_HOME": str(home), "DJANGO_SETTINGS_MODULE": "hub.settings"}
    env.pop("HUB_TEST_DB", None)
    script = f"import django; django.setup()\n{code}"
    return subprocess.Popen([sys.executable, "-c", script], env=env, cwd=Path(__file__).parents[2], **options)


def _job_row(home: Path, job_id: int) -> tuple[str, int, dict]:
    with sqlite3.connect(home / "hub.sqlite3") as db:
        status, progress, details = db.execute(
            "SELECT status, progress, details FROM activity_backgroundjob WHERE id = ?", (job_id,)
        ).fetchone()
    return status, progress, json.loads(details)


@pytest.mark.slow
def test_a_transfer_killed_half_way_leaves_hub_on_sqlite_and_a_second_one_succeeds(
    populated, target, hub_home, settings
):
    token = vault.encrypt("", transfer.PENDING_CONTEXT)
    job = transfer.start_transfer(target, token, "admin")
    BackgroundJob.objects.filter(pk=job.pk).update(parameters={**job.parameters, "batch_size": 5})
    home = _hub_copy(hub_home, settings, settings.HUB_MASTER_KEY_FILE)
    worker = _python(home, f"from activity import jobs; jobs.execute({job.pk})")
    deadline = time.monotonic() + 60
    try:
        while not _job_row(home, job.pk)[2].get("tables_copied"):  # migrated, copying rows one by one
            assert worker.poll() is None and time.monotonic() < deadline, "the transfer ended before the kill"
            time.sleep(0.05)
    finally:
        worker.kill()
        worker.wait()

    assert not (home / storage.FILE_NAME).exists()  # Hub starts on SQLite as before
    status, _progress, details = _job_row(home, job.pk)
    assert status == "processing" and details["tables_copied"]
    with sqlite3.connect(home / "hub.sqlite3") as db:  # its heartbeat went silent long ago
        db.execute(
            "UPDATE activity_backgroundjob SET details = ? WHERE id = ?",
            (json.dumps({**details, "heartbeat": 0}), job.pk),
        )
    second = _python(
        home,
        "from hub import vault; from settings_app import transfer; from activity import jobs\n"
        "from activity.models import Blocker\n"
        "from activity.blockers import blocks_all\n"
        # Integrations stayed paused by the killed transfer until it is found dead.
        "assert Blocker.objects.get(key=transfer.BLOCKER_KEY).code == 'CCRRTT-30011E' and blocks_all()\n"
        f"stored = transfer.storage.StorageSettings"
        f"({target.kind!r}, {target.location!r}, {target.username!r})\n"
        "job = transfer.start_transfer(stored, vault.encrypt('', transfer.PENDING_CONTEXT), 'admin')\n"
        "job = jobs.execute(job.pk)\n"
        "assert job.status == 'completed', job.message\n"
        "assert not Blocker.objects.filter(key=transfer.BLOCKER_KEY).exists()\n",
    )
    assert second.wait(timeout=120) == 0
    first_status, _, _ = _job_row(home, job.pk)
    assert first_status == "failed"
    assert storage.read_file(home)[0].location == target.location
    alias = transfer.open_alias(target.database(""), "check")
    try:
        assert ArtifactPair.objects.using(alias).count() == PAIRS
    finally:
        transfer.close_alias(alias)


# MariaDB only: the PostgreSQL server here trusts local connections, so no password is ever wrong.
@pytest.mark.parametrize("target", ["mariadb"], indirect=True)
def test_a_failed_connection_backs_off_then_recovers(target, settings, hub_home):
    """A wrong password starts the backoff: no process connects, whatever the password, until the
    interval has passed; health says so; Test Connection still works; then Hub connects again."""
    from django.db.utils import load_backend

    from hub import health

    user, password = "hub_backoff", "Right-password-3f9a"
    name = target.location.rsplit("/", 1)[1]
    admin = MySQLdb.connect(host="127.0.0.1", user="root")
    try:
        admin.cursor().execute(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'")
        admin.cursor().execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
        stored = storage.StorageSettings("mysql", target.location, user)
        settings.HUB_DATABASE_BACKOFF_SECONDS = 1.0

        def connect(with_password: str) -> None:
            database = connections_defaults(stored.database(with_password))
            wrapper = load_backend(database["ENGINE"]).DatabaseWrapper(database, "default")
            try:
                wrapper.ensure_connection()
            finally:
                wrapper.close()

        with pytest.raises(OperationalError):
            connect("wrong")
        with pytest.raises(OperationalError, match="CCRRTT-30009E.*Backoff Interval"):
            connect(password)  # refused without asking the server: that would count as another failure
        check = health.report()[0]["checks"]["databaseIsAvailable"]
        assert check["status"] == "fail" and "Backoff Interval" in check["reason"]
        assert all(result["ok"] for result in transfer.test_connection(stored, password))
        deadline = time.monotonic() + 10
        while storage.backoff_state(storage.run_dir()) is not None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        connect(password)
        assert health.report()[0]["checks"]["databaseIsAvailable"]["status"] == "pass"
    finally:
        admin.cursor().execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()


def connections_defaults(database: dict) -> dict:
    from django.db import DEFAULT_DB_ALIAS, connections

    return connections.configure_settings({DEFAULT_DB_ALIAS: dict(database)})[DEFAULT_DB_ALIAS]


def test_a_new_master_password_keeps_the_sealed_database_password_readable(master_password, hub_home):
    stored = storage.StorageSettings("postgresql", "postgres://db.example.com:5432/hub", "hub")
    storage.write_file(hub_home, stored, vault.seal_outside("Db-secret-77", storage.PASSWORD_CONTEXT))
    assert "Db-secret-77" not in (hub_home / storage.FILE_NAME).read_text()

    vault.change_master_password(master_password, "second master password")

    vault.forget_unlocked_keys()  # as a process starting now, with the new master password file
    assert vault.unseal_outside(storage.read_file(hub_home)[1], storage.PASSWORD_CONTEXT) == "Db-secret-77"


def test_tables_are_copied_parents_first_and_watermarks_before_activities():
    order = [model._meta.label for model in transfer.models_in_order()]
    position = {label: n for n, label in enumerate(order)}
    assert position["integrations.ChangeWatermark"] < position["activity.ArtifactActivity"]
    for model in transfer.models_in_order():
        for field in model._meta.concrete_fields:
            target = field.remote_field.model if field.remote_field else None
            if target is not None and target is not model and target._meta.label in position:
                assert position[target._meta.label] < position[model._meta.label], (model, target)


def test_a_database_another_instance_owns_is_never_emptied(populated, target, hub_home):
    alias = transfer.open_alias(target.database(""), "check")
    try:
        run_transfer(target, switch=False)  # migrated, and holding this instance's copied rows
        now = timezone.now()
        InstanceLease.objects.using(alias).create(
            instance_id="another-instance", host="elsewhere", started=now, heartbeat=now
        )
        pairs_there = ArtifactPair.objects.using(alias).count()

        job = run_transfer(target)

        assert job.status == BackgroundJob.Status.FAILED and job.code == "CCRRTT-30012E", job.message
        assert ArtifactPair.objects.using(alias).count() == pairs_there
        assert not (hub_home / storage.FILE_NAME).exists()
        assert not Blocker.objects.filter(key=transfer.BLOCKER_KEY).exists()
    finally:
        InstanceLease.objects.using(alias).all().delete()
        transfer.close_alias(alias)
