"""``manage.py secure_home``: make the data directory owner-only (what ``runhub`` does at start),
for installs whose services start Hub's processes directly (deploy/systemd)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from hub import filemodes


class Command(BaseCommand):
    help = "Make HUB_HOME and everything in it readable by the user running Hub only (0700/0600)."

    def handle(self, *args, **options):
        changed, failed = filemodes.secure_home(settings.HUB.home)
        for message, _level in filemodes.report(changed, failed):
            self.stdout.write(message)
        if not changed and not failed:
            self.stdout.write(f"{settings.HUB.home} is already owner-only.")
        if failed:
            raise SystemExit(1)
