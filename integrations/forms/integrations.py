"""Forms of the integration screens: general settings, routes, artifact filters and field flow."""

from __future__ import annotations

from django import forms

from hub.forms import CleanModelForm
from integrations import validation
from integrations.models import Integration, RepositoryCollection, Route
from integrations.validation import FILTER_OPERATORS, condition_problem

Flow = Integration.Flow
Style = Integration.Style
PRIVATE_HANDLING = [
    ("skip", "Do not send private comments"),
    ("keep", "Keep them private"),
    ("make_public", "Send them as public comments"),
]
DIRECTIONS = (("a_to_b", "A → B"), ("b_to_a", "B → A"))


STREAM_STYLES = (Integration.Style.GATEWAY, Integration.Style.ENTERPRISE_DATA_STREAM)
STREAM_FIELDS = {
    Integration.Style.GATEWAY: [
        "name", "style", "gateway_collection", "collection_b", "twinless_update", "key_identifier",
    ],
    Integration.Style.ENTERPRISE_DATA_STREAM: [
        "name", "style", "collection_a", "more_sources", "gateway_collection", "sql_collection",
        "key_identifier", "detection_interval", "detection_cron", "full_scan_cron",
    ],
}  # fmt: skip
# Where a problem the validators (integrations.gateway.checks, integrations.eds) find is shown.
PROBLEM_FIELDS = {
    "CCRRTT-1405E": "gateway_collection", "CCRRTT-1406E": "collection_b", "CCRRTT-1403E": "collection_b",
    "CCRRTT-1410E": "key_identifier", "CCRRTT-1416E": "key_identifier", "CCRRTT-67001E": "collection_b",
    "CCRRTT-20004E": "gateway_collection", "CCRRTT-20005E": "gateway_collection",
    "CCRRTT-20006E": "gateway_collection", "CCRRTT-20007E": "gateway_collection",
    "CCRRTT-10004E": "sql_collection", "CCRRTT-10006E": "sql_collection", "CCRRTT-10008E": "sql_collection",
    "CCRRTT-30015E": "sql_collection",
}  # fmt: skip
STREAM_LABELS = {
    Integration.Style.GATEWAY: {
        "gateway_collection": (
            "Gateway collection (source)",
            "The collection whose payloads become artifacts.",
        ),
        "collection_b": (
            "Target collection",
            "The repository collection artifacts are created (or updated) in.",
        ),
        "key_identifier": (
            "Key identifier",
            "The model field (String) holding the target artifact's formatted id, e.g. WEB-1. Needed for "
            "twinless artifact update.",
        ),
    },
    Integration.Style.ENTERPRISE_DATA_STREAM: {
        "collection_a": ("Source repository collection", "Every artifact of it becomes a row of the table."),
        "more_sources": (
            "More source repository collections",
            "Further repository collections of the same model streamed into the same table (rows are "
            "keyed by repository and artifact id).",
        ),
        "gateway_collection": ("Source gateway collection", "Every artifact of its payloads becomes a row."),
        "sql_collection": ("Target SQL collection", "The table the rows are written to."),
        "key_identifier": (
            "Key identifier (gateway source)",
            "A model field whose value keys a gateway artifact's row, so that later payloads about the same "
            "thing update it. Empty: one row per payload artifact.",
        ),
    },
}


