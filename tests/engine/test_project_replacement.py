"""Project replacement (Manage Invalid Projects → Replace → Done → Save): a background job rewrites
the pairs, activities, routes and watermarks of the old project to the new one, so the running
integration goes on with the same twins and nothing is created a second time."""

import pytest
from django.urls import reverse

from activity import jobs
from activity.blockers import blocks_integration
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from connectors.local.models import LocalProject
from integrations import project_replacement
from integrations.models import ChangeWatermark, CollectionProject, Route
from tests.engine.sync import change, items, new_item, run

pytestmark = pytest.mark.django_db


def collection_form(collection) -> dict:
    return {
        "name": collection.name,
        "repository": collection.repository_id,
        "model": collection.model_id,
        "artifact_types": collection.artifact_types,
        "query": collection.query,
    }


def replace_in_screens(admin_client, collection, old: str, new: str):
    """Refresh (the project is gone), pick its replacement in the picker, Done, Save."""
    admin_client.post(reverse("collection-projects", args=[collection.pk]), {"refresh": "1"})
    project = CollectionProject.objects.get(collection=collection, project_id=old)
    assert project.invalid
    picker = reverse("collection-invalid-projects", args=[collection.pk])
    found = admin_client.get(picker, {"q": new.lower()}, HTTP_HX_REQUEST="true").content.decode()
    assert f'value="{new}"' in found
    admin_client.post(picker, {"project": project.pk, "replacement": new})
    page = admin_client.get(reverse("collection-edit", args=[collection.pk])).content.decode()
    assert 'data-testid="pending-replacements"' in page and "data-confirm=" in page
    response = admin_client.post(
        reverse("collection-edit", args=[collection.pk]), collection_form(collection)
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def replacement_job() -> BackgroundJob:
    return BackgroundJob.objects.get(kind=BackgroundJob.Kind.PROJECT_REPLACEMENT)


@pytest.mark.django_db(transaction=True)  # the engine runs as in production, with its commits
def test_a_replaced_project_keeps_its_pairs_and_creates_no_duplicate(admin_client, running):
    first = new_item("alpha", "DEMO", "First", priority="high")
    second = new_item("alpha", "DEMO", "Second", priority="low")
    run(running)
    assert len(items("beta", "WEB")) == 2
    pairs_before = set(ArtifactPair.objects.values_list("pk", "a_artifact_id", "b_artifact_id"))
    # The project moves to a new id in the repository (as after a rename or a move to a new domain).
    LocalProject.objects.filter(tracker__name="alpha", key="DEMO").update(key="DEMO2")

    replace_in_screens(admin_client, running.collection_a, "DEMO", "DEMO2")

    job = replacement_job()
    assert job.status == BackgroundJob.Status.PENDING
    waiting = Blocker.objects.get(key=project_replacement.blocker_key(running.collection_a_id))
    assert waiting.code == "CCRRTT-66001I" and waiting.integration_ids == [running.pk]
    assert blocks_integration(running.pk)

    jobs.execute(job.pk)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.COMPLETED and job.progress == 100
    assert job.details["Projects Updated"] == ["Demo (DEMO) → Demo (DEMO2)"]
    assert not Blocker.objects.filter(code__in=["CCRRTT-66001I", "CCRRTT-66002I", "CCRRTT-1110E"]).exists()
    assert not blocks_integration(running.pk)
    assert running.collection_a.project_ids() == ["DEMO2"]
    assert set(ArtifactPair.objects.values_list("pk", "a_artifact_id", "b_artifact_id")) == pairs_before
    assert set(ArtifactPair.objects.values_list("a_project", flat=True)) == {"DEMO2"}
    assert set(ArtifactActivity.objects.values_list("source_project", flat=True)) == {"DEMO2"}
    assert list(Route.objects.values_list("project_a", "project_b")) == [("DEMO2", "WEB")]
    assert set(ChangeWatermark.objects.filter(side="A").values_list("project", flat=True)) == {"DEMO2"}

    # The integration goes on with the same twins: an update flows, a new item gets one twin.
    change(first, summary="First, changed after the replacement")
    new_item("alpha", "DEMO2", "Third", priority="high")
    run(running)
    twins = items("beta", "WEB")
    assert len(twins) == 3
    assert "First, changed after the replacement" in {twin.summary for twin in twins}
    assert ArtifactPair.objects.count() == 3
    assert ArtifactPair.objects.filter(a_artifact_id=str(second.pk)).count() == 1


def test_a_replacement_lacking_mapped_fields_fails_with_66003I_and_is_retried(admin_client, running):
    from integrations.models import FieldMapping

    collection = running.collection_a
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=["no_such_field"],
        repository_field_types={"no_such_field": "String"},
        model_fields=["title"],
        model_field_types={"title": "String"},
        direction="to_model",
    )
    LocalProject.objects.filter(tracker__name="alpha", key="DEMO").update(key="DEMO2")
    replace_in_screens(admin_client, collection, "DEMO", "DEMO2")

    jobs.execute(replacement_job().pk)

    job = replacement_job()
    assert (job.status, job.code) == (BackgroundJob.Status.FAILED, "CCRRTT-66003I")
    assert "no_such_field" in job.message and job.next_retry_at is not None
    blocker = Blocker.objects.get(key=project_replacement.blocker_key(collection.pk))
    assert blocker.code == "CCRRTT-66003I" and blocker.integration_ids == [running.pk]
    assert collection.project_ids() == ["DEMO"]  # nothing rewritten
    assert list(Route.objects.values_list("project_a", flat=True)) == ["DEMO"]


