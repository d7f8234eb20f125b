"""The repository form, built from the connector kind's declared settings fields."""

from __future__ import annotations

from django import forms

from hub.forms import CleanModelForm
from integrations.models import Repository

# Form fields every repository has, whatever its kind.
ALWAYS = ("label", "enabled")
MODEL_SETTINGS = {
    "url",
    "auth_method",
    "username",
    "password",
    "token",
    "proxy_url",
    "proxy_username",
    "proxy_password",
    "allow_insecure",
    "timeout",
    "events_per_minute",
}


def kind_choices() -> list[tuple[str, str]]:
    from connectors import registry

    return [(kind, cls.label) for kind, cls in registry.kinds().items()]


def _extra_field(setting) -> forms.Field:
    common = {"label": setting.label, "required": setting.required, "help_text": setting.help}
    if setting.type == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    if setting.type == "integer":
        return forms.IntegerField(**common)
    if setting.type == "choice":
        return forms.ChoiceField(choices=list(setting.choices), **common)
    if setting.type == "url":
        return forms.URLField(assume_scheme="https", **common)
    return forms.CharField(**common)


class RepositoryForm(CleanModelForm):
    """Label, the kind's own settings (in its order), then proxy, TLS, timeout and rate limit."""

    class Meta:
        model = Repository
        fields = [
            "label",
            "url",
            "auth_method",
            "username",
            "password",
            "token",
            "use_proxy",
            "proxy_url",
            "proxy_username",
            "proxy_password",
            "allow_insecure",
            "timeout",
            "events_per_minute",
            "enabled",
        ]

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        from connectors import registry

        self.kind = kind
        self.instance.kind = kind
        declared = registry.settings_fields(kind)
        names = {s.name for s in declared}
        self.extra_names: list[str] = []
        for setting in declared:
            if setting.name in MODEL_SETTINGS:
                field = self.fields[setting.name]
                field.label = setting.label
                field.help_text = setting.help or field.help_text
                if setting.type == "choice":
                    self.fields[setting.name] = forms.ChoiceField(
                        choices=list(setting.choices), label=setting.label, required=setting.required
                    )
                elif setting.required and not setting.secret:
                    field.required = True
                if (
                    setting.default
                    and not self.instance.pk
                    and setting.name not in ("timeout", "events_per_minute")
                ):
                    field.initial = setting.default
            elif not setting.secret:  # a kind's secrets are password/token; others are never stored in clear
                self.fields[setting.name] = _extra_field(setting)
                self.fields[setting.name].initial = (self.instance.extra or {}).get(
                    setting.name, setting.default
                )
                self.extra_names.append(setting.name)
        for name in MODEL_SETTINGS - names:
            self.fields.pop(name, None)
        if "proxy_url" not in names:
            self.fields.pop("use_proxy", None)
        self.order_fields(["label", *[s.name for s in declared], "enabled"])

    def settings_changed(self) -> bool:
        """Whether the form differs from what is stored; an empty secret input keeps the secret."""
        secrets = Repository.SECRET_FIELDS
        return any(name not in secrets or self.cleaned_data.get(name) for name in self.changed_data)

    def save(self, commit=True):
        repository = super().save(commit=False)
        repository.kind = self.kind
        repository.extra = {name: self.cleaned_data.get(name) for name in self.extra_names}
        if any(self.cleaned_data.get(name) for name in ("password", "token")):
            repository.needs_new_credentials = False
        if commit:
            repository.save()
        return repository
