"""Background jobs: one runner records status, progress, log lines and the outcome of every kind of
long-running internal work (project replacement, route moves, pair import/export, database
transfer) where the Activity screen shows them.

A kind of job is a ``JobRunner`` subclass registered for a ``BackgroundJob.Kind``::

    @register
    class ExportPairs(JobRunner):
        kind = BackgroundJob.Kind.PAIR_EXPORT

        def run(self, **parameters):
            self.log("Exporting …")
            self.set_progress(50)
            return {"pairs": 42}  # stored as the job's details

``ExportPairs.enqueue(name=..., parameters={...})`` records a pending job and asks a worker to run
it; ``execute(job_id)`` runs it in the current process (the Celery task and the tests use it).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone

from activity.models import BackgroundJob

logger = logging.getLogger(__name__)

RUNNERS: dict[str, type[JobRunner]] = {}
CANCELLED = "CCRRTT-66004W"  # Background job cancelled (shutdown or configuration change); it resumes
# A transient failure is retried after about 30 s, then at growing intervals, like activities.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))


class JobFailed(Exception):
    """A job ends as failed with a catalog code; ``transient`` ones are scheduled for retry."""

    def __init__(self, code: str, message: str, *, transient: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient


def register(runner: type[JobRunner]) -> type[JobRunner]:
    RUNNERS[runner.kind] = runner
    return runner


class JobRunner:
    kind: ClassVar[str]
    # Kinds that must never overlap (one pair import and one export at a time) say so here.
    exclusive: ClassVar[bool] = False
    # A job whose worker process died mid-run (shutdown, kill -9, lost host) is found by
    # ``recover_interrupted``. Kinds whose run can safely start again (each step atomic or
    # idempotent) resume by themselves with 66004W; the others end failed and say so.
    resumable: ClassVar[bool] = False
    # Kinds that pause integrations while they run (a global blocker): their interrupted jobs are
    # also recovered on every refresh of the global blockers (``hub.gates``), not only by the sweep.
    holds_integrations: ClassVar[bool] = False
    # The code an interrupted resumable job records; a kind whose catalog has its own says so.
    cancelled_code: ClassVar[str] = CANCELLED
    # Kinds that something waits for until they complete (an integration blocked by its data
    # migration): an unexpected error (0001E) is retried on the schedule like a transient one, the
    # last interval repeating, so the job never stays failed for good and Prioritize always applies.
    retries_unexpected_errors: ClassVar[bool] = False

    def __init__(self, job: BackgroundJob):
        self.job = job

    def run(self, **parameters) -> dict[str, Any] | None:
        raise NotImplementedError

    # Helpers the run method calls; each writes through at once so the screen sees it live, and
    # beats, so a job run outside a worker (a command, a test) is not taken for dead while it works.
    def log(self, message: str, level: str = "info") -> None:
        self.job.log.append({"time": timezone.now().isoformat(), "level": level, "message": message})
        BackgroundJob.objects.filter(pk=self.job.pk).update(log=self.job.log)
        _beat()

    def set_progress(self, percent: int) -> None:
        self.job.progress = max(0, min(100, int(percent)))
        BackgroundJob.objects.filter(pk=self.job.pk).update(progress=self.job.progress)
        _beat()

    @classmethod
    def recover_interrupted(cls, now) -> None:
        """Called before due jobs start. A job still *processing* whose worker process no longer
        beats (``execute`` records it) was stopped by a shutdown or a crash: it is never left
        *processing*. A resumable kind fails with 66004W and is due again at once; any other ends
        failed with the reason, to be started again by hand."""
        from integrations.engine import heartbeat

        running = list(BackgroundJob.objects.filter(kind=cls.kind, status=BackgroundJob.Status.PROCESSING))
        holders = {job.pk: job.details.get("worker", "") for job in running}
        living = heartbeat.alive([holder for holder in holders.values() if holder], now=now)
        for job in running:
            if not holders[job.pk] or holders[job.pk] in living:
                continue  # alive, or recorded before workers were (only its own kind can judge it)
            if cls.resumable:
                code, retry_at = cls.cancelled_code, now
                message = "The job was stopped because Hub was shut down; it resumes by itself."
            else:
                code, retry_at = "CCRRTT-0001E", None
                message = "The job stopped half-way because its worker process ended; start it again."
            log = [*job.log, {"time": now.isoformat(), "level": "warning", "message": f"{code}: {message}"}]
            BackgroundJob.objects.filter(pk=job.pk, status=BackgroundJob.Status.PROCESSING).update(
                status=BackgroundJob.Status.FAILED,
                code=code,
                message=message,
                next_retry_at=retry_at,
                finished=now,
                log=log,
            )

    @classmethod
    def busy(cls) -> BackgroundJob | None:
        return BackgroundJob.objects.filter(
            kind=cls.kind, status__in=[BackgroundJob.Status.PENDING, BackgroundJob.Status.PROCESSING]
        ).first()

    @classmethod
    def enqueue(
        cls,
        *,
        name: str,
        parameters: dict | None = None,
        requested_by: str = "",
        integration_id: int | None = None,
        integration_name: str = "",
    ) -> BackgroundJob:
        with transaction.atomic():
            if cls.exclusive and (running := cls.busy()):
                raise JobFailed("CCRRTT-30002E", f"{running.name} is still running; wait until it ends.")
            job = BackgroundJob.objects.create(
                kind=cls.kind,
                name=name,
                parameters=parameters or {},
                requested_by=requested_by,
                integration_id=integration_id,
                integration_name=integration_name,
            )
        transaction.on_commit(lambda: wake_worker(job.pk))
        return job


def wake_worker(job_id: int) -> None:
    """Ask a worker to run the job. The database row is the record; when no broker answers, the
    beat's sweep (``run_due_jobs``) starts it later, so nothing is lost."""
    from activity.tasks import run_background_job

    try:
        run_background_job.delay(job_id)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep picks the job up
        logger.warning("No broker reachable; background job %s waits for the sweep", job_id)