def test_a_change_of_the_replacements_while_it_runs_cancels_with_66004W_and_it_resumes(admin_client, running):
    collection = running.collection_a
    LocalProject.objects.filter(tracker__name="alpha", key="DEMO").update(key="DEMO2")
    replace_in_screens(admin_client, collection, "DEMO", "DEMO2")
    job = replacement_job()
    original = project_replacement.ProjectReplacement._check_schemas

    def meanwhile_the_administrator_picks_another(runner, *args):
        original(runner, *args)
        rewriting = Blocker.objects.get(key=project_replacement.blocker_key(collection.pk))
        assert (rewriting.code, rewriting.integration_ids) == ("CCRRTT-66002I", [running.pk])
        CollectionProject.objects.filter(collection=collection).update(
            replacement_id="OPS", replacement_name="Ops"
        )

    project_replacement.ProjectReplacement._check_schemas = meanwhile_the_administrator_picks_another
    try:
        jobs.execute(job.pk)
    finally:
        project_replacement.ProjectReplacement._check_schemas = original
    job.refresh_from_db()
    assert (job.status, job.code) == (BackgroundJob.Status.FAILED, "CCRRTT-66004W")
    assert job.next_retry_at is not None and collection.project_ids() == ["DEMO"]

    assert jobs.run_due_jobs(now=job.next_retry_at) == [job.pk]

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.COMPLETED
    assert collection.project_ids() == ["OPS"]
    assert job.details["Projects Updated"] == ["Demo (DEMO) → Ops (OPS)"]


def test_saving_again_while_the_job_waits_starts_no_second_job(admin_client, running):
    collection = running.collection_a
    LocalProject.objects.filter(tracker__name="alpha", key="DEMO").update(key="DEMO2")
    replace_in_screens(admin_client, collection, "DEMO", "DEMO2")
    admin_client.post(reverse("collection-edit", args=[collection.pk]), collection_form(collection))
    assert BackgroundJob.objects.filter(kind=BackgroundJob.Kind.PROJECT_REPLACEMENT).count() == 1
    page = admin_client.get(reverse("collection-edit", args=[collection.pk])).content.decode()
    assert 'data-testid="replacement-job"' in page


def test_saving_without_a_chosen_replacement_starts_nothing(admin_client, running):
    collection = running.collection_a
    admin_client.post(reverse("collection-edit", args=[collection.pk]), collection_form(collection))
    assert not BackgroundJob.objects.filter(kind=BackgroundJob.Kind.PROJECT_REPLACEMENT).exists()


def test_a_job_stopped_by_a_shutdown_resumes_by_itself_with_66004W(admin_client, running):
    collection = running.collection_a
    LocalProject.objects.filter(tracker__name="alpha", key="DEMO").update(key="DEMO2")
    replace_in_screens(admin_client, collection, "DEMO", "DEMO2")
    # The worker that took it died: the row says processing, its process beats no more.
    BackgroundJob.objects.filter(kind=BackgroundJob.Kind.PROJECT_REPLACEMENT).update(
        status=BackgroundJob.Status.PROCESSING, details={"worker": "gone:1:dead"}
    )

    assert jobs.run_due_jobs() == [replacement_job().pk]

    job = replacement_job()
    assert job.status == BackgroundJob.Status.COMPLETED
    assert any(line["message"].startswith("CCRRTT-66004W") for line in job.log)
    assert "worker" not in job.details and collection.project_ids() == ["DEMO2"]


def test_a_running_job_of_a_live_worker_is_left_alone(running):
    from integrations.engine import heartbeat

    heartbeat.beat("alive:1:x")
    job = project_replacement.ProjectReplacement.enqueue(name="r", parameters={"collection_id": 0})
    BackgroundJob.objects.filter(pk=job.pk).update(status="processing", details={"worker": "alive:1:x"})
    assert jobs.run_due_jobs() == []
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.PROCESSING
