"""Configuration migrations after an upgrade (seed 1452-1453, 1523, 1736): a collection whose
configuration cannot be migrated shows on Activity → Issues as a configuration migration issue with
Retry; it blocks the integrations that use it, the others go on; Retry reruns the migration once
the cause is resolved, and success clears it. The real migration: mapping lines that lack the type
of a repository field get it from the live schema (``0001_repository_field_types``).

The rewrite is a JSON column update through the ORM, checked on every engine (MariaDB included)."""

import pytest

from activity import jobs
from activity.blockers import blocks_integration
from activity.models import ArtifactPair, BackgroundJob, Blocker
from connectors.local import service
from hub import firststart
from integrations import configuration_migrations
from integrations.models import FieldMapping, Repository
from tests.engine.sync import items, new_item, run
from tests.integrations.factories import mapped_collection, running_integration

pytestmark = [pytest.mark.django_db, pytest.mark.mariadb]

MIGRATION = "0001_repository_field_types"


@pytest.fixture
def unrelated(running, model, repositories):
    """An integration over other collections (Gamma OPS ↔ Beta OPS), running: not concerned."""
    _, beta = repositories
    service.create_project(service.tracker("gamma"), "OPS", "Operations")
    service.create_project(service.tracker("beta"), "OPS", "Operations")
    gamma = Repository.objects.create(label="Gamma", kind="local", url="local://gamma")
    return running_integration(
        "Operations",
        mapped_collection("Gamma operations", gamma, "OPS", model),
        mapped_collection("Beta operations", beta, "OPS", model),
        "OPS",
        "OPS",
    )


def as_an_older_version_left_it(collection) -> None:
    """Mapping lines stored without the repository field types (an import of an older export)."""
    FieldMapping.objects.filter(collection=collection).update(repository_field_types={})


def types_of(collection) -> list[dict]:
    return list(
        FieldMapping.objects.filter(collection=collection).values_list("repository_field_types", flat=True)
    )


def issue_of(collection) -> Blocker | None:
    return Blocker.objects.filter(key=configuration_migrations.blocker_key(MIGRATION, collection.pk)).first()


def health(client) -> dict:
    return client.get("/api/health").json()["checks"]["configurationMigration"]


def retry(client, blocker):
    return client.post("/activity/blockers/action/retry/", {"ids": [blocker.pk]}, HTTP_HX_REQUEST="true")


def test_a_failed_configuration_migration_is_an_issue_that_retry_reruns_and_success_clears(
    running, unrelated, admin_client
):
    alpha_defects = running.collection_a
    as_an_older_version_left_it(alpha_defects)
    repository = alpha_defects.repository
    repository.enabled = False  # the cause the administrator has to resolve
    repository.save()

    firststart.after_upgrade()
    # The upgrade asked no tool: the collection waits for its job (66003W), its integration with it.
    waiting = issue_of(alpha_defects)
    assert (waiting.code, waiting.kind) == ("CCRRTT-66003W", Blocker.Kind.PLAIN)
    assert waiting.integration_ids == [running.pk] and "Configuration migration job" in waiting.message
    assert types_of(alpha_defects) == [{}, {}]
    # The upgrade's integration data migrations (their own jobs, 66003W meanwhile) complete, and
    # the configuration migration job a worker runs after the start.
    for job in BackgroundJob.objects.filter(kind=BackgroundJob.Kind.DATA_MIGRATION):
        assert jobs.execute(job.pk).status == BackgroundJob.Status.COMPLETED
    [job] = BackgroundJob.objects.filter(kind=BackgroundJob.Kind.CONFIGURATION_MIGRATION)
    job = jobs.execute(job.pk)
    assert (job.status, job.details["issues"]) == (BackgroundJob.Status.COMPLETED, 1)
    assert "“Alpha defects”: an issue on Activity → Issues" in job.log[0]["message"]

    issue = issue_of(alpha_defects)
    assert issue is not None and issue.kind == Blocker.Kind.MIGRATION
    assert issue.code == "CCRRTT-61106E"  # the cause's own code: the repository is disabled
    assert issue.integration_ids == [running.pk]
    assert "Alpha defects" in issue.message and "disabled" in issue.message
    # Only the collection that needed migrating: Beta's lines have their types and were left alone.
    assert issue_of(running.collection_b) is None
    assert types_of(alpha_defects) == [{}, {}]

    # The Issues tab shows it, with Retry for the administrator.
    page = admin_client.get("/activity/blockers/").content.decode()
    assert "CCRRTT-61106E" in page and "could not migrate collection “Alpha defects”" in page
    row = page[page.index(f'id="blockers-{issue.pk}"') :].split("</article>")[0]
    assert "/activity/blockers/action/retry/" in row and ">Retry<" in row
    # It blocks its own integration only (its data migration is done); the unrelated one syncs on.
    assert blocks_integration(running.pk) and not blocks_integration(unrelated.pk)
    new_item("gamma", "OPS", "Unrelated work goes on")
    run(unrelated)
    assert [i.summary for i in items("beta", "OPS")] == ["Unrelated work goes on"]
    check = health(admin_client)
    assert check["status"] == "fail" and "configuration migration issue" in check["reason"]

    # Retry before the cause is resolved: the migration runs again, fails again, the issue stays.
    retry(admin_client, issue)
    assert issue_of(alpha_defects) is not None and types_of(alpha_defects) == [{}, {}]

    repository.enabled = True
    repository.save()
    response = retry(admin_client, issue)

    assert "1 blocker retried." in response.content.decode()
    assert issue_of(alpha_defects) is None
    assert types_of(alpha_defects) == [{"summary": "string"}, {"priority": "single_select"}]
    assert not blocks_integration(running.pk)
    assert health(admin_client)["status"] == "pass"
    assert "Alpha defects" not in admin_client.get("/activity/blockers/").content.decode()
    # The migrated integration syncs again.
    new_item("alpha", "DEMO", "After the upgrade", priority="high")
    run(running)
    assert [i.summary for i in items("beta", "WEB")] == ["After the upgrade"]
    assert ArtifactPair.objects.filter(integration_id=running.pk).count() == 1
    # Nothing is left to migrate: a later upgrade runs it for no collection.
    assert configuration_migrations.run() == {}


