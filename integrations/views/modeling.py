from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from integrations import services, validation
from integrations.forms.modeling import ModelFieldFormSet, ModelForm
from integrations.models import Model
from integrations.snapshots import ElementType
from integrations.views.common import change, delete_unless_used


def model_list(request):
    models = Model.objects.prefetch_related("fields", "repository_collections")
    return render(request, "integrations/model_list.html", {"models": models})


def _mappings_to_revisit(model: Model) -> list[str]:
    fields = model.fields_by_key()
    found = []
    for collection in model.repository_collections.prefetch_related("mappings"):
        for mapping in collection.mappings.all():
            for code, message in validation.mapping_problems(mapping, fields):
                found.append(f"{code}: {collection.name}, “{mapping}”: {message}")
    return found


def model_edit(request, pk: int | None = None):
    model = get_object_or_404(Model, pk=pk) if pk else Model()
    form = ModelForm(request.POST or None, instance=model)
    formset = ModelFieldFormSet(request.POST or None, instance=model, prefix="fields")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        with (
            transaction.atomic(),
            change(request, ElementType.MODEL, Model.objects.filter(pk=pk).first()) as recorded,
        ):
            saved = form.save()
            for position, field_form in enumerate(formset.forms):
                if field_form in formset.deleted_forms:
                    if field_form.instance.pk:
                        field_form.instance.delete()
                elif field_form.instance.pk or field_form.has_changed():
                    field = field_form.save(commit=False)
                    field.model, field.position = saved, position
                    field.save()
            recorded.done(saved)
        revisit = _mappings_to_revisit(saved)
        if revisit:
            messages.warning(request, "Mappings to revisit after this change: " + "; ".join(revisit))
        messages.success(request, f"Model “{saved.name}” saved.")
        return redirect("model-edit", saved.pk)
    return render(
        request,
        "integrations/model_form.html",
        {
            "form": form,
            "formset": formset,
            "model": model if model.pk else None,
            "collections": model.repository_collections.all() if model.pk else [],
            "revisit": _mappings_to_revisit(model) if model.pk else [],
        },
    )


@require_http_methods(["GET", "POST"])
def model_delete(request, pk: int):
    model = get_object_or_404(Model, pk=pk)
    return delete_unless_used(
        request,
        ElementType.MODEL,
        model,
        services.users_of_model(model),
        edit="model-edit",
        listing="models",
        goes=[f"its {model.fields.count()} fields"],
    )
