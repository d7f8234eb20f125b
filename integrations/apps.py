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
        # Registers the job runners (data and history migrations, project replacement, route moves)
        # and the Issues tab's Retry of configuration migrations.
        from integrations import (  # noqa: F401
            configuration_migrations,
            data_migrations,
            history_migrations,
            project_replacement,
            route_move,
        )
        from integrations.engine import signals, tasks  # noqa: F401

        signals.connect(self)
        # The gateway's door keeps what it knows of a collection for a second; a change forgets it.
        from django.db.models.signals import post_delete, post_save

        from integrations.gateway import intake

        for sender in DOOR_CONFIGURATION:
            post_save.connect(intake.forget, sender=sender, dispatch_uid=f"gateway-door-{sender}")
            post_delete.connect(intake.forget, sender=sender, dispatch_uid=f"gateway-door-del-{sender}")


# What the gateway's answer depends on (integrations.gateway.intake.door). Not every model: a
# receiver for all of them would cost every bulk delete its fast path.
DOOR_CONFIGURATION = (
    "integrations.GatewayCollection",
    "integrations.Integration",
    "integrations.Model",
    "integrations.ModelField",
    "activity.Blocker",
    "hub.AppliedLicense",
    "hub.MasterKey",
    "hub.InstanceLease",
)


def _needs_new_credentials(repositories) -> None:
    repositories.update(needs_new_credentials=True)
