"""Artifact pair screens beyond the list: a pair's details, export and import of pairs."""

from __future__ import annotations

import logging
import uuid

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from activity import pair_transfer, services
from activity.jobs import JobFailed
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob
from hub import uploads

REVISION = "__revision__"  # the snapshot's revision key (integrations.engine.context.REVISION)
WRITING = "__writing__"  # the snapshot's unfinished writes (integrations.engine.context.WRITING)

logger = logging.getLogger("hub.activity")


def field_rows(pair: ArtifactPair, search: str = "") -> list[dict]:
    """One row per model field of the integration (and any other field the snapshots hold) with the
    last synchronized value on each side; for a one-way field the side it flows from is named, so
    the screen can grey it out."""
    flows = services.hooks.field_flows(pair.integration_id) if pair.integration_id else {}
    names = sorted(set(flows) | set(pair.a_snapshot) | set(pair.b_snapshot), key=str.lower)
    names = [name for name in names if name not in (REVISION, WRITING)]  # Hub's bookkeeping
    if search:
        names = [name for name in names if search.lower() in name.lower()]
    one_way_from = {"a_to_b": "A", "b_to_a": "B"}
    return [
        {
            "field": name,
            "a": pair.a_snapshot.get(name),
            "b": pair.b_snapshot.get(name),
            "one_way_from": one_way_from.get(flows.get(name, ""), ""),
        }
        for name in names
    ]


def activities_of(pair: ArtifactPair):
    """The activities of either artifact of the pair in its integration, newest first."""
    return ArtifactActivity.objects.filter(integration_id=pair.integration_id).filter(
        Q(source_side="A", artifact_id=pair.a_artifact_id)
        | Q(source_side="B", artifact_id=pair.b_artifact_id)
    )


def related(pair: ArtifactPair) -> dict:
    """What the pair details show beside the values: the projects of both sides, the collection pair
    (known from its latest activity that names one), and the latest conflict decisions."""
    activities = activities_of(pair)
    latest = (
        activities.exclude(collection_pair_name="").values_list("collection_pair_name", flat=True).first()
    )
    return {
        "collection_pair": latest or "",
        "conflicted": activities.exclude(conflict="").only(
            "id", "source_side", "conflict", "conflicts", "created"
        )[:10],
    }


@require_GET
def pair_details(request, pk: int):
    pair = get_object_or_404(ArtifactPair, pk=pk)
    search = request.GET.get("field", "").strip()
    context = {"pair": pair, "rows": field_rows(pair, search), "search": search}
    if not (request.htmx and request.htmx.target == f"pair-{pk}-fields"):
        context.update(related(pair))
    if request.htmx and request.htmx.target == f"pair-{pk}-fields":
        return render(request, "activity/_pair_fields.html", context)
    template = "activity/_pair_details.html" if request.htmx else "activity/pair_details.html"
    return render(request, template, context)


class ExportForm(forms.Form):
    integrations = forms.TypedMultipleChoiceField(
        coerce=int, widget=forms.CheckboxSelectMultiple, label="Integrations to export"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        exportable = services.hooks.exportable()
        self.fields["integrations"].choices = [
            (integration_id, name)
            for integration_id, name in services.known_integrations().items()
            if integration_id in exportable
        ]


class ImportForm(forms.Form):
    integration = forms.TypedChoiceField(coerce=int, label="Import into integration")
    file = forms.FileField(label="Exported file (.zip or .json)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].choices = list(services.known_integrations().items())

    def clean_integration(self):
        integration_id = self.cleaned_data["integration"]
        if services.integration_state(integration_id) != services.RUNNING:
            raise forms.ValidationError(
                "CCRRTT-17023E: the integration must be running for the import. Start it and upload again."
            )
        return integration_id

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = pair_transfer.MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"CCRRTT-30002E: the file is larger than {uploads.size_text(limit)}.")
        return upload


def export_pairs(request):
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ids = form.cleaned_data["integrations"]
        names = services.known_integrations()
        try:
            job = pair_transfer.ExportPairs.enqueue(
                name="Export artifact pairs of " + ", ".join(names.get(i, str(i)) for i in ids),
                parameters={"integration_ids": ids},
                requested_by=request.user.get_username(),
            )
        except JobFailed as failure:
            form.add_error(None, f"{failure.code}: {failure.message}")
        else:
            logger.info(
                "%s: started the export of the artifact pairs of integrations %s (job %s)",
                request.user.get_username(),
                ids,
                job.pk,
            )
            messages.success(
                request, f"Export started as background job {job.pk}; download it when completed."
            )
            return redirect("activity-list", list_key="jobs", tab="processing")
    return render(request, "activity/pairs_export.html", {"form": form})


def import_pairs(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        stored = pair_transfer.transfer_dir("import") / f"{uuid.uuid4().hex}-upload"
        job = None
        try:
            job = _store_and_enqueue(request, form, stored)
        finally:
            if job is None:
                stored.unlink(missing_ok=True)  # an upload that is not imported is not kept
        if job is not None:
            messages.success(request, f"Import started as background job {job.pk}.")
            return redirect("activity-list", list_key="jobs", tab="processing")
    return render(request, "activity/pairs_import.html", {"form": form})


def _store_and_enqueue(request, form: ImportForm, stored) -> BackgroundJob | None:
    """Write the upload to the import folder, read it through once, and queue its import."""
    try:
        with stored.open("wb") as out:
            for chunk in form.cleaned_data["file"].chunks():
                out.write(chunk)
    except OSError as error:
        form.add_error(
            "file",
            f"CCRRTT-30007E: Hub could not store the file ({error.strerror or error}); check the free "
            f"space and permissions of {stored.parent}.",
        )
        return None
    try:
        pair_transfer.read_export(stored)
    except pair_transfer.ImportFileError as error:
        form.add_error("file", f"CCRRTT-30002E: {error}")
        return None
    integration_id = form.cleaned_data["integration"]
    try:
        job = pair_transfer.ImportPairs.enqueue(
            name=f"Import artifact pairs into {services.known_integrations().get(integration_id)}",
            parameters={"integration_id": integration_id, "file": stored.name},
            requested_by=request.user.get_username(),
            integration_id=integration_id,
        )
    except JobFailed as failure:
        form.add_error(None, f"{failure.code}: {failure.message}")
        return None
    logger.info(
        "%s: started an import of artifact pairs into integration %s (job %s)",
        request.user.get_username(),
        integration_id,
        job.pk,
    )
    return job


@require_GET
def export_download(request, pk: int):
    job = get_object_or_404(
        BackgroundJob, pk=pk, kind=BackgroundJob.Kind.PAIR_EXPORT, status=BackgroundJob.Status.COMPLETED
    )
    path = pair_transfer.transfer_dir("export") / str(job.details.get("file", ""))
    if not path.is_file():
        raise Http404("The export file is gone.")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