class StreamIntegrationForm(CleanModelForm):
    """Gateway and Enterprise Data Stream integrations: their collections and settings. A
    configuration the validator would block is refused here, with the same catalog codes."""

    class Meta:
        model = Integration
        fields = sorted({name for names in STREAM_FIELDS.values() for name in names})

    def __init__(self, *args, style: str, **kwargs):
        from integrations.models import GatewayCollection, SqlCollection

        super().__init__(*args, **kwargs)
        self.style = Integration.Style(style)
        for name in list(self.fields):
            if name not in STREAM_FIELDS[self.style]:
                del self.fields[name]
        self.fields["style"].choices = [(c.value, c.label) for c in Integration.Style]
        self.fields["style"].initial = self.style
        if self.instance.pk:
            self.fields["style"].disabled = True  # the collections mean something else in another style
        for name, (label, help_text) in STREAM_LABELS[self.style].items():
            self.fields[name].label, self.fields[name].help_text = label, help_text
        if "collection_b" in self.fields:
            self.fields["collection_b"].required = True
            self.fields["collection_b"].queryset = RepositoryCollection.objects.select_related(
                "repository", "model"
            )
        if "collection_a" in self.fields:
            self.fields["collection_a"].queryset = RepositoryCollection.objects.select_related(
                "repository", "model"
            )
        if "more_sources" in self.fields:
            self.fields["more_sources"].queryset = RepositoryCollection.objects.select_related(
                "repository", "model"
            )
        self.fields["gateway_collection"].queryset = GatewayCollection.objects.select_related("model")
        self.fields["gateway_collection"].required = self.style == Integration.Style.GATEWAY
        if "sql_collection" in self.fields:
            self.fields["sql_collection"].queryset = SqlCollection.objects.select_related("model")
            self.fields["sql_collection"].required = True
            self.fields["sql_collection"].error_messages["required"] = (
                "CCRRTT-10004E: an Enterprise Data Stream needs exactly one target SQL collection."
            )

    def clean_style(self):
        return self.style

    def clean(self):
        from integrations import eds
        from integrations.gateway.checks import integration_problems

        data = super().clean()
        if self.errors:
            return data
        candidate = Integration(pk=self.instance.pk, style=self.style)
        for name in STREAM_FIELDS[self.style]:
            if name in data and name != "more_sources":  # a many-to-many: judged as given, below
                setattr(candidate, name, data[name])
        if self.style == Integration.Style.GATEWAY:
            target = data.get("collection_b")
            found = integration_problems(candidate, {target.pk: target} if target else {})
        else:
            more = list(data.get("more_sources") or [])
            if candidate.collection_a is not None and candidate.collection_a in more:
                self.add_error(
                    "more_sources", "Collection A is streamed already; choose only other collections."
                )
            found = eds.problems(candidate, more)
        for detail, code, message, *_ in found:
            name = PROBLEM_FIELDS.get(code)
            if code == "CCRRTT-10007E" or detail.startswith("gateway-"):
                name = {"gateway": "gateway_collection", "more-model": "more_sources"}.get(
                    detail.split("-")[0] if detail.startswith("gateway-") else detail, "collection_a"
                )
            self.add_error(name if name in self.fields else None, f"{code}: this integration {message}.")
        return data


