"""First-run setup: a one-time token proves that whoever creates the first administrator can read
the server's console or its data directory.

While no user exists, Hub keeps a token in ``HUB_HOME/setup-token`` (owner-only) and prints it
at start. The first-run page accepts it once; creating the first administrator deletes it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from hub.roles import set_role


def token_path() -> Path:
    return Path(settings.HUB_HOME) / "setup-token"


def first_run_open() -> bool:
    return not get_user_model().objects.exists()


def ensure_setup_token() -> str | None:
    """Return the setup token while no user exists (making one if needed), else ``None``."""
    path = token_path()
    if not first_run_open():
        path.unlink(missing_ok=True)
        return None
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return token


def token_matches(candidate: str) -> bool:
    path = token_path()
    if not path.exists():
        return False
    return hmac.compare_digest(path.read_text().strip().encode(), candidate.strip().encode())


def create_first_administrator(username: str, email: str, password: str):
    with transaction.atomic():
        user = get_user_model().objects.create_superuser(username=username, email=email, password=password)
        set_role(user, "administrator")
    token_path().unlink(missing_ok=True)
    return user
