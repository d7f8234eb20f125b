"""Forms of the collection screens: repository, gateway and SQL collections and field mappings."""

from __future__ import annotations

import json

from django import forms
from django.urls import reverse

from hub.forms import CleanModelForm
from hub.ids import parse_id
from integrations import mapping_rules, transforms
from integrations.models import FieldMapping, GatewayCollection, RepositoryCollection, SqlCollection
from integrations.models.modeling import SELECT_TYPES, FieldType

TYPE_LABELS = dict(FieldType.choices)  # a repository field's type as the screens name it


class RepositoryCollectionForm(CleanModelForm):
    """A new collection takes its projects here too, from the chosen repository's live list (the
    screen reloads the projects when the repository changes, and the artifact types when projects
    are ticked); a saved one changes its projects under Manage projects."""

    projects = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the repository's live list; change them later under Manage projects.",
    )
    artifact_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the repository's live list for the chosen projects.",
    )

    class Meta:
        model = RepositoryCollection
        fields = ["name", "repository", "model", "projects", "artifact_types", "query"]
        widgets = {"query": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "query": "Narrows change detection to what the query selects. Jira (Cloud and Data Center): a "
            'JQL condition without ORDER BY, e.g. labels = sync or filter = "Synced issues"; one Jira '
            "refuses stops detection with CCRRTT-1116E. A query on a connector that cannot run one blocks "
            "the collection's integrations (CCRRTT-1413E)."
        }

    def __init__(self, *args, artifact_type_choices=(), project_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project_choices is None:  # a saved collection: Manage projects
            del self.fields["projects"]
        else:
            self.fields["projects"].choices = list(project_choices)
            # Choosing the repository lists its projects; ticking projects lists their types (HTMX).
            reload = {
                "hx-get": reverse("collection-choices"),
                "hx-trigger": "change",
                "hx-include": "#collection-form",
                "hx-target": "#collection-choices",
            }
            self.fields["repository"].widget.attrs.update(reload)
            self.fields["projects"].widget.attrs.update(reload)
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


RELATIONSHIP_PREFIX = "relationship_"


class GatewayCollectionForm(CleanModelForm):
    """Name, model, payload transformation and the Relationship Field Configuration: one repository
    per Relationship(s) field of the chosen model (20004E while one is missing)."""

    class Meta:
        model = GatewayCollection
        fields = ["name", "model", "extension"]
        error_messages = {"model": {"required": "CCRRTT-20005E: a gateway collection must have a model."}}

    def __init__(self, *args, model_id=None, **kwargs):
        from extensions.models import Extension, ExtensionType
        from integrations.models import Model, Repository

        super().__init__(*args, **kwargs)
        self.fields["extension"].queryset = Extension.objects.filter(
            type=ExtensionType.PAYLOAD_TRANSFORMATION
        )
        self.fields["extension"].help_text = (
            "A payload transformation extension (transformPayload) turns any JSON into model-shaped "
            "artifacts. Empty: a payload must already be shaped like the model."
        )
        if model_id is None:
            model_id = self.data.get("model") if self.is_bound else self.instance.model_id
        model_pk = parse_id(model_id)
        model = Model.objects.filter(pk=model_pk).first() if model_pk is not None else None
        configured = self.instance.relationship_repositories or {}
        repositories = [("", "—")] + [(str(r.pk), r.label) for r in Repository.objects.order_by("label")]
        self.relationship_fields = []
        for field in model.fields.all() if model else []:
            if field.type not in (FieldType.RELATIONSHIP, FieldType.RELATIONSHIPS):
                continue
            name = RELATIONSHIP_PREFIX + field.key
            self.fields[name] = forms.ChoiceField(
                label=f"“{field.label}” points to",
                choices=repositories,
                required=False,
                initial=str(configured.get(field.key) or ""),
            )
            self.relationship_fields.append((field, name))

    def relationship_bound_fields(self):
        return [self[name] for _, name in self.relationship_fields]

    def clean(self):
        from hub import licensing

        data = super().clean()
        for field, name in self.relationship_fields:
            if not data.get(name):
                self.add_error(
                    name,
                    f"CCRRTT-20004E: choose the repository the relationship field “{field.label}” points to.",
                )
        if data.get("extension"):
            refused = licensing.refusal(licensing.Feature.GATEWAY_PAYLOAD_TRANSFORMATION)
            if refused is not None:
                self.add_error(
                    "extension",
                    f"CCRRTT-20006E: the license permits no payload transformation: {refused.message}",
                )
        return data

    def save(self, commit=True):
        collection = super().save(commit=False)
        collection.relationship_repositories = {
            field.key: int(self.cleaned_data[name]) for field, name in self.relationship_fields
        }
        if commit:
            collection.save()
        return collection


class SqlCollectionForm(CleanModelForm):
    class Meta:
        model = SqlCollection
        fields = ["name", "database_url", "password", "table", "model"]

    def clean(self):
        from integrations import eds

        data = super().clean()
        if data.get("database_url") and "database_url" not in self.errors:
            refused = eds.operational_database_refusal(data["database_url"])
            if refused:
                self.add_error("database_url", refused)
        return data


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


class ValueMapInput(forms.Textarea):
    """A value map as ``from = to`` lines. The screen offers one choice per option instead where
    the options are known (each posts one ``from = to`` line, or nothing for "use the default"),
    so both arrive here as the same text."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name, "")]
        return "\n".join(v for v in values if v and v.strip())


VALUE_MAP_FORMAT = (
    "One line per value: {source} = {target}, for example “urgent = high”. "
    "Values without a line get the default below."
)


def value_map_choices(form: FieldMappingForm) -> dict:
    """What the value map part of the mapping screen offers for the fields chosen on ``form``:
    the repository field's options and the model field's, with what is mapped now."""
    data = form.data if form.is_bound else form.initial
    getlist = data.getlist if hasattr(data, "getlist") else (lambda name: data.get(name) or [])
    repository = [form.schema[f] for f in getlist("repository_fields") if f in form.schema]
    model = [form.model_field_objects[k] for k in getlist("model_fields") if k in form.model_field_objects]
    if len(repository) != 1 or len(model) != 1:
        return {}
    repo_options = [(str(o.id), o.label) for o in repository[0].options]
    model_options = [(str(o["id"]), o.get("label", o["id"])) for o in model[0].options or []]
    current = {}
    for name in ("to_model", "to_repository"):
        try:
            current[name] = parse_value_map(form[name].value() or "")
        except forms.ValidationError:
            current[name] = {}
    return {
        "repository_field": repository[0],
        "model_field": model[0],
        "repository_options": repo_options,
        "model_options": model_options,
        # one row per repository option, its chosen model option ("" = the default)
        "to_model_rows": [
            (value, label, current["to_model"].get(value, "")) for value, label in repo_options
        ],
        "to_repository_rows": [
            (value, label, current["to_repository"].get(value, "")) for value, label in model_options
        ],
        "to_model_default": form["to_model_default"].value() or "",
        "to_repository_default": form["to_repository_default"].value() or "",
        "to_model_format": VALUE_MAP_FORMAT.format(source="repository value", target="model option id"),
        "to_repository_format": VALUE_MAP_FORMAT.format(source="model option id", target="repository value"),
    }


class FieldMappingForm(forms.Form):
    """One mapping line. Choices come from the collection's live schema and its model."""

    repository_fields = forms.MultipleChoiceField(label="Repository field(s)", required=False)
    model_fields = forms.MultipleChoiceField(label="Model field(s)")
    direction = forms.ChoiceField(choices=FieldMapping.Direction.choices, initial=FieldMapping.Direction.BOTH)
    transform = forms.ChoiceField(
        choices=[(t.name, t.label) for t in (*transforms.BUILT_IN, transforms.EXTENSION)]
    )
    to_model_extension = forms.ChoiceField(label="Extension, repository → model", required=False)
    to_repository_extension = forms.ChoiceField(label="Extension, model → repository", required=False)
    to_model = forms.CharField(
        label="Value map to the model",
        required=False,
        widget=ValueMapInput(attrs={"rows": 3}),
        help_text="Repository value = model option id, one a line.",
    )
    to_model_default = forms.CharField(label="Default model value for unmapped values", required=False)
    to_repository = forms.CharField(
        label="Value map to the repository",
        required=False,
        widget=ValueMapInput(attrs={"rows": 3}),
        help_text="Model option id = repository value, one a line.",
    )
    to_repository_default = forms.CharField(
        label="Default repository value for unmapped values", required=False
    )
    value = forms.CharField(label="Constant value", required=False)
    separator = forms.CharField(label="Separator", required=False, strip=False)
    container_type = forms.CharField(
        label="Container type",
        required=False,
        help_text="Select of containers ↔ container: the type of the containers the values are "
        "(Redmine's target versions: version).",
    )

    def __init__(self, *args, schema=(), model_fields=(), others=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.schema = {f.id: f for f in schema}
        self.model_field_objects = {f.key: f for f in model_fields}
        self.others = list(others)  # the collection's other lines (``Line``), for fields mapped twice
        self.fields["repository_fields"].choices = [
            (f.id, f"{f.label} ({TYPE_LABELS.get(f.type, f.type)})") for f in self.schema.values()
        ]
        self.fields["model_fields"].choices = [
            (f.key, f"{f.label} ({f.get_type_display()})") for f in self.model_field_objects.values()
        ]
        from extensions.transformations import transformations

        names = [("", "—")] + [(e.name, e.name) for e in transformations()]
        self.fields["to_model_extension"].choices = names
        self.fields["to_repository_extension"].choices = names

    @property
    def fitting_extensions(self) -> dict:
        """Custom data transformations that fit the fields chosen so far, per direction."""
        from extensions import transformations as ext

        if self.is_bound:
            repo_ids, model_keys = self.data.getlist("repository_fields"), self.data.getlist("model_fields")
        else:
            repo_ids = self.initial.get("repository_fields") or []
            model_keys = self.initial.get("model_fields") or []
        repo = [str(self.schema[f].type) for f in repo_ids if f in self.schema]
        model = [self.model_field_objects[k].type for k in model_keys if k in self.model_field_objects]
        to_model = ext.fitting(repo, model)
        return {
            "to_model": to_model,
            "to_repository": ext.fitting(model, repo),
            "lossy": [e.name for e in to_model if ext.is_lossy(e)],
        }

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
        if data["transform"] == transforms.EXTENSION.name:
            data["params"] = self._extension_params(list(repo_types.values()), list(model_types.values()))
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
        elif data["transform"] == "container_ref":
            params["container_type"] = (data.get("container_type") or "").strip()
            if not params["container_type"]:
                self.add_error("container_type", "Name the type of the containers (for example version).")
        data["params"] = params
        line = mapping_rules.line_of(
            data["repository_fields"],
            repo_types,
            data["model_fields"],
            self.model_field_objects,
            data["direction"],
            data["transform"],
            params,
        )
        for refusal in mapping_rules.refusals(line, self.model_field_objects, self.others):
            self.add_error(refusal.field, str(refusal))
        return data

    def _extension_params(self, repo_types: list[str], model_types: list[str]) -> dict:
        """The chosen extension(s) for the directions this line carries, each checked to fit."""
        from extensions import transformations as ext

        data = self.cleaned_data
        direction = data["direction"]
        wanted = []
        if direction in (FieldMapping.Direction.TO_MODEL, FieldMapping.Direction.BOTH):
            wanted.append((ext.TO_MODEL, "to_model_extension", repo_types, model_types, "repository → model"))
        if direction in (FieldMapping.Direction.TO_REPOSITORY, FieldMapping.Direction.BOTH):
            wanted.append(
                (ext.TO_REPOSITORY, "to_repository_extension", model_types, repo_types, "model → repository")
            )
        params = {ext.TO_MODEL: "", ext.TO_REPOSITORY: ""}
        for key, field, source, target, label in wanted:
            name = data.get(field) or ""
            fitting = ext.fitting(source, target)
            if name not in [e.name for e in fitting]:
                offered = ", ".join(e.name for e in fitting) or "none"
                self.add_error(
                    field,
                    f"CCRRTT-17002E: choose an extension for {label} whose declared types are "
                    f"{'/'.join(source)} → {'/'.join(target)}, in this order. Fitting: {offered}.",
                )
            params[key] = name
        chosen = [self.schema[f] for f in data.get("repository_fields", []) if f in self.schema]
        params["repository_fields_info"] = ext.schema_info(chosen)
        return params

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


def other_lines(collection, model_fields, editing: FieldMapping | None = None) -> list:
    """The collection's stored lines other than the one being edited, as the rules read them."""
    by_key = {f.key: f for f in model_fields}
    return [
        mapping_rules.stored_line(m, by_key)
        for m in collection.mappings.all()
        if editing is None or m.pk != editing.pk
    ]


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
        "container_type": params.get("container_type", ""),
        "to_model_extension": params.get("to_model_extension", ""),
        "to_repository_extension": params.get("to_repository_extension", ""),
        "params_json": json.dumps(params),
    }
