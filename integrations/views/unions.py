"""The artifact union screens: a list and an editor that shows what makes a union invalid
(CCRRTT-1114E) and which collections draw from it."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render

from integrations import validation
from integrations.forms.unions import ArtifactUnionForm
from integrations.models import ArtifactUnion
from integrations.snapshots import ElementType
from integrations.unions import apply_union, union_problems
from integrations.views.common import change


def union_list(request):
    unions = ArtifactUnion.objects.select_related("repository").prefetch_related("collections")
    return render(request, "integrations/union_list.html", {"unions": unions})


def union_edit(request, pk: int | None = None):
    union = get_object_or_404(ArtifactUnion, pk=pk) if pk else ArtifactUnion()
    form = ArtifactUnionForm(request.POST or None, instance=union)
    if request.method == "POST" and form.is_valid():
        with (
            transaction.atomic(),
            change(
                request, ElementType.ARTIFACT_UNION, ArtifactUnion.objects.filter(pk=pk).first()
            ) as recorded,
        ):
            saved = form.save()
            apply_union(saved)
            recorded.done(saved)
        validation.validate()
        problems = union_problems(saved, saved.collections.select_related("repository"))
        if problems:
            messages.warning(
                request, f"CCRRTT-1114E – The artifact union configuration is invalid: {'; '.join(problems)}."
            )
        messages.success(request, f"Artifact union “{saved.name}” saved.")
        return redirect("union-edit", saved.pk)
    collections = list(union.collections.select_related("repository")) if union.pk else []
    return render(
        request,
        "integrations/union_form.html",
        {
            "form": form,
            "union": union if union.pk else None,
            "collections": collections,
            "problems": union_problems(union, collections) if union.pk else [],
        },
    )
