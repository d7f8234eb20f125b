"""``manage.py serve web|redirect``: replace this process with the HTTPS console or the HTTP
redirect, listening where ``hub.properties`` (or its ``HUB_*`` variables) says — the same listener
``runhub`` starts (``hub.serving``). deploy/hub-web.sh and the systemd units run it."""

import os

from django.core.management.base import BaseCommand, CommandError

from hub import firststart, serving
from hub.config import ConfigError


class Command(BaseCommand):
    help = "Serve the HTTPS console (web) or the HTTP redirect (redirect) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("listener", choices=("web", "redirect"))

    def handle(self, *args, listener: str, **options):
        if listener == "web":
            try:
                cert, key = firststart.certificate(lambda message, *_: self.stderr.write(message))
            except ConfigError as error:
                raise CommandError(str(error)) from None
            argv = serving.web_argv(str(cert), str(key))
        else:
            argv = serving.redirect_argv()
        self.stdout.flush()
        os.execv(argv[0], argv)  # noqa: S606 - our own argv; the service manager then sees and signals gunicorn itself
