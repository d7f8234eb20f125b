from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class HubConfig(AppConfig):
    """The project core: configuration, accounts and roles, health, logging and the console shell."""

    name = "hub"
    verbose_name = "Hub core"

    def ready(self) -> None:
        from hub import security_health  # noqa: F401 — registers the security and license health checks

        # After auth's own handler has made its permissions, so administrators can be given them.
        post_migrate.connect(_create_role_groups, sender=apps.get_app_config("auth"))


def _create_role_groups(**_kwargs) -> None:
    from hub.roles import ensure_role_groups

    ensure_role_groups()
