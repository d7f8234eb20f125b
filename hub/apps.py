from django.apps import AppConfig


class HubConfig(AppConfig):
    """The project core: configuration, accounts and roles, health, logging and the console shell."""

    name = "hub"
    verbose_name = "Hub core"

    def ready(self):
        from hub import security_health  # noqa: F401 — registers the security and license health checks
