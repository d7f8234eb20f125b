"""The configuration domain — repositories, collections, models, mappings, integrations, their
validation and configuration history — and the sync engine that detects changes and keeps
artifacts in step on Celery workers."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    """The configuration domain — repositories, collections, models, mappings, integrations, their
    validation and configuration history — and the sync engine that detects changes and keeps
    artifacts in step on Celery workers."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from hub import vault
        from integrations import schedules

        post_migrate.connect(schedules.install, sender=self)
        # A master-password reset erases repository credentials: say which repositories need new ones.
        vault.on_reset("integrations.Repository")(_needs_new_credentials)
        # The sync engine: its beat entries follow the configuration; its tasks register with Celery.
        # Registers the job runners (data and history migrations, project replacement, route moves).
        from integrations import data_migrations, history_migrations, project_replacement, route_move  # noqa: F401
        from integrations.engine import signals, tasks  # noqa: F401

        signals.connect(self)


def _needs_new_credentials(repositories) -> None:
    repositories.update(needs_new_credentials=True)
