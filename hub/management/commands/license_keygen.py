"""``manage.py license_keygen --private-key FILE``: make a key pair for signing licenses."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub import licensing


class Command(BaseCommand):
    help = "Make an Ed25519 key pair for issuing licenses; prints the public key for hub.license.trustedKeys."

    def add_arguments(self, parser):
        parser.add_argument(
            "--private-key", required=True, metavar="FILE", help="Where to write the private key."
        )

    def handle(self, *args, private_key: str, **options):
        path = Path(private_key)
        pem = licensing.generate_private_key_pem()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{path} exists already; it is not overwritten.") from None
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        public = licensing.public_key_text(licensing.load_private_key(pem).public_key())
        self.stdout.write(f"Private key written to {path} (keep it safe).")
        self.stdout.write(f"Public key, for hub.license.trustedKeys: {public}")
