"""After an upgrade (migrations applied to an existing database) the Background Jobs tab starts
empty of completed jobs; work not done yet stays. A first start or a start without new migrations
clears nothing."""

import pytest

from activity.models import BackgroundJob
from hub import firststart

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs():
    return {
        status: BackgroundJob.objects.create(kind=BackgroundJob.Kind.PAIR_EXPORT, name=status, status=status)
        for status in BackgroundJob.Status.values
    }


def left() -> set[str]:
    return set(BackgroundJob.objects.values_list("status", flat=True))


def start_with(monkeypatch, applied: int, pending: int) -> None:
    monkeypatch.setattr(firststart, "pending_migrations", lambda: (applied, pending))
    monkeypatch.setattr(firststart, "call_command", lambda *args, **kwargs: None)
    firststart.migrate()


def test_an_upgrade_clears_the_completed_jobs_only(jobs, monkeypatch):
    start_with(monkeypatch, applied=120, pending=3)
    assert left() == {"pending", "processing", "failed"}


@pytest.mark.parametrize(("applied", "pending"), [(0, 120), (120, 0)])
def test_a_first_start_or_a_plain_restart_clears_nothing(jobs, monkeypatch, applied, pending):
    start_with(monkeypatch, applied, pending)
    assert left() == set(BackgroundJob.Status.values)


def test_the_test_database_has_nothing_pending():
    applied, pending = firststart.pending_migrations()
    assert applied > 0 and pending == 0
