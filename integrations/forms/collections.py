"""Forms of the collection screens: repository, gateway and SQL collections and field mappings."""

from __future__ import annotations

import json

from django import forms

from hub.forms import CleanModelForm
from integrations import transforms
from integrations.models import FieldMapping, GatewayCollection, RepositoryCollection, SqlCollection
from integrations.models.modeling import SELECT_TYPES


class RepositoryCollectionForm(CleanModelForm):
    artifact_types = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="From the repository's live list."
    )

    class Meta:
        model = RepositoryCollection
        fields = ["name", "repository", "model", "artifact_types", "query"]
        widgets = {"query": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, artifact_type_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        known = list(artifact_type_choices)
        known_ids = {choice for choice, _ in known}
        # Keep chosen types the live list no longer shows, so saving loses nothing.
        known += [
            (t, f"{t} (not found in the repository)")
            for t in self.instance.artifact_types
            if t not in known_ids
        ]
        self.fields["artifact_types"].choices = known
        if self.instance.pk:
            self.fields["repository"].disabled = True  # changing it would invalidate every project


class GatewayCollectionForm(CleanModelForm):
    class Meta:
        model = GatewayCollection
        fields = ["name", "model"]


class SqlCollectionForm(CleanModelForm):
    class Meta:
        model = SqlCollection
        fields = ["name", "database_url", "password", "table"]


def parse_value_map(text: str) -> dict[str, str]:
    """``from = to`` a line."""
    values = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        source, sep, target = line.partition("=")
        if not sep:
            raise forms.ValidationError(f"“{line.strip()}” is not “value = value”.")
        values[source.strip()] = target.strip()
    return values


def format_value_map(values: dict) -> str:
    return "\n".join(f"{k} = {v}" for k, v in (values or {}).items())


class FieldMappingForm(forms.Form):
    """One mapping line. Choices come from the collection's live schema and its model."""

    repository_fields = forms.MultipleChoiceField(label="Repository field(s)", required=False)
    model_fields = forms.MultipleChoiceField(label="Model field(s)")
    direction = forms.ChoiceField(choices=FieldMapping.Direction.choices, initial=FieldMapping.Direction.BOTH)
    transform = forms.ChoiceField(choices=[(t.name, t.label) for t in transforms.BUILT_IN])
    to_model = forms.CharField(
        label="Value map to the model",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Repository option = model option, one a line.",
    )
    to_model_default = forms.CharField(label="Default model value for unmapped values", required=False)
    to_repository = forms.CharField(
        label="Value map to the repository",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Model option = repository option, one a line.",
    )
    to_repository_default = forms.CharField(
        label="Default repository value for unmapped values", required=False
    )
    value = forms.CharField(label="Constant value", required=False)
    separator = forms.CharField(label="Separator", required=False, strip=False)

    def __init__(self, *args, schema=(), model_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.schema = {f.id: f for f in schema}
        self.model_field_objects = {f.key: f for f in model_fields}
        self.fields["repository_fields"].choices = [
            (f.id, f"{f.label} ({f.type})") for f in self.schema.values()
        ]
        self.fields["model_fields"].choices = [
            (f.key, f"{f.label} ({f.get_type_display()})") for f in self.model_field_objects.values()
        ]

    def types(self):
        data = self.cleaned_data
        repo = {k: str(self.schema[k].type) for k in data.get("repository_fields", []) if k in self.schema}
        model = {k: self.model_field_objects[k].type for k in data.get("model_fields", [])}
        return repo, model

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        repo_types, model_types = self.types()
        if not repo_types and data["transform"] != "constant":
            self.add_error(
                "repository_fields", "Choose at least one repository field (or use a constant value)."
            )
            return data
        fitting = transforms.fitting(list(repo_types.values()), list(model_types.values()))
        if data["transform"] not in [t.name for t in fitting]:
            offered = ", ".join(t.label for t in fitting) or "none"
            self.add_error(
                "transform",
                f"CCRRTT-17002E: this transform does not fit {'/'.join(repo_types.values()) or 'no field'} → "
                f"{'/'.join(model_types.values())}. Fitting transforms: {offered}.",
            )
            return data
        params = {}
        if data["transform"] == "value_map":
            for name in ("to_model", "to_repository"):
                params[name] = parse_value_map(data.get(name, ""))
                params[f"{name}_default"] = data.get(f"{name}_default", "")
            self._check_options(params)
        elif data["transform"] == "constant":
            params["value"] = data.get("value", "")
        elif data["transform"] in ("join", "split"):
            params["separator"] = data.get("separator") or " "
        data["params"] = params
        return data

    def _check_options(self, params):
        for key in self.cleaned_data["model_fields"]:
            field = self.model_field_objects[key]
            if field.type not in SELECT_TYPES:
                continue
            known = set(field.option_ids)
            used = set(params["to_model"].values()) | set(params["to_repository"].keys())
            used |= {params["to_model_default"]} - {""}
            unknown = sorted(used - known)
            if unknown:
                self.add_error(
                    "to_model",
                    f"“{field.label}” has no option(s) {', '.join(unknown)}; "
                    f"its options: {', '.join(sorted(known))}.",
                )

    def save(self, collection, mapping: FieldMapping | None = None) -> FieldMapping:
        repo_types, model_types = self.types()
        mapping = mapping or FieldMapping(collection=collection)
        mapping.repository_fields = self.cleaned_data["repository_fields"]
        mapping.repository_field_types = repo_types
        mapping.model_fields = self.cleaned_data["model_fields"]
        mapping.model_field_types = model_types
        mapping.direction = self.cleaned_data["direction"]
        mapping.transform = self.cleaned_data["transform"]
        mapping.params = self.cleaned_data["params"]
        mapping.save()
        return mapping


def mapping_initial(mapping: FieldMapping) -> dict:
    params = mapping.params or {}
    return {
        "repository_fields": mapping.repository_fields,
        "model_fields": mapping.model_fields,
        "direction": mapping.direction,
        "transform": mapping.transform,
        "to_model": format_value_map(params.get("to_model")),
        "to_model_default": params.get("to_model_default", ""),
        "to_repository": format_value_map(params.get("to_repository")),
        "to_repository_default": params.get("to_repository_default", ""),
        "value": params.get("value", ""),
        "separator": params.get("separator", ""),
        "params_json": json.dumps(params),
    }
