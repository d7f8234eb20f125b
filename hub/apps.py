from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class HubConfig(AppConfig):
    """The project core: configuration, accounts and roles, health, logging and the console shell."""

    name = "hub"
    verbose_name = "Hub core"

    def ready(self) -> None:
        from hub import (
            security_health,  # noqa: F401 — registers the security and license health checks
            storage,
            vault,
        )

        _unseal_database_password()
        storage.install_backoff()
        vault.on_master_password_change(reseal_database_password)

        # After auth's own handler has made its permissions, so administrators can be given them.
        post_migrate.connect(_create_role_groups, sender=apps.get_app_config("auth"))


def _create_role_groups(**_kwargs) -> None:
    from hub.roles import ensure_role_groups

    ensure_role_groups()


def _unseal_database_password() -> None:
    """Fill in the password of the Storage Settings' database, sealed in HUB_HOME/database.json."""
    import os

    from django.conf import settings
    from django.db import connections

    from hub import config, storage, vault

    if getattr(settings, "HUB_STORAGE", None) is None:
        return
    _stored, sealed = settings.HUB_STORAGE
    password = os.environ.get("HUB_DATABASE_PASSWORD")
    if password is None:
        try:
            password = vault.unseal_outside(sealed, storage.PASSWORD_CONTEXT)
        except vault.VaultError as error:
            raise config.StartupError(
                f"Hub cannot start: {storage.UNREADABLE_CODE}: the database password in "
                f"{storage.settings_path(settings.HUB_HOME)} cannot be unsealed ({error}). Restore the "
                "master password file, or give the password in HUB_DATABASE_PASSWORD."
            ) from None
    settings.DATABASES["default"]["PASSWORD"] = password
    connections.settings["default"]["PASSWORD"] = password


def reseal_database_password() -> None:
    """After the master password changed, the copy of the wrapped data key in database.json follows;
    after a reset (a new data key) the password this process uses is sealed again."""
    from django.conf import settings

    from hub import storage, vault

    found = storage.read_file(settings.HUB_HOME)
    if found is None:
        return
    stored, sealed = found
    rewrapped = vault.rewrap_outside(sealed)
    if rewrapped is sealed:  # another data key now: seal the password in use again
        rewrapped = vault.seal_outside(settings.DATABASES["default"]["PASSWORD"], storage.PASSWORD_CONTEXT)
    storage.write_file(settings.HUB_HOME, stored, rewrapped)
