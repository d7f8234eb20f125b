"""The Test Step Flow section of an integration's page: for each Test Steps field of the model, the
parts of a step that flow (docs/time-tracking.md, *Test steps*; the engine side is
``integrations.engine.test_step_flow``). It writes ``"parts"`` into that field's flow, keeping the
direction the Field flow section sets, and refuses what CCRRTT-50014E names on the field at fault."""

from __future__ import annotations

from django import forms

from connectors.test_steps import TEST_STEP_PARTS
from integrations import time_tracking
from integrations.models import Integration

PART_LABELS = {"step": "Step", "expected_result": "Expected result", "actual_result": "Actual result"}


class TestStepFlowForm(forms.Form):
    def __init__(self, *args, integration: Integration, model_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.integration = integration
        self.model_fields = {f.key: f for f in model_fields}
        for key, field in self.model_fields.items():
            if field.type != "test_steps":
                continue
            setting = time_tracking._setting(integration, key)
            self.fields[key] = forms.MultipleChoiceField(
                label=f"Parts of “{field.label}” that flow",
                choices=[(part, PART_LABELS[part]) for part in TEST_STEP_PARTS],
                initial=setting.get("parts") or list(TEST_STEP_PARTS),
                widget=forms.CheckboxSelectMultiple,
                required=False,  # none chosen: 50014E names it, rather than Django's "required"
                help_text="The other parts stay each side's own. Steps are added, removed and "
                "reordered with the step text.",
            )

    def field_flows(self) -> dict:
        """The integration's field flows with each Test Steps field's parts as chosen (all parts:
        no ``parts``, the whole step flows)."""
        flows = dict(self.integration.field_flows or {})
        for key in self.fields:
            setting = time_tracking._setting(self.integration, key)
            parts = [p for p in TEST_STEP_PARTS if p in self.cleaned_data.get(key, [])]
            setting = {k: v for k, v in setting.items() if k != "parts"}
            flows[key] = setting if set(parts) == set(TEST_STEP_PARTS) else {**setting, "parts": parts}
        return flows

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        candidate = Integration(pk=self.integration.pk, field_flows=self.field_flows())
        for detail, code, message, _links in time_tracking.test_step_flow_problems(
            candidate, self.model_fields
        ):
            key = detail.split(":", 1)[1]
            self.add_error(key if key in self.fields else None, f"{code}: this integration {message}.")
        return data
