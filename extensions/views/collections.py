"""The extension settings of one repository collection: Comment Configuration (comment extensions
per direction), Person Reconciliation, and State Transition (an extension with its fields, or the
transition graph built from the tool's own transitions)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from connectors.errors import ConnectorError
from extensions import transformations, transitions
from extensions.models import CollectionExtensions, Extension, ExtensionType
from hub.ids import parse_id
from integrations.models import RepositoryCollection
from integrations.snapshots import ElementType
from integrations.views.common import change, refuse


def _comment_extensions() -> list[Extension]:
    return [
        e
        for e in transformations.transformations()
        if transformations.declared_types(e.script) == (["comments"], ["comments"])
    ]


class CollectionExtensionsForm(forms.ModelForm):
    class Meta:
        model = CollectionExtensions
        fields = [
            "comments_to_model",
            "comments_to_repository",
            "person_reconciliation",
            "state_transition",
            "state_transition_fields",
        ]
        labels = {
            "comments_to_model": "Comments, collection → model",
            "comments_to_repository": "Comments, model → collection",
            "person_reconciliation": "Person reconciliation",
            "state_transition": "State transition extension",
        }

    state_transition_fields = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="State transition fields"
    )

    def __init__(self, *args, collection: RepositoryCollection, **kwargs):
        super().__init__(*args, **kwargs)
        comment_ids = [e.pk for e in _comment_extensions()]
        for name in ("comments_to_model", "comments_to_repository"):
            self.fields[name].queryset = Extension.objects.filter(pk__in=comment_ids)
            self.fields[name].help_text = "Custom data transformations declaring 'Comments' → 'Comments'."
        self.fields["person_reconciliation"].queryset = Extension.objects.filter(
            type=ExtensionType.PERSON_RECONCILIATION
        )
        self.fields["person_reconciliation"].help_text = (
            "Applies to every person field, comment authors included. For two-way person flow, choose "
            "one on both collections. Empty: the default matching (user name, id, e-mail)."
        )
        self.fields["state_transition"].queryset = Extension.objects.filter(
            type=ExtensionType.STATE_TRANSITION
        )
        fields = collection.model.fields.all() if collection.model_id else []
        self.fields["state_transition_fields"].choices = [(f.key, f.label) for f in fields]
        self.fields[
            "state_transition_fields"
        ].help_text = "The model fields the state transition needs (e.g. status, resolution)."


def _statuses(collection) -> tuple[list, str]:
    from integrations.services import field_schema

    try:
        schema = field_schema(collection)
    except ConnectorError as error:
        return [], str(error)
    status = next((f for f in schema if f.id == "status"), None)
    return ([(o.id, o.label) for o in status.options] if status else []), ""


def collection_extensions(request, pk: int):
    collection = get_object_or_404(RepositoryCollection.objects.select_related("model", "repository"), pk=pk)
    settings, _ = CollectionExtensions.objects.get_or_create(collection=collection)
    form = CollectionExtensionsForm(request.POST or None, instance=settings, collection=collection)
    if request.method == "POST" and "graph" not in request.POST:
        if form.is_valid():
            with change(request, ElementType.COLLECTION_EXTENSIONS, collection) as rec:
                form.save()
                rec.done(collection)
            messages.success(request, f"Extension settings of “{collection.name}” saved.")
            return redirect("collection-extensions", pk)
    statuses, error = _statuses(collection)
    labels = dict(statuses)
    return render(
        request,
        "extensions/collection_extensions.html",
        {
            "collection": collection,
            "form": form,
            "edges": [
                {
                    **edge,
                    "from_label": labels.get(edge["from"], edge["from"]),
                    "to_label": labels.get(edge["to"], edge["to"]),
                }
                for edge in settings.transition_graph
            ],
            "statuses": statuses,
            "live_error": error,
        },
    )


@require_POST
def transition_graph(request, pk: int):
    """Add an edge, learn the edges a real artifact offers from its status, or remove an edge."""
    collection = get_object_or_404(RepositoryCollection, pk=pk)
    settings, _ = CollectionExtensions.objects.get_or_create(collection=collection)
    edges = list(settings.transition_graph)
    action = request.POST.get("action")
    if action == "add":
        start, goal = request.POST.get("from", "").strip(), request.POST.get("to", "").strip()
        if not start or not goal or start == goal:
            refuse(request, "Choose two different statuses for the transition.")
            return redirect("collection-extensions", pk)
        edges.append({"from": start, "to": goal, "transition": request.POST.get("name", "").strip()})
    elif action == "learn":
        from connectors import registry

        artifact_id = request.POST.get("artifact", "").strip()
        try:
            with registry.connect(collection.repository.settings()) as connector:
                current = str(connector.read_artifact(artifact_id).fields.get("status") or "")
                offered = connector.transitions(artifact_id)
        except ConnectorError as error:
            refuse(request, f"Hub could not read the transitions of {artifact_id!r}: {error}")
            return redirect("collection-extensions", pk)
        for step in offered:
            edges.append({"from": current, "to": str(step.to_status), "transition": step.name})
        messages.success(
            request, f"{len(offered)} transition(s) from status {current!r} learnt from {artifact_id}."
        )
    elif action == "remove":
        index = parse_id(request.POST.get("index", ""))
        if index is not None and index < len(edges):
            edges.pop(index)
    unique, seen = [], set()
    for edge in edges:
        if (edge["from"], edge["to"]) not in seen:
            seen.add((edge["from"], edge["to"]))
            unique.append(edge)
    with change(request, ElementType.COLLECTION_EXTENSIONS, collection) as rec:
        settings.transition_graph = unique
        settings.save()
        rec.done(collection)
    return redirect("collection-extensions", pk)


__all__ = ["collection_extensions", "transition_graph", "transitions"]
