"""Forms of the local tracker's pages. They turn what a person typed into the connector SDK's
values (``connectors.types``), and the pages hand those to ``connectors.local.service`` — the same
path the engine's writes take."""

from __future__ import annotations

from typing import Any

from django import forms

from connectors.local.models import (
    ItemType,
    Label,
    LocalItem,
    LocalTracker,
    LocalUser,
    Priority,
    Resolution,
    TimeActivity,
)
from connectors.local.service import WORKFLOW

PERSON_FIELDS = ("assignee",)
PERSONS_FIELDS = ("watchers",)
RELATION_FIELDS = ("parent",)
RELATIONS_FIELDS = ("related",)


class ProjectForm(forms.Form):
    key = forms.RegexField(
        regex=r"^[A-Za-z][A-Za-z0-9]{0,19}$",
        max_length=20,
        help_text="Letters and digits, starting with a letter: the prefix of formatted ids.",
        error_messages={"invalid": "Use letters and digits only, starting with a letter."},
    )
    name = forms.CharField(max_length=200)


class ItemForm(forms.Form):
    type = forms.ChoiceField(choices=ItemType.choices)
    summary = forms.CharField(max_length=255)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    labels = forms.MultipleChoiceField(
        choices=Label.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    customer_visible = forms.BooleanField(required=False, label="Visible to customers")
    story_points = forms.IntegerField(required=False, help_text="Stories and epics only.")
    estimate_hours = forms.FloatField(required=False, label="Estimate (hours)")
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    review_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Hub's time zone.",
    )
    time_spent = forms.DurationField(required=False, help_text="hh:mm:ss, or days hh:mm:ss.")
    assignee = forms.ModelChoiceField(queryset=LocalUser.objects.none(), required=False)
    watchers = forms.ModelMultipleChoiceField(queryset=LocalUser.objects.none(), required=False)
    parent = forms.ModelChoiceField(queryset=LocalItem.objects.none(), required=False)
    related = forms.ModelMultipleChoiceField(queryset=LocalItem.objects.none(), required=False)
    web_links = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One link a line: the address, then optionally a space and a label.",
    )

    def __init__(self, *args, tracker: LocalTracker, editing: LocalItem | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        users = LocalUser.objects.filter(tracker=tracker)
        items = LocalItem.objects.filter(project__tracker=tracker).select_related("project")
        if editing is not None:
            items = items.exclude(pk=editing.pk)
            del self.fields["type"]  # an item keeps its type
            if editing.type not in (ItemType.STORY, ItemType.EPIC):
                del self.fields["story_points"]
        for name in (*PERSON_FIELDS, *PERSONS_FIELDS):
            self.fields[name].queryset = users
        for name in (*RELATION_FIELDS, *RELATIONS_FIELDS):
            self.fields[name].queryset = items

    @staticmethod
    def initial_for(item: LocalItem) -> dict[str, Any]:
        initial = {name: getattr(item, name) for name in ItemForm.base_fields if hasattr(item, name)}
        initial["watchers"] = list(item.watchers.all())
        initial["related"] = list(item.related.all())
        initial["web_links"] = "\n".join(
            f"{link['url']} {link.get('label', '')}".strip() for link in item.web_links
        )
        return initial

    def clean_web_links(self) -> list[dict[str, str]]:
        links = []
        for line in self.cleaned_data["web_links"].splitlines():
            if not line.strip():
                continue
            url, _, label = line.strip().partition(" ")
            if not url.lower().startswith(("http://", "https://")):
                raise forms.ValidationError(f"{url} is not an http(s) address.")
            links.append({"url": url, "label": label.strip()})
        return links

    def sdk_values(self, only_changed: bool) -> dict[str, Any]:
        """The cleaned values as the connector SDK's field values (persons and items by id)."""
        values = {}
        names = self.changed_data if only_changed else list(self.cleaned_data)
        for name in names:
            if name == "type" or name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            if name in (*PERSON_FIELDS, *RELATION_FIELDS):
                value = str(value.pk) if value is not None else None
            elif name in (*PERSONS_FIELDS, *RELATIONS_FIELDS):
                value = [str(o.pk) for o in value]
            elif name == "story_points" and not only_changed and value is None:
                continue
            values[name] = value
        if not only_changed and self.cleaned_data.get("type") not in (ItemType.STORY, ItemType.EPIC):
            values.pop("story_points", None)
        return values


class TransitionForm(forms.Form):
    transition = forms.ChoiceField(choices=[(step.id, step.name) for step in WORKFLOW])
    resolution = forms.ChoiceField(choices=Resolution.choices, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Comment")
    private = forms.BooleanField(required=False, help_text="Private comments are hidden from customers.")


class TimeEntryForm(forms.Form):
    """A worklog filed from the item page (under the signed-in person's tracker user)."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    duration = forms.DurationField(help_text="hh:mm:ss, e.g. 01:30:00.")
    activity = forms.ChoiceField(choices=TimeActivity.choices, initial=TimeActivity.DEVELOPMENT)
    comment = forms.CharField(max_length=1000, required=False)


class TimeEntryDurationForm(forms.Form):
    duration = forms.DurationField(help_text="hh:mm:ss.")


class TestStepForm(forms.Form):
    step = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    expected_result = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    actual_result = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


# The test step editor: one row a step; ORDER gives the new order, DELETE removes a step.
TestStepFormSet = forms.formset_factory(TestStepForm, extra=1, can_order=True, can_delete=True)


def steps_of(formset) -> list[dict[str, str]]:
    """The steps a valid formset describes, in its order, without removed and empty rows."""
    rows = [
        form for form in formset.ordered_forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]
    rows += [
        form
        for form in formset.forms
        if form not in rows
        and form.cleaned_data
        and not form.cleaned_data.get("DELETE")
        and form.cleaned_data.get("ORDER") is None
    ]
    parts = ("step", "expected_result", "actual_result")
    steps = [{part: form.cleaned_data.get(part) or "" for part in parts} for form in rows]
    return [step for step in steps if any(step.values())]
