"""Where the configuration domain's secrets (repository passwords and tokens, proxy passwords,
gateway tokens, SQL passwords) are sealed and unsealed.

Every secret column of ``integrations`` is a ``SecretField`` and every read of a clear value goes
through ``unseal``, so the configuration domain depends on the encryption in exactly one place. The
sealing is delegated to the master-password helper: ``hub.fields.SecretField`` encrypts under the
master password (``hub.vault``) and refuses to store anything in clear.
"""

from __future__ import annotations

import hashlib

from hub.fields import MASK, Secret, SecretField

__all__ = ["MASK", "Secret", "SecretField", "fingerprint", "is_set", "unseal"]


def unseal(value) -> str:
    """The clear text of a stored secret (a ``Secret``), or of a value not saved yet; "" when unset."""
    if value in (None, ""):
        return ""
    if isinstance(value, Secret):
        return value.reveal()
    return str(value)


def is_set(value) -> bool:
    return value not in (None, "")


def fingerprint(value: str) -> str:
    """A one-way digest to recognise a presented token without keeping it."""
    return hashlib.sha256(value.encode()).hexdigest()
