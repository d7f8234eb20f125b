from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """Counters of synchronized artifacts and seen persons, their daily rollups, user counting for
    the license, and the Metrics dashboard."""

    name = "metrics"
    verbose_name = "Metrics"