class IntegrationForm(CleanModelForm):
    """Collections, creation flow, conflict strategy, comment and attachment flow, schedules."""

    class Meta:
        model = Integration
        fields = [
            "name",
            "style",
            "collection_a",
            "collection_b",
            "creation_flow",
            "conflict_strategy",
            "detection_interval",
            "detection_cron",
            "full_scan_cron",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The styles this form configures; a Container + Work Item integration adds its container
        # mirroring on its page (integrations.forms.containers).
        self.fields["style"].choices = [
            (style.value, style.label)
            for style in (Style.WORK_ITEM_SYNC, Style.CONTAINER_WORK_ITEM, Style.TIME_TRACKING)
        ]  # a Time Tracking integration is configured like a Work Item Synchronization, plus worklogs
        for name in ("collection_a", "collection_b"):
            self.fields[name].queryset = RepositoryCollection.objects.select_related("repository", "model")
            self.fields[name].required = True  # nothing synchronizes without both
        for direction, label in DIRECTIONS:
            comments = (self.instance.comment_flow or {}).get(direction, {})
            attachments = (self.instance.attachment_flow or {}).get(direction, {})
            self.fields[f"comments_{direction}"] = forms.BooleanField(
                label=f"Comments {label}", required=False, initial=comments.get("enabled", False)
            )
            self.fields[f"private_{direction}"] = forms.ChoiceField(
                label=f"Private comments {label}",
                choices=PRIVATE_HANDLING,
                initial=comments.get("internal", "skip"),
            )
            self.fields[f"attachments_{direction}"] = forms.BooleanField(
                label=f"Attachments {label}", required=False, initial=attachments.get("enabled", False)
            )
            self.fields[f"max_size_{direction}"] = forms.IntegerField(
                label=f"Largest attachment {label} (MB)",
                min_value=1,
                max_value=2048,
                initial=attachments.get("max_size_mb", 10),
            )

    def clean(self):
        data = super().clean()
        a, b = data.get("collection_a"), data.get("collection_b")
        if a and a == b:
            self.add_error("collection_b", "Collection B must differ from collection A.")
            return data
        for name, code, message in validation.collection_pair_problems(a, b):
            self.add_error(name, f"{code}: this integration {message}.")
        two_way = sorted(
            key for key, value in self.field_flows(a, b).items() if validation.flow_of(value)[0] == Flow.BOTH
        )
        if two_way and not data.get("conflict_strategy") and "conflict_strategy" in self.fields:
            self.add_error(
                "conflict_strategy",
                f"CCRRTT-17007E: {', '.join(two_way)} flow both ways, so a change made on both sides at "
                "once needs a rule: choose which collection wins, or Error upon conflict.",
            )
        return data

    def field_flows(self, a, b) -> dict:
        """The flows the integration will have: those set already, or for a new integration (or one
        with none set) the directions the collections' mappings allow."""
        if self.instance.field_flows:
            return self.instance.field_flows
        return validation.mapped_flows(a, b)

    def save(self, commit=True):
        integration = super().save(commit=False)
        integration.field_flows = self.field_flows(integration.collection_a, integration.collection_b)
        integration.comment_flow = {
            d: {"enabled": self.cleaned_data[f"comments_{d}"], "internal": self.cleaned_data[f"private_{d}"]}
            for d, _ in DIRECTIONS
        }
        integration.attachment_flow = {
            d: {
                "enabled": self.cleaned_data[f"attachments_{d}"],
                "max_size_mb": self.cleaned_data[f"max_size_{d}"],
            }
            for d, _ in DIRECTIONS
        }
        if commit:
            integration.save()
        return integration


def _project_choices(collection: RepositoryCollection | None) -> list[tuple[str, str]]:
    if collection is None:
        return [("", "— choose collection A/B first —")]
    return [("", "—")] + [
        (p.project_id, f"{p.name}{' (invalid)' if p.invalid else ''}") for p in collection.projects.all()
    ]


OPERATOR_CHOICES = [(op, op.replace("_", " ")) for op in FILTER_OPERATORS]
VALUE_HELP = "For “in”: values separated by commas. For “before”/“after”: a date, YYYY-MM-DD."


def _field_choices(model_fields, empty_label: str) -> list[tuple[str, str]]:
    return [("", empty_label)] + [(f.key, f.label) for f in model_fields]


def condition_of(field: str, operator: str, value: str) -> dict | None:
    """The stored form of a condition entered on a screen (one field, one operator, one text value),
    or None when no field was chosen."""
    if not field:
        return None
    if operator == "in":
        value = [v.strip() for v in value.split(",") if v.strip()]
    elif operator == "is_empty":
        value = None
    return {"field": field, "operator": operator, "value": value}


def condition_initial(condition: dict) -> dict:
    value = condition.get("value")
    return {**condition, "value": ", ".join(map(str, value)) if isinstance(value, list) else (value or "")}


class RouteForm(CleanModelForm):
    """One route: its projects and direction, and an optional condition on a model field that an
    artifact must meet to take it. Routes leaving the same project are tried in their order."""

    when_field = forms.ChoiceField(label="Condition field", required=False)
    when_operator = forms.ChoiceField(
        label="Operator", choices=OPERATOR_CHOICES, required=False, initial="equals"
    )
    when_value = forms.CharField(label="Value", required=False)  # the table explains values below it

    class Meta:
        model = Route
        fields = ["project_a", "project_b", "direction"]

    def __init__(self, *args, integration: Integration, model_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.model_fields = {f.key: f for f in model_fields}
        self.fields["project_a"] = forms.ChoiceField(
            label="Project in A", choices=_project_choices(integration.collection_a), required=False
        )
        self.fields["project_b"] = forms.ChoiceField(
            label="Project in B", choices=_project_choices(integration.collection_b), required=False
        )
        self.fields["direction"].choices = [c for c in Flow.choices if c[0] != Flow.NONE]
        condition = self.instance.condition or {}
        choices = _field_choices(model_fields, "— every artifact —")
        if condition.get("field") and condition["field"] not in self.model_fields:
            # A field the model lost stays visible, so saving the other routes does not drop it silently.
            choices.append((condition["field"], f"{condition['field']} (not in the model)"))
        self.fields["when_field"].choices = choices
        if condition:
            shown = condition_initial(condition)
            self.initial.update(
                when_field=shown.get("field", ""),
                when_operator=shown.get("operator", ""),
                when_value=shown["value"],
            )

    def clean(self):
        data = super().clean()
        condition = condition_of(
            data.get("when_field", ""), data.get("when_operator") or "equals", data.get("when_value", "")
        )
        problem = condition_problem(condition, self.model_fields) if condition else ""
        if problem:
            self.add_error("when_value", f"CCRRTT-1412E: this condition {problem}.")
        data["condition"] = condition or {}
        return data

    def save(self, commit=True):
        self.instance.condition = self.cleaned_data["condition"]
        return super().save(commit)


class RoutingSettingsForm(CleanModelForm):
    """Saved with the routes: what happens to an artifact that meets no route condition."""

    class Meta:
        model = Integration
        fields = ["unmatched_routing"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unmatched_routing"].required = False  # not posted: keep what is set

    def clean_unmatched_routing(self):
        return self.cleaned_data["unmatched_routing"] or self.instance.unmatched_routing


RouteFormSet = forms.inlineformset_factory(
    Integration, Route, form=RouteForm, extra=1, can_delete=True, can_order=True
)


class FilterSettingsForm(forms.Form):
    combine = forms.ChoiceField(choices=[("and", "All conditions (and)"), ("or", "Any condition (or)")])
    applies_to = forms.ChoiceField(
        choices=[("both", "Creation and updates"), ("creation", "Creation only"), ("updates", "Updates only")]
    )


class ConditionForm(forms.Form):
    field = forms.ChoiceField(required=False)
    operator = forms.ChoiceField(choices=OPERATOR_CHOICES)
    value = forms.CharField(required=False, help_text=VALUE_HELP)

    def __init__(self, *args, model_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = _field_choices(model_fields, "—")

    def condition(self) -> dict | None:
        data = self.cleaned_data
        if data.get("DELETE"):
            return None
        return condition_of(data.get("field", ""), data["operator"], data.get("value", ""))


ConditionFormSet = forms.formset_factory(ConditionForm, extra=2, can_delete=True)


class FieldFlowForm(forms.Form):
    """One choice per model field."""

    def __init__(self, *args, model_fields=(), flows=None, **kwargs):
        super().__init__(*args, **kwargs)
        flows = flows or {}
        for field in model_fields:
            current = flows.get(field.key, Flow.NONE)
            current = current.get("flow", Flow.NONE) if isinstance(current, dict) else current
            self.fields[field.key] = forms.ChoiceField(
                label=field.label, choices=Flow.choices, initial=current
            )

    def flows(self, previous: dict) -> dict:
        """The chosen flows; a condition set through the API on a field is kept."""
        result = {}
        for key, flow in self.cleaned_data.items():
            before = previous.get(key)
            result[key] = {**before, "flow": flow} if isinstance(before, dict) else flow
        return result