def execute(job_id: int) -> BackgroundJob:
    """Run one job in this process and record how it ended."""
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (BackgroundJob.Status.PENDING, BackgroundJob.Status.FAILED):
            return job  # another worker has it, or it is done
        job.status = BackgroundJob.Status.PROCESSING
        job.started = timezone.now()
        job.next_retry_at = None
        job.details = {**job.details, "worker": _beat()}
        job.save(update_fields=["status", "started", "next_retry_at", "details"])
    runner = RUNNERS[job.kind](job)
    endless = runner.retries_unexpected_errors
    try:
        details = runner.run(**job.parameters)
    except JobFailed as failure:
        _finish_failed(job, failure.code, failure.message, transient=failure.transient, endless=endless)
    except MemoryError:
        logger.error("Background job %s (%s) ran out of memory", job.pk, job.name)
        message = "Hub ran out of memory running this job; it is tried again later. Give Hub more memory."
        _finish_failed(job, "CCRRTT-0003E", message, transient=True, endless=endless)
    except Exception as error:  # noqa: BLE001 - recorded on the job and in the log, never lost
        logger.exception("Background job %s (%s) failed", job.pk, job.name)
        message = f"Unexpected error: {error}"
        if endless:
            message += " It is tried again later; Prioritize runs it at once once the cause is fixed."
        _finish_failed(job, "CCRRTT-0001E", message, transient=endless, endless=endless)
    else:
        job.status = BackgroundJob.Status.COMPLETED
        job.progress = 100
        # Which process ran it mattered only while it ran (``recover_interrupted``).
        job.details = {
            key: value for key, value in {**job.details, **(details or {})}.items() if key != "worker"
        }
        job.code, job.message = "", ""
        job.finished = timezone.now()
        job.save(update_fields=["status", "progress", "details", "code", "message", "finished"])
    return job


def _beat() -> str:
    """This process is alive (a worker's beat thread does the same every few seconds); its name."""
    from integrations.engine import heartbeat

    worker = heartbeat.worker_name()
    heartbeat.beat(worker)
    return worker


def _finish_failed(
    job: BackgroundJob, code: str, message: str, *, transient: bool, endless: bool = False
) -> None:
    job.status = BackgroundJob.Status.FAILED
    job.code, job.message = code, message
    job.finished = timezone.now()
    job.log.append({"time": job.finished.isoformat(), "level": "error", "message": f"{code}: {message}"})
    if transient and (endless or job.retry_count < len(RETRY_DELAYS)):
        job.next_retry_at = job.finished + RETRY_DELAYS[min(job.retry_count, len(RETRY_DELAYS) - 1)]
        job.retry_count += 1
    fields = ["status", "code", "message", "finished", "log", "next_retry_at", "retry_count"]
    job.save(update_fields=fields)


def recover_holding_jobs(now=None) -> None:
    """Free the integrations an interrupted job of a ``holds_integrations`` kind still pauses."""
    for runner in RUNNERS.values():
        if runner.holds_integrations:
            runner.recover_interrupted(now or timezone.now())


def run_due_jobs(now=None) -> list[int]:
    """Start pending jobs and failed jobs whose retry is due, highest priority first."""
    now = now or timezone.now()
    for runner in RUNNERS.values():
        runner.recover_interrupted(now)
    due = BackgroundJob.objects.filter(status=BackgroundJob.Status.PENDING) | BackgroundJob.objects.filter(
        status=BackgroundJob.Status.FAILED, next_retry_at__lte=now
    )
    ids = list(due.order_by("-priority", "created").values_list("pk", flat=True))
    for job_id in ids:
        execute(job_id)
    return ids
