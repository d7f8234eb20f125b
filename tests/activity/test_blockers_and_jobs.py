"""Blocker actions, background-job actions, and the job runner every background job shares."""

import pytest
from django.utils import timezone

from activity import jobs, services
from activity.jobs import JobFailed, JobRunner
from activity.models import BackgroundJob, Blocker
from activity.tasks import run_background_job
from tests.activity import factories

pytestmark = pytest.mark.django_db


def post(client, url, **data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


def test_retry_reruns_a_configuration_migration_blocker_and_nothing_else(admin_client):
    migration = factories.blocker("migration:42", kind=Blocker.Kind.MIGRATION)
    plain = factories.blocker("integration:1:route")
    reran = []
    services.BLOCKER_RETRY["migration:"] = reran.append
    try:
        post(admin_client, "/activity/blockers/action/retry/", ids=[migration.pk, plain.pk])
    finally:
        del services.BLOCKER_RETRY["migration:"]
    assert [b.pk for b in reran] == [migration.pk]


def test_resolve_acknowledges_only_blockers_that_need_acknowledgement(admin_client):
    acknowledge = factories.blocker("license:expiring", kind=Blocker.Kind.ACKNOWLEDGE)
    plain = factories.blocker("integration:1:route")
    post(admin_client, "/activity/blockers/action/resolve/", ids=[acknowledge.pk, plain.pk])
    assert list(Blocker.objects.values_list("key", flat=True)) == ["integration:1:route"]


def test_remove_unblocks_the_integration(admin_client):
    from activity.blockers import blocks_integration

    blocker = factories.blocker("integration:1:route")
    assert blocks_integration(1)
    response = post(admin_client, "/activity/blockers/action/remove/", ids=blocker.pk)
    assert "1 blocker removed." in response.content.decode()
    assert not blocks_integration(1)


def test_remove_all_within_the_impact_filter(admin_client):
    factories.blocker("license:missing", impact=Blocker.Impact.ALL, code="CCRRTT-30018E")
    factories.blocker("integration:1:route")
    factories.blocker("integration:2:route", integration_ids=[2])
    post(admin_client, "/activity/blockers/action/remove/", scope="filtered", impact="affected")
    assert list(Blocker.objects.values_list("key", flat=True)) == ["license:missing"]


def test_blocking_blockers_carry_the_warning_with_their_scope(admin_client):
    factories.blocker(
        "license:missing", impact=Blocker.Impact.ALL, code="CCRRTT-30018E", message="No license"
    )
    factories.blocker("integration:2:route", integration_ids=[2])
    body = admin_client.get("/activity/blockers/").content.decode()
    assert 'title="Blocks all integrations"' in body
    assert 'title="Blocks only the affected integrations (2)"' in body


def test_blockers_filter_by_impact_and_search(admin_client):
    factories.blocker(
        "license:missing", impact=Blocker.Impact.ALL, code="CCRRTT-30018E", message="No license"
    )
    factories.blocker("integration:1:route")
    assert "Result 1 - 1 of 1" in admin_client.get("/activity/blockers/?impact=all").content.decode()
    body = admin_client.get("/activity/blockers/?q=route").content.decode()
    assert "Result 1 - 1 of 1" in body and "at least one route" in body


@pytest.mark.parametrize("action", ["retry", "resolve", "remove"])
def test_viewers_are_refused_blocker_actions(viewer_client, action):
    blocker = factories.blocker(kind=Blocker.Kind.ACKNOWLEDGE)
    assert post(viewer_client, f"/activity/blockers/action/{action}/", ids=blocker.pk).status_code == 403
    assert Blocker.objects.filter(pk=blocker.pk).exists()


def test_prioritize_a_processing_job_and_a_failed_job_scheduled_for_retry(admin_client):
    processing = factories.job()
    failed = factories.job(status="failed", next_retry_at=timezone.now() + timezone.timedelta(hours=1))
    not_scheduled = factories.job(status="failed")
    post(admin_client, "/activity/jobs/action/prioritize/", ids=[processing.pk, failed.pk, not_scheduled.pk])
    for job in (processing, failed, not_scheduled):
        job.refresh_from_db()
    assert processing.priority > 0 and failed.priority > 0 and not_scheduled.priority == 0
    assert failed.next_retry_at <= timezone.now()


def test_remove_completed_jobs_within_the_type_filter(admin_client):
    factories.job(status="completed", kind=BackgroundJob.Kind.ROUTE_MOVE, name="Move route")
    factories.job(status="completed")
    factories.job(status="failed")
    post(admin_client, "/activity/jobs/completed/action/remove/", scope="filtered", kind="route_move")
    assert BackgroundJob.objects.filter(status="completed").count() == 1
    post(admin_client, "/activity/jobs/completed/action/remove/", scope="filtered")
    assert list(BackgroundJob.objects.values_list("status", flat=True)) == ["failed"]


def test_job_tabs_show_progress_failure_and_details(admin_client):
    factories.job(progress=64)
    factories.job(status="failed", code="CCRRTT-1110E", message="Project PROJ not found.")
    factories.job(status="completed", details={"projects updated": ["PROJ → PROJ2", "WEB → WEB2"]})
    assert 'value="64"' in admin_client.get("/activity/jobs/processing/").content.decode()
    body = admin_client.get("/activity/jobs/failed/").content.decode()
    assert "Project PROJ not found." in body and "CCRRTT-1110E" in body
    body = admin_client.get("/activity/jobs/completed/").content.decode()
    assert "projects updated" in body and "WEB → WEB2" in body


def test_viewers_are_refused_job_actions(viewer_client):
    job = factories.job(status="completed")
    assert post(viewer_client, "/activity/jobs/action/remove/", ids=job.pk).status_code == 403
    assert BackgroundJob.objects.filter(pk=job.pk).exists()


class Counting(JobRunner):
    kind = BackgroundJob.Kind.MAINTENANCE

    def run(self, fail: str = "", transient: bool = False, **_):
        self.log("Counting")
        self.set_progress(50)
        if fail == "known":
            raise JobFailed("CCRRTT-30009E", "The database is not available.", transient=transient)
        if fail == "unexpected":
            raise RuntimeError("boom")
        if fail == "memory":
            raise MemoryError()
        return {"counted": 3}


@pytest.fixture
def counting():
    previous = jobs.RUNNERS.get(Counting.kind)
    jobs.register(Counting)
    yield Counting
    if previous:
        jobs.RUNNERS[Counting.kind] = previous
    else:
        del jobs.RUNNERS[Counting.kind]


def test_runner_records_progress_log_and_details_of_a_completed_job(counting):
    job = BackgroundJob.objects.create(kind=counting.kind, name="Count")
    assert run_background_job(job.pk) == "completed"
    job.refresh_from_db()
    assert (job.status, job.progress, job.details) == ("completed", 100, {"counted": 3})
    assert job.log[0]["message"] == "Counting" and job.started and job.finished


def test_a_transient_failure_is_scheduled_for_retry_and_run_when_due(counting):
    job = BackgroundJob.objects.create(
        kind=counting.kind, name="Count", parameters={"fail": "known", "transient": True}
    )
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert (job.status, job.code, job.retry_count) == ("failed", "CCRRTT-30009E", 1)
    assert job.next_retry_at > timezone.now()
    assert jobs.run_due_jobs() == []
    assert jobs.run_due_jobs(now=job.next_retry_at) == [job.pk]


def test_an_unexpected_error_fails_the_job_with_the_catch_all_code(counting):
    job = BackgroundJob.objects.create(kind=counting.kind, name="Count", parameters={"fail": "unexpected"})
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert (job.status, job.code, job.next_retry_at) == ("failed", "CCRRTT-0001E", None)
    assert "boom" in job.message


def test_a_job_that_runs_out_of_memory_fails_with_0003E_and_is_retried(counting):
    job = BackgroundJob.objects.create(kind=counting.kind, name="Count", parameters={"fail": "memory"})
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert (job.status, job.code) == ("failed", "CCRRTT-0003E") and job.next_retry_at is not None
    assert "out of memory" in job.message


def test_enqueue_records_a_pending_job_even_without_a_broker(counting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = counting.enqueue(name="Count", requested_by="ada")
    job.refresh_from_db()
    # The broker only carries the wake-up; the row is the record a worker or the sweep runs.
    assert job.status == "pending" and job.requested_by == "ada"


def _left_processing_by(worker: str, kind: str, **fields) -> BackgroundJob:
    """A job a worker process was running when it died (kill -9, shutdown, a lost host)."""
    return BackgroundJob.objects.create(
        kind=kind,
        name="Count",
        status="processing",
        started=timezone.now(),
        details={"worker": worker},
        **fields,
    )


def test_a_job_whose_worker_died_is_never_left_processing(counting):
    job = _left_processing_by("gone-host:4242:dead", counting.kind)
    jobs.run_due_jobs()
    job.refresh_from_db()
    # Not resumable: it ends failed, says why, and waits for a person to start it again.
    assert (job.status, job.code, job.next_retry_at) == ("failed", "CCRRTT-0001E", None)
    assert "worker process ended" in job.message and job.log[-1]["level"] == "warning"


def test_a_resumable_job_whose_worker_died_resumes_with_66004W(counting, monkeypatch):
    monkeypatch.setattr(counting, "resumable", True)
    job = _left_processing_by("gone-host:4242:dead", counting.kind)
    assert jobs.run_due_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.status == "completed" and job.details == {"counted": 3}
    assert any(line["message"].startswith("CCRRTT-66004W") for line in job.log)


def test_a_job_whose_worker_still_beats_is_left_running(counting):
    from integrations.engine import heartbeat

    heartbeat.beat("busy-host:7:alive")
    job = _left_processing_by("busy-host:7:alive", counting.kind)
    assert jobs.run_due_jobs() == []
    job.refresh_from_db()
    assert job.status == "processing"


def test_a_running_job_records_its_worker_and_forgets_it_when_done(counting, monkeypatch):
    from integrations.engine import heartbeat

    seen = {}

    def run(self, **_):
        seen.update(BackgroundJob.objects.get(pk=self.job.pk).details)
        return {"counted": 1}

    monkeypatch.setattr(counting, "run", run)
    job = BackgroundJob.objects.create(kind=counting.kind, name="Count")
    jobs.execute(job.pk)

    assert seen["worker"] == heartbeat.worker_name()
    job.refresh_from_db()
    assert job.details == {"counted": 1}
