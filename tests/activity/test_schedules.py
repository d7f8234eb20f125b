"""Beat runs the ledger's housekeeping: due background jobs and the completed-activity cap."""

import pytest
from django_celery_beat.models import PeriodicTask


@pytest.mark.django_db
def test_housekeeping_tasks_are_on_beat_after_migrate():
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"activity.run_due_jobs", "activity.trim_completed_activities"} <= tasks
    assert {"integrations.validate_configuration", "integrations.purge_history"} <= tasks
