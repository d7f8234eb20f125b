"""The model editor: the model's name and a formset of its fields."""

from __future__ import annotations

from django import forms
from django.utils.text import slugify

from hub.forms import CleanModelForm
from integrations.models import Model, ModelField
from integrations.models.modeling import SELECT_TYPES


class ModelForm(CleanModelForm):
    class Meta:
        model = Model
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


def parse_options(text: str) -> list[dict]:
    """One option a line, ``id: label`` or just ``label`` (its id made from the label)."""
    options, seen = [], set()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        option_id, _, label = line.partition(":") if ":" in line else (slugify(line) or line, "", line)
        option_id, label = option_id.strip(), label.strip() or option_id.strip()
        if option_id in seen:
            raise forms.ValidationError(f"The option id “{option_id}” appears twice.")
        seen.add(option_id)
        options.append({"id": option_id, "label": label})
    return options


def format_options(options: list[dict]) -> str:
    return "\n".join(f"{o['id']}: {o['label']}" for o in options or [])


class ModelFieldForm(CleanModelForm):
    error_fields = {"options": "options_text"}
    options_text = forms.CharField(
        label="Options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Single/Multi Select: one option a line, “id: label”.",
    )

    class Meta:
        model = ModelField
        fields = ["key", "label", "type", "required"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["options_text"].initial = format_options(self.instance.options)

    def clean(self):
        data = super().clean()
        options = parse_options(data.get("options_text", ""))
        self.instance.options = options if data.get("type") in SELECT_TYPES else []
        return data


ModelFieldFormSet = forms.inlineformset_factory(
    Model, ModelField, form=ModelFieldForm, extra=2, can_delete=True
)
