from django.apps import AppConfig


class SettingsAppConfig(AppConfig):
    """The Settings screens: general (change detection, environment label, master password), storage,
    email notifications, license, troubleshooting (logging level) and advanced (imports, moves)."""

    name = "settings_app"
    verbose_name = "Settings"
