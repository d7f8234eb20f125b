"""Where the configuration domain's secrets (repository passwords and tokens, proxy passwords,
gateway tokens, SQL passwords) are sealed and unsealed.

Every secret column of ``integrations`` is a ``SecretField`` from this module and every read of a
clear value goes through ``unseal``, so the configuration domain depends on the encryption helper in
exactly one place. The sealing itself is delegated: to ``hub.fields.SecretField`` / ``hub.vault``
(encryption under the master password) when that helper is installed, otherwise to a Fernet key
derived from the instance's signing key so that nothing is ever written in clear.
"""

from __future__ import annotations

import base64
import hashlib

from django.db import models

try:  # the master-password helper
    from hub.fields import MASK, Secret, SecretField  # noqa: F401
except ImportError:  # pragma: no cover - replaced as soon as hub.fields is installed
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from django import forms

    MASK = "••••••••"
    _PREFIX = "sealed:"

    def _fernet() -> Fernet:
        from django.conf import settings

        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hub.integrations.secrets").derive(
            settings.SECRET_KEY.encode()
        )
        return Fernet(base64.urlsafe_b64encode(key))

    class Secret:
        """A stored secret, still sealed; prints as a mask."""

        __slots__ = ("token",)

        def __init__(self, token: str):
            self.token = token

        def reveal(self) -> str:
            return _fernet().decrypt(self.token[len(_PREFIX) :].encode()).decode()

        def __str__(self) -> str:
            return MASK

        def __repr__(self) -> str:
            return "<Secret: hidden>"

        def __eq__(self, other) -> bool:
            return isinstance(other, Secret) and other.token == self.token

        def __hash__(self) -> int:
            return hash(self.token)

    class _SecretFormField(forms.CharField):
        def __init__(self, **kwargs):
            kwargs.setdefault("required", False)
            kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
            kwargs.setdefault("help_text", "Stored encrypted. Leave empty to keep the stored value.")
            kwargs.pop("max_length", None)
            super().__init__(**kwargs)

        def prepare_value(self, value):
            return ""

    class SecretField(models.TextField):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("null", True)
            kwargs.setdefault("blank", True)
            super().__init__(*args, **kwargs)

        def from_db_value(self, value, expression, connection):
            return Secret(value) if value else None

        def to_python(self, value):
            if value in (None, "") or isinstance(value, Secret):
                return value or None
            return Secret(value) if str(value).startswith(_PREFIX) else str(value)

        def _token(self, value):
            if value in (None, ""):
                return None
            if isinstance(value, Secret):
                return value.token
            return _PREFIX + _fernet().encrypt(str(value).encode()).decode()

        def pre_save(self, model_instance, add):
            token = self._token(getattr(model_instance, self.attname))
            sealed = Secret(token) if token else None
            setattr(model_instance, self.attname, sealed)
            return sealed

        def get_prep_value(self, value):
            return self._token(value)

        def save_form_data(self, instance, data):
            if data not in (None, ""):
                setattr(instance, self.attname, data)

        def formfield(self, **kwargs):
            return models.Field.formfield(self, **{"form_class": _SecretFormField, **kwargs})


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
    """A one-way digest to compare a presented token with a stored one without revealing either."""
    return hashlib.sha256(value.encode()).hexdigest()
