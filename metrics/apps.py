"""Counters of synchronized artifacts and seen persons, their daily rollups, user counting for
the license, and the Metrics dashboard."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Housekeeping on beat: person data is kept for the two years the usage reports cover, and its
# personal details kept current.
SCHEDULES = (
    ("Forget person sightings older than two years", "metrics.purge_people", {"minute": "17", "hour": "3"}),
    # Personal details a week old, or never read, are read again from their repositories.
    ("Refresh personal details of seen people", "metrics.refresh_people", {"minute": "47"}),
)


class MetricsConfig(AppConfig):
    """Counters of synchronized artifacts and seen persons, their daily rollups, user counting for
    the license, and the Metrics dashboard."""

    name = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        post_migrate.connect(_install_schedules, sender=self)


def _install_schedules(**_kwargs) -> None:
    from hub import schedules

    schedules.install(SCHEDULES)
