"""``manage.py set_master_password``: set, re-enter, change or reset the master password."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hub import audit, gates, vault
from hub.management.commands._provisioning import SOURCE, add_secret_arguments, read_secret

ELEMENT = "Master password"


class Command(BaseCommand):
    help = (
        "Set the master password (first time), re-enter it on a machine that lost its master password file, "
        "change it (give the current one) or reset it (--reset --yes: erases every stored secret)."
    )

    def add_arguments(self, parser):
        add_secret_arguments(parser, "password", "new master password")
        add_secret_arguments(parser, "current-password", "current master password", required=False)
        parser.add_argument("--reset", action="store_true", help="Erase every stored secret and start over.")
        parser.add_argument("--yes", action="store_true", help="Confirm --reset.")

    def handle(self, *args, reset: bool, yes: bool, **options):
        password = read_secret(options, "password", "new master password")
        current = read_secret(options, "current-password", "current master password")
        state = vault.state()
        try:
            if reset:
                if not yes:
                    affected = vault.stored_secrets_by_owner()
                    summary = ", ".join(f"{n} {kind}" for kind, n in affected.items()) or "no stored secrets"
                    raise CommandError(
                        f"--reset erases every stored secret ({summary}); add --yes to confirm."
                    )
                erased = vault.reset_master_password(password)
                after, said = (
                    {"state": "reset", "erased": erased},
                    "Master password reset; stored secrets erased.",
                )
            elif current is not None:
                vault.change_master_password(current, password)
                after, said = {"state": "changed"}, "Master password changed."
            elif state == vault.SecurityState.NOT_SET:
                vault.set_master_password(password)
                after, said = {"state": "set"}, "Master password set."
            elif state == vault.SecurityState.LOCKED:
                vault.unlock(password)
                after, said = (
                    {"state": "re-entered"},
                    "Master password accepted; this machine's file is restored.",
                )
            else:
                raise CommandError(
                    "A master password is set already. To change it give the current one "
                    "(--current-password-file or --current-password-stdin); to start over use --reset --yes."
                )
        except vault.VaultError as error:
            raise CommandError(str(error)) from None
        audit.record_change(None, "settings", ELEMENT, ELEMENT, None, after, source=SOURCE)
        gates.refresh_global_blockers()
        self.stdout.write(said)
