"""``manage.py apply_license FILE``: apply a license file (``-`` reads standard input)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub import licensing
from hub.management.commands._provisioning import SOURCE


class Command(BaseCommand):
    help = (
        "Apply a signed Hub license. A license that is malformed, altered, untrusted or expired is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="License file, or - for standard input.")

    def handle(self, *args, file: str, **options):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read the license from {file}: {exc.__class__.__name__}.") from None
        try:
            license = licensing.apply(text, source=SOURCE)
        except licensing.LicenseError as error:
            raise CommandError(f"The license was not applied: {error}") from None
        self.stdout.write(
            f"License applied: {license.type} for {license.licensee}, valid until {license.expires:%Y-%m-%d}."
        )
