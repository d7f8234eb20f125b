from __future__ import annotations

from django import forms

from extensions import services
from extensions.errors import ExtensionError
from extensions.models import Extension, KeyValueStore


class ExtensionForm(forms.ModelForm):
    class Meta:
        model = Extension
        fields = ["name", "type", "description", "script"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "script": forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "data-editor": "javascript"}),
        }

    def clean(self):
        data = super().clean()
        self.notice, self.error_line = "", None
        if self.errors or not data.get("script"):
            return data
        from extensions.licensing import refusal_of_type

        refused = refusal_of_type(data["type"])
        if refused is not None:
            raise forms.ValidationError(f"{refused.code}: Extension cannot be used: {refused.message}")
        try:
            checked = services.check_script(data["script"], data["type"])
        except ExtensionError as error:
            self.error_line = error.line
            self.add_error("script", f"{error.code}: {error.message}")
            return data
        self.notice = checked.notice
        return data


class StoreForm(forms.ModelForm):
    class Meta:
        model = KeyValueStore
        fields = ["name", "kind"]
        widgets = {"kind": forms.RadioSelect}
        help_texts = {
            "kind": "Confidential: values encrypted under the master password and never shown again. "
            "Plain: values kept and shown as they are.",
        }


class PairForm(forms.Form):
    key = forms.CharField(max_length=500, strip=False, help_text="Case-sensitive: “Key” and “key” differ.")
    value = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 1}), required=False, strip=False, max_length=100_000
    )


class ImportForm(forms.Form):
    file = forms.FileField(help_text=".csv (key,value a line) or .json (one object of key: value).")
