from django.apps import AppConfig


class ActivityConfig(AppConfig):
    """The ledger the sync engine writes to — artifact activities, artifact pairs, blockers and
    background jobs — the error catalog, and the Activity screen where every failure is visible
    and can be retried."""

    name = "activity"
    verbose_name = "Activity"

    def ready(self):
        # Registers the pair export/import job runners.
        from activity import pair_transfer  # noqa: F401
