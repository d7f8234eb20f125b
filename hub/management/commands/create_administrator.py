"""``manage.py create_administrator``: create an administrator without prompting (for provisioning)."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hub import audit
from hub.management.commands._provisioning import SOURCE, add_secret_arguments, read_secret
from hub.roles import set_role


class Command(BaseCommand):
    help = "Create a Hub administrator non-interactively. The password is read from a file or standard input."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        add_secret_arguments(parser, "password", "password")

    def handle(self, *args, username: str, email: str, **options):
        password = read_secret(options, "password", "password")
        User = get_user_model()
        try:
            for validator in User._meta.get_field("username").validators:
                validator(username)
            if email:
                User._meta.get_field("email").run_validators(email)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named '{username}' exists already.")
        try:
            password_validation.validate_password(password, User(username=username, email=email))
        except ValidationError as error:
            raise CommandError("The password is not accepted: " + " ".join(error.messages)) from None
        with transaction.atomic():
            user = User.objects.create_superuser(username=username, email=email, password=password)
            set_role(user, "administrator")
            audit.record_change(
                None,
                "create",
                "User",
                username,
                None,
                {"username": username, "email": email, "role": "administrator"},
                source=SOURCE,
                element_id=user.pk,
            )
        self.stdout.write(f"Administrator '{username}' created.")
