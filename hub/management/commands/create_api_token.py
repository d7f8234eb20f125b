"""``manage.py create_api_token --user NAME --name LABEL``: make a REST API token, printed once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hub import api_tokens, audit
from hub.management.commands._provisioning import SOURCE


class Command(BaseCommand):
    help = "Create a REST API token for a user and print it. Only its hash is stored: keep the printed token."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username the token acts as.")
        parser.add_argument(
            "--name", required=True, help="What the token is for, e.g. 'provisioning script'."
        )

    def handle(self, *args, user: str, name: str, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"There is no user named '{user}'.")
        if not account.is_active:
            raise CommandError(f"The user '{user}' is inactive.")
        try:
            with transaction.atomic():
                record, token = api_tokens.create_token(account, name)
                audit.record_change(
                    None,
                    "create",
                    "API token",
                    record.name,
                    None,
                    {"user": user, "name": record.name, "prefix": record.prefix},
                    source=SOURCE,
                    element_id=record.pk,
                )
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(token)
