"""The Worklogs (Time Tracking) section of a Time Tracking integration's page: which way worklogs
flow and the Time Entry Filtering of each direction of the collection pair. It writes the field flow
of the model's Time Entries field (``{"flow": …, "filter": {"a_to_b": {"activities": […], "since":
"YYYY-MM-DD"}}}``, docs/time-tracking.md) and refuses what the validator would block, with the
catalog's code on the field at fault; 50011W (filed under the connection's user) is a warning that
does not stop saving."""

from __future__ import annotations

from django import forms

from integrations import time_tracking, validation
from integrations.models import Integration

Flow = Integration.Flow
DIRECTIONS = (("a_to_b", "A → B"), ("b_to_a", "B → A"))


def worklog_key(integration: Integration) -> str | None:
    """The model field that carries the worklogs: its first field of type Time Entries."""
    collection = integration.collection_a or integration.collection_b
    if collection is None or collection.model_id is None:
        return None
    found = collection.model.fields.filter(type="time_entries").order_by("position").first()
    return found.key if found else None


class WorklogForm(forms.Form):
    flow = forms.ChoiceField(
        label="Worklogs flow",
        choices=Flow.choices,
        help_text="Which way time entries are copied between the twins (each one exactly once).",
    )

    def __init__(self, *args, integration: Integration, **kwargs):
        super().__init__(*args, **kwargs)
        self.integration, self.key = integration, worklog_key(integration)
        self.warnings: list[str] = []
        setting = time_tracking._setting(integration, self.key) if self.key else {}
        self.fields["flow"].initial = setting.get("flow", Flow.NONE)
        for direction, label in DIRECTIONS:
            current = (setting.get("filter") or {}).get(direction) or {}
            activities = current.get("activities") or []
            self.fields[f"activities_{direction}"] = forms.CharField(
                label=f"Only these activities {label}",
                required=False,
                initial=", ".join(map(str, activities)) if isinstance(activities, list) else "",
                help_text="Activity ids of the source, separated by commas; empty: every activity.",
            )
            self.fields[f"since_{direction}"] = forms.DateField(
                label=f"Only entries dated on or after {label}",
                required=False,
                initial=current.get("since") or None,
                help_text="YYYY-MM-DD; empty: any date.",
                widget=forms.DateInput(attrs={"type": "date"}),
            )

    def setting(self) -> dict:
        """The Time Entries field's flow as the form describes it."""
        data = self.cleaned_data
        wanted = {}
        for direction, _ in DIRECTIONS:
            activities = [
                a.strip() for a in (data.get(f"activities_{direction}") or "").split(",") if a.strip()
            ]
            since = data.get(f"since_{direction}")
            if activities or since:
                wanted[direction] = {
                    "activities": activities,
                    **({"since": since.isoformat()} if since else {}),
                }
        return {"flow": data.get("flow") or Flow.NONE, **({"filter": wanted} if wanted else {})}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        candidate = Integration(
            pk=self.integration.pk,
            style=self.integration.style,
            collection_a=self.integration.collection_a,
            collection_b=self.integration.collection_b,
        )
        key = self.key or "worklogs"
        candidate.field_flows = {**(self.integration.field_flows or {}), key: self.setting()}
        for detail, code, message, _links in time_tracking.problems(candidate, validation._Context()):
            text = f"{code}: this integration {message}."
            if code.endswith("W"):
                self.warnings.append(text)  # advisory: shown, does not stop the integration
            elif detail.startswith("filter:"):
                self.add_error(f"activities_{detail.split(':', 1)[1]}", text)
            else:  # 50009E (no Time Entries field), 50010E (a collection does not map it)
                self.add_error("flow", text)
        return data

    def field_flows(self) -> dict:
        return {**(self.integration.field_flows or {}), self.key: self.setting()}
