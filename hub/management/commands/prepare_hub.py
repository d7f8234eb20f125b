"""``manage.py prepare_hub``: what ``runhub`` does before it starts its processes — owner-only
data directory, database check, migrations, certificate, the evaluation license on the very first
start, the setup token — for installs whose services start the processes themselves
(deploy/systemd/hub-prepare.service runs it once before the web, worker and beat units)."""

import logging

from django.core.management.base import BaseCommand, CommandError

from hub import firststart
from hub.config import StartupError


class Command(BaseCommand):
    help = "Prepare this Hub instance for its services: data directory, schema, license, setup token."

    def handle(self, *args, **options):
        try:
            firststart.prepare(self._say)
        except StartupError as error:
            raise CommandError(str(error)) from None
        self._say("Hub is prepared: its web, worker and beat services may start.")

    def _say(self, message: str, level: int = logging.INFO) -> None:
        logging.getLogger("hub.server").log(level, message)
        (self.stderr if level >= logging.WARNING else self.stdout).write(message)
