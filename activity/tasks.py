"""Celery tasks: thin shells around ``activity.jobs`` and ``activity.retention``."""

from celery import shared_task

from activity import jobs, retention


@shared_task(name="activity.run_background_job")
def run_background_job(job_id: int) -> str:
    return jobs.execute(job_id).status


@shared_task(name="activity.run_due_jobs")
def run_due_jobs() -> int:
    return len(jobs.run_due_jobs())


@shared_task(name="activity.trim_completed_activities")
def trim_completed_activities() -> int:
    return retention.trim_completed()
