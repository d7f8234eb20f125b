from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Beat asks every minute; the frequency setting decides whether an email goes out.
SCHEDULES = (("Email what is new on the Activity screen", "settings_app.send_notifications", {}),)


class SettingsAppConfig(AppConfig):
    """The Settings screens: general (change detection, environment label, master password), storage,
    email notifications, license, troubleshooting (logging level) and advanced (imports, moves)."""

    name = "settings_app"
    verbose_name = "Settings"

    def ready(self):
        from hub import health, vault
        from settings_app import notifications, transfer  # noqa: F401 — registers the transfer job

        vault.on_reset("settings_app.SmtpSettings")(_smtp_password_needed)
        health.register("notificationSettingsValid")(notifications.health)
        post_migrate.connect(_install_schedules, sender=self)


def _smtp_password_needed(queryset) -> None:
    queryset.update(needs_password=True)


def _install_schedules(**_kwargs) -> None:
    from hub import schedules

    schedules.install(SCHEDULES)
