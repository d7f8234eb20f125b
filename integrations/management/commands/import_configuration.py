"""Apply a zip of exported configuration changes, as Settings → Advanced → Import Configurations does."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from integrations import transfer


class Command(BaseCommand):
    help = "Apply exported configuration changes in order; stop at the first that cannot apply."

    def add_arguments(self, parser):
        parser.add_argument("zip", type=Path)
        parser.add_argument("--user", default="", help="Hub user the changes are recorded for.")
        parser.add_argument("--remaining", type=Path, help="Where to write the changes not applied.")

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"There is no user {options['user']!r}.")
        try:
            changes = transfer.read_zip(options["zip"].read_bytes())
        except (OSError, transfer.ImportRefused) as error:
            raise CommandError(str(error)) from None
        result = transfer.apply_changes(changes, user)
        self.stdout.write(f"{len(result.applied)} change(s) applied.")
        if result.failed is not None:
            if options["remaining"]:
                options["remaining"].write_bytes(result.remaining_zip)
            raise CommandError(
                f"Stopped at: {result.failed.summary}: {result.reason}. "
                f"{len(result.remaining)} change(s) not applied."
            )
