"""Settings → Extensions → Manage Extensions: list, new, copy, edit, delete; the Artifact Schema
Information panel, Associated Elements, and the test bench."""

from __future__ import annotations

import json

from csp.constants import NONCE
from csp.decorators import csp_update
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from extensions import bench, services
from extensions.forms import ExtensionForm
from extensions.models import Extension, ExtensionType
from integrations.models import Model, RepositoryCollection
from integrations.snapshots import ElementType
from integrations.views.common import change, delete, refuse


def extension_list(request):
    extensions = list(Extension.objects.all())
    return render(
        request,
        "extensions/extension_list.html",
        {"rows": [(e, services.uses_of(e)) for e in extensions], "type_choices": ExtensionType.choices},
    )


def _schema_sources():
    return {
        "collections": RepositoryCollection.objects.select_related("repository").order_by("name"),
        "models": Model.objects.order_by("name"),
    }


@csp_update({"style-src": [NONCE]})  # CodeMirror's styles carry the page's nonce
def extension_edit(request, pk: int | None = None):
    extension = get_object_or_404(Extension, pk=pk) if pk else Extension()
    initial = {}
    if not pk and request.GET.get("type") in ExtensionType.values:
        initial["type"] = request.GET["type"]
        initial["script"] = bench.TEMPLATES[request.GET["type"]]
    form = ExtensionForm(request.POST or None, instance=extension, initial=initial)
    if request.method == "POST" and form.is_valid():
        with change(request, ElementType.EXTENSION, Extension.objects.filter(pk=pk).first()) as rec:
            rec.done(form.save())
        messages.success(request, f"Extension “{rec.obj.name}” saved and compiled.")
        if form.notice:
            messages.info(request, form.notice)
        return redirect("extension-edit", rec.obj.pk)
    return render(
        request,
        "extensions/extension_form.html",
        {
            "form": form,
            "extension": extension if extension.pk else None,
            "uses": services.uses_of(extension) if extension.pk else [],
            "error_line": getattr(form, "error_line", None),
            "types": ExtensionType.choices,
            **_schema_sources(),
        },
    )


@require_POST
def extension_copy(request, pk: int):
    original = get_object_or_404(Extension, pk=pk)
    with change(request, ElementType.EXTENSION) as rec:
        copy = Extension.objects.create(
            name=services.copy_name(original.name),
            type=original.type,
            description=original.description,
            script=original.script,
        )
        rec.done(copy)
    messages.success(request, f"“{original.name}” copied to “{copy.name}”.")
    return redirect("extension-edit", copy.pk)


@require_POST
def extension_delete(request, pk: int):
    extension = get_object_or_404(Extension, pk=pk)
    uses = services.uses_of(extension)
    if uses:
        refuse(
            request,
            f"“{extension.name}” is in use and cannot be deleted: {', '.join(u.label for u in uses)}.",
        )
        return redirect("extension-edit", pk)
    delete(request, ElementType.EXTENSION, extension)
    messages.success(request, f"Extension “{extension.name}” deleted.")
    return redirect("extensions")


def schema_panel(request):
    """HTMX: the shapes of an artifact, a comment and a person for the chosen collection or model."""
    return render(request, "extensions/_schema.html", bench.schema_of(request.GET.get("source", "")))


@require_POST
def test_bench(request, pk: int):
    """HTMX: run the extension on a real artifact or on pasted arguments; nothing is written."""
    extension = get_object_or_404(Extension, pk=pk)
    run = bench.run_bench(
        extension,
        source=request.POST.get("source", "json"),
        collection_id=request.POST.get("collection") or None,
        artifact_id=request.POST.get("artifact", "").strip(),
        arguments=request.POST.get("arguments", ""),
        fields=request.POST.get("fields", ""),
    )
    return render(
        request,
        "extensions/_bench_result.html",
        {"run": run, "output": json.dumps(run.output, indent=2, ensure_ascii=False, default=str)},
    )


__all__ = [
    "extension_copy",
    "extension_delete",
    "extension_edit",
    "extension_list",
    "refuse",
    "schema_panel",
    "test_bench",
]
