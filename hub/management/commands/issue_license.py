"""``manage.py issue_license``: sign a license with a private key file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hub import licensing


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class Command(BaseCommand):
    help = "Issue a Hub license signed with an Ed25519 private key (see license_keygen)."

    def add_arguments(self, parser):
        parser.add_argument("--private-key", required=True, metavar="FILE")
        parser.add_argument("--licensee", required=True)
        parser.add_argument("--issuer", required=True)
        parser.add_argument(
            "--type", default="Subscription", help="License type, e.g. Subscription, Perpetual."
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--max-users", type=int, required=True)
        parser.add_argument("--created", type=date.fromisoformat, help="YYYY-MM-DD; default today.")
        expiry = parser.add_mutually_exclusive_group(required=True)
        expiry.add_argument("--expires", type=date.fromisoformat, help="YYYY-MM-DD")
        expiry.add_argument("--days", type=int, help="Valid for this many days from the created date.")
        parser.add_argument("--edition", choices=[e.value for e in licensing.Edition], default="basic")
        parser.add_argument("--instance", help="Bind the license to one Hub instance id.")
        for feature in licensing.LISTED:
            parser.add_argument(
                f"--{feature.value.replace('_', '-')}",
                default="*",
                help=f"Comma-separated {licensing.LABELS[feature]} names granted; * for all (default).",
            )
        for feature in licensing.FLAGS:
            parser.add_argument(
                f"--{feature.value.replace('_', '-')}",
                action="store_true",
                help=f"Grant {licensing.LABELS[feature]}.",
            )
        parser.add_argument(
            "--out", metavar="FILE", help="Write the license here instead of standard output."
        )

    def handle(self, *args, **options):
        try:
            pem = Path(options["private_key"]).read_bytes()
        except OSError as exc:
            raise CommandError(
                f"Cannot read the private key {options['private_key']}: {exc.strerror}."
            ) from None
        created = options["created"] or timezone.localdate()
        expires = options["expires"] or created + timedelta(days=options["days"])
        body = {
            "type": options["type"],
            "description": options["description"],
            "licensee": options["licensee"],
            "issuer": options["issuer"],
            "max_users": options["max_users"],
            "created": created.isoformat(),
            "expires": expires.isoformat(),
            "edition": options["edition"],
            "instance": options["instance"],
            "features": {
                **{feature.value: _names(options[feature.value]) for feature in licensing.LISTED},
                **{
                    feature.value: bool(options[feature.value])
                    for feature in licensing.FLAGS
                    # not granted here: the edition decides (test steps come with Advanced)
                    if options[feature.value] or feature not in licensing.EDITION_FLAGS
                },
            },
        }
        try:
            text = licensing.sign(body, licensing.load_private_key(pem))
        except licensing.LicenseError as error:
            raise CommandError(str(error)) from None
        if options["out"]:
            Path(options["out"]).write_text(text, encoding="utf-8")
            self.stdout.write(f"License written to {options['out']}.")
        else:
            self.stdout.write(text, ending="")
