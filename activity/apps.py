from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Housekeeping on beat: background jobs that came due, and the cap on completed activities.
SCHEDULES = (
    ("Run background jobs that are due", "activity.run_due_jobs", {}),
    ("Keep at most 100,000 completed activities", "activity.trim_completed_activities", {"minute": "*/10"}),
)


class ActivityConfig(AppConfig):
    """The ledger the sync engine writes to — artifact activities, artifact pairs, blockers and
    background jobs — the error catalog, and the Activity screen where every failure is visible
    and can be retried."""

    name = "activity"
    verbose_name = "Activity"

    def ready(self):
        # Registers the pair export/import job runners.
        from activity import pair_transfer  # noqa: F401

        post_migrate.connect(_install_schedules, sender=self)


def _install_schedules(**_kwargs) -> None:
    from hub import schedules

    schedules.install(SCHEDULES)