def test_a_mapped_field_the_schema_no_longer_has_is_an_issue_until_its_line_is_fixed(running, admin_client):
    alpha_defects = running.collection_a
    as_an_older_version_left_it(alpha_defects)
    # JSON equality is not portable across the engines: find the line in Python
    gone = next(
        m
        for m in FieldMapping.objects.filter(collection=alpha_defects)
        if m.repository_fields == ["priority"]
    )
    FieldMapping.objects.filter(pk=gone.pk).update(repository_fields=["severity"])

    assert configuration_migrations.run() == {MIGRATION: [alpha_defects.pk]}

    issue = issue_of(alpha_defects)
    assert issue.code == "CCRRTT-1109E"
    assert "severity" in issue.message and "project DEMO" in issue.message
    assert types_of(alpha_defects) == [{}, {}]  # all or nothing per collection

    FieldMapping.objects.filter(pk=gone.pk).delete()  # the administrator removes the line
    retry(admin_client, issue)

    assert issue_of(alpha_defects) is None
    assert types_of(alpha_defects) == [{"summary": "string"}]


def test_retry_of_a_migration_this_version_no_longer_has_clears_the_issue(running, admin_client):
    issue = Blocker.objects.create(
        key=configuration_migrations.blocker_key("0000_withdrawn", running.collection_a_id),
        code="CCRRTT-1109E",
        message="old",
        impact=Blocker.Impact.AFFECTED,
        kind=Blocker.Kind.MIGRATION,
        integration_ids=[running.pk],
    )
    retry(admin_client, issue)
    assert not Blocker.objects.filter(pk=issue.pk).exists()
    assert not blocks_integration(running.pk)


def test_a_removed_issue_comes_back_at_the_hourly_validation_while_its_cause_remains(running, admin_client):
    from integrations.tasks import validate_configuration

    alpha_defects = running.collection_a
    as_an_older_version_left_it(alpha_defects)
    repository = alpha_defects.repository
    repository.enabled = False
    repository.save()
    configuration_migrations.run()
    issue = issue_of(alpha_defects)
    admin_client.post("/activity/blockers/action/remove/", {"ids": [issue.pk]}, HTTP_HX_REQUEST="true")
    assert issue_of(alpha_defects) is None

    validate_configuration()

    assert issue_of(alpha_defects).code == "CCRRTT-61106E"
    repository.enabled = True
    repository.save()

    validate_configuration()

    assert issue_of(alpha_defects) is None
    assert types_of(alpha_defects) == [{"summary": "string"}, {"priority": "single_select"}]


def test_an_upgrade_only_marks_what_waits_and_the_job_releases_what_was_migrated(running, unrelated):
    """Under the schema lock the upgrade reads the database only; the job migrates, and a waiting
    collection that no longer needs the migration (fixed meanwhile) is released, not left blocked."""
    as_an_older_version_left_it(running.collection_a)
    as_an_older_version_left_it(running.collection_b)

    job = configuration_migrations.plan()

    assert (
        job.kind == BackgroundJob.Kind.CONFIGURATION_MIGRATION and job.status == BackgroundJob.Status.PENDING
    )
    assert configuration_migrations.plan().pk == job.pk  # one job, however often it is planned
    assert {issue_of(c).code for c in (running.collection_a, running.collection_b)} == {"CCRRTT-66003W"}
    assert blocks_integration(running.pk) and not blocks_integration(unrelated.pk)
    FieldMapping.objects.filter(collection=running.collection_b).delete()  # no longer a target

    assert jobs.execute(job.pk).status == BackgroundJob.Status.COMPLETED

    assert issue_of(running.collection_a) is None and issue_of(running.collection_b) is None
    assert types_of(running.collection_a) == [{"summary": "string"}, {"priority": "single_select"}]
    assert not blocks_integration(running.pk)
    assert configuration_migrations.plan() is None  # nothing left to migrate
