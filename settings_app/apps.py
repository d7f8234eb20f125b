from django.apps import AppConfig


class SettingsAppConfig(AppConfig):
    """The Settings screens: general (change detection, environment label, master password), storage,
    email notifications, license, troubleshooting (logging level) and advanced (imports, moves)."""

    name = "settings_app"
    verbose_name = "Settings"

    def ready(self):
        from hub import vault

        vault.on_reset("settings_app.SmtpSettings")(_smtp_password_needed)


def _smtp_password_needed(queryset) -> None:
    queryset.update(needs_password=True)
