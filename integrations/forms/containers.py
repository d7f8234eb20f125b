"""The container mirroring section of a Container + Work Item integration's page: container types,
the parent field, container matching and the Shared Container Mirroring conditions. The rules are
``integrations.container_mirroring``'s, shared with the API and the import."""

from __future__ import annotations

from django import forms

from integrations import container_mirroring
from integrations.forms.integrations import OPERATOR_CHOICES, condition_initial, condition_of
from integrations.models import ContainerMirroring, Integration

TYPES_HELP = "Container type ids separated by commas, e.g. epic, folder, version."


class ContainerMirroringForm(forms.Form):
    container_types_a = forms.CharField(label="Container types in A", required=False, help_text=TYPES_HELP)
    container_types_b = forms.CharField(label="Container types in B", required=False, help_text=TYPES_HELP)
    parent_field = forms.ChoiceField(
        label="Parent field", help_text="The model field (type Container) that holds an artifact's container."
    )
    matching = forms.ChoiceField(label="Container matching", choices=ContainerMirroring.Matching.choices)
    match_field = forms.ChoiceField(label="Match on", help_text="Containers with equal values are paired.")
    unmatched = forms.ChoiceField(
        label="Containers no condition matches", choices=ContainerMirroring.Unmatched.choices
    )
    default_type = forms.CharField(
        label="Default type", required=False, help_text="Empty: the first container type of the target side."
    )

    def __init__(self, *args, integration: Integration, conditions=None, **kwargs):
        self.integration = integration
        self.conditions_formset = conditions
        self.condition_errors: list[str] = []
        stored = container_mirroring.snapshot(integration) or {
            name: ContainerMirroring._meta.get_field(name).get_default()
            for name in container_mirroring.FIELDS
        }
        initial = {**stored, **{s: ", ".join(stored[s]) for s in ("container_types_a", "container_types_b")}}
        super().__init__(*args, initial=initial, **kwargs)
        for side, collection in (("a", integration.collection_a), ("b", integration.collection_b)):
            offer = container_mirroring.describe_offer(collection)
            if offer:
                self.fields[f"container_types_{side}"].help_text = f"{TYPES_HELP} {offer}"
        fields = container_mirroring.model_fields_of(integration)
        for name in ("parent_field", "match_field"):
            choices = [(key, f.label) for key, f in fields.items()]
            if stored[name] not in fields:  # kept visible, so saving does not change it unseen
                choices.append((stored[name], f"{stored[name]} (not in the model)"))
            self.fields[name].choices = choices

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        values = {name: data.get(name, "") for name in container_mirroring.FIELDS if name != "conditions"}
        if self.conditions_formset is not None:
            values["conditions"] = [c for c in (f.condition() for f in self.conditions_formset.forms) if c]
        _, errors = container_mirroring.checked(self.integration, values)
        for name, messages in errors.items():
            if name == "conditions":
                self.condition_errors.extend(messages)
                self.add_error(None, "The Shared Container Mirroring conditions need a change (see below).")
            else:
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        data["values"] = values
        return data

    def save(self) -> ContainerMirroring:
        return container_mirroring.save(self.integration, self.cleaned_data["values"])


class ContainerConditionForm(forms.Form):
    """One Shared Container Mirroring condition: containers meeting it are created as ``type``."""

    field = forms.ChoiceField(required=False)
    operator = forms.ChoiceField(choices=OPERATOR_CHOICES)
    value = forms.CharField(required=False)
    type = forms.CharField(required=False, label="Create as type")

    def __init__(self, *args, model_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—")] + [(f.key, f.label) for f in model_fields]
        current = self.initial.get("field")
        if current and current not in {f.key for f in model_fields}:
            self.fields["field"].choices.append((current, f"{current} (not in the model)"))

    def condition(self) -> dict | None:
        data = self.cleaned_data
        if data.get("DELETE"):
            return None
        condition = condition_of(
            data.get("field", ""), data.get("operator") or "equals", data.get("value", "")
        )
        return {**condition, "type": data.get("type", "")} if condition else None


ContainerConditionFormSet = forms.formset_factory(ContainerConditionForm, extra=1, can_delete=True)


def conditions_formset(integration: Integration, data=None) -> forms.BaseFormSet:
    stored = container_mirroring.snapshot(integration) or {}
    return ContainerConditionFormSet(
        data,
        prefix="container-conditions",
        initial=[condition_initial(c) for c in stored.get("conditions", [])],
        form_kwargs={"model_fields": list(container_mirroring.model_fields_of(integration).values())},
    )
