"""REST API tokens: made here, shown once, stored only as a SHA-256 hash.

A token is 256 random bits, so a fast hash is enough: there is nothing to guess from it.
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from hub.models import ApiToken

PREFIX = "hub_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user, name: str) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the record and the token text, which is never stored."""
    name = name.strip()
    if not name:
        raise ValueError("A token needs a name, e.g. the script that will use it.")
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise ValueError(f"{user.get_username()} already has a token named '{name}'.")
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name, token_hash=_hash(token), prefix=token[:12])
    return record, token


def authenticate(token: str):
    """The active user a valid, unrevoked token belongs to, or ``None``; records its use."""
    record = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(token.strip()), revoked__isnull=True, user__is_active=True)
        .first()
    )
    if record is None:
        return None
    ApiToken.objects.filter(pk=record.pk).update(last_used=timezone.now())
    return record.user


def revoke(record: ApiToken) -> None:
    ApiToken.objects.filter(pk=record.pk, revoked__isnull=True).update(revoked=timezone.now())
