"""``SecretField``: the one way any app stores a password, token or other secret.

The column holds only a ciphertext token (``hub.vault``). On a model instance the attribute is a
``Secret`` — still encrypted, shown as dots, revealed only by ``.reveal()`` in the one place
that needs the clear text (the connector that logs in, the SMTP client). Assigning a plain
string encrypts it on save; saving without a master password fails with CCRRTT-30005E instead
of storing anything in clear. Forms get a write-only password input, and leaving it empty keeps
the stored secret.
"""

from __future__ import annotations

from django import forms
from django.db import models

MASK = "••••••••"


class Secret:
    """A stored secret, still encrypted. Its text form is a mask, so templates, logs and error
    messages that print it by accident show nothing."""

    __slots__ = ("token", "context")

    def __init__(self, token: str, context: str):
        self.token = token
        self.context = context

    def reveal(self) -> str:
        from hub import vault

        return vault.decrypt(self.token, self.context)

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"<Secret {self.context}: hidden>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


class SecretFormField(forms.CharField):
    """Write-only: never renders a stored value; empty input means "keep what is stored"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        kwargs.setdefault(
            "widget", forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        )
        kwargs.setdefault("help_text", "Stored encrypted. Leave empty to keep the stored value.")
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ""  # never send a secret, nor its ciphertext, back to the browser

    def clean(self, value):
        """Refuse a new secret while it could not be encrypted, before anything is saved."""
        from hub import vault

        value = super().clean(value)
        if value:
            problem = vault.storage_problem()
            if problem is not None:
                raise forms.ValidationError(f"{problem.code}: {problem}")
        return value


class SecretField(models.TextField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    @property
    def context(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    def _sealed(self, token: str) -> Secret:
        return Secret(token, self.context)

    def from_db_value(self, value, expression, connection):
        return self._sealed(value) if value else None

    def to_python(self, value):
        from hub import vault

        if value is None or isinstance(value, Secret):
            return value
        value = str(value)
        if value == "":
            return None
        return self._sealed(value) if vault.is_token(value) else value  # a plain value, encrypted on save

    def _token(self, value) -> str | None:
        from hub import vault

        if value is None or value == "":
            return None
        if isinstance(value, Secret):
            return value.token
        value = str(value)
        return value if vault.is_token(value) else vault.encrypt(value, self.context)

    def pre_save(self, model_instance, add):
        token = self._token(getattr(model_instance, self.attname))
        sealed = self._sealed(token) if token else None
        setattr(model_instance, self.attname, sealed)
        return sealed

    def get_prep_value(self, value):
        return self._token(value)

    def value_to_string(self, obj) -> str:
        return self._token(self.value_from_object(obj)) or ""

    def save_form_data(self, instance, data):
        if data in (None, ""):
            return  # an empty password input keeps the stored secret
        setattr(instance, self.attname, data)

    def formfield(self, **kwargs):
        # Field's, not TextField's: that one would force a Textarea that shows the value.
        return models.Field.formfield(self, **{"form_class": SecretFormField, **kwargs})
