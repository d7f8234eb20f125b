"""The configuration History screen, its export, and the import of exported changes."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub.ids import parse_ids
from integrations import transfer
from integrations.snapshots import ElementType
from integrations.views.common import request_id

EDIT_URL = {
    ElementType.REPOSITORY: "repository-edit",
    ElementType.MODEL: "model-edit",
    ElementType.COLLECTION: "collection-edit",
    ElementType.MAPPING: "collection-mapping",
    ElementType.GATEWAY_COLLECTION: "gateway-collection-edit",
    ElementType.SQL_COLLECTION: "sql-collection-edit",
    ElementType.INTEGRATION: "integration-edit",
    ElementType.EXTENSION: "extension-edit",
    ElementType.KEY_VALUE_STORE: "kv-store-edit",
    ElementType.COLLECTION_EXTENSIONS: "collection-extensions",
}


class HistoryFilter(forms.Form):
    name = forms.CharField(required=False)
    element_type = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[
            ("", "All types"),
            *[(t.value, t.value.capitalize()) for t in ElementType],
            ("settings", "Settings"),
        ],
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    user = forms.CharField(required=False)

    def filter(self, changes):
        if not self.is_valid():
            return changes
        data = self.cleaned_data
        if data["name"]:
            changes = changes.filter(element_name__icontains=data["name"])
        if data["element_type"]:
            changes = changes.filter(element_type=data["element_type"])
        if data["start"]:
            changes = changes.filter(time__date__gte=data["start"])
        if data["end"]:
            changes = changes.filter(time__date__lte=data["end"])
        if data["user"]:
            changes = changes.filter(username__icontains=data["user"])
        return changes


def _changes():
    from hub.models import ConfigurationChange

    return ConfigurationChange.objects.filter(time__gte=timezone.now() - dt.timedelta(days=183))


def element_url(change) -> str:
    """A link to the element as it is now, if it still exists."""
    from integrations.snapshots import find

    if change.action == "delete" or change.element_type not in EDIT_URL:
        return ""
    element = find(change.element_type, change.element_name)
    if element is None:
        return ""
    try:
        return reverse(EDIT_URL[ElementType(change.element_type)], args=[element.pk])
    except NoReverseMatch:
        return ""


def _unavailable(request, code: str):
    """While the history is being migrated after an upgrade (``integrations.history_migrations``):
    a page saying so, with the job, instead of a list that may be half rewritten."""
    from activity import catalog
    from integrations import history_migrations

    context = {"code": code, "text": catalog.entry(code).title, "job": history_migrations.open_job()}
    response = render(request, "integrations/history_unavailable.html", context, status=503)
    response["Retry-After"] = "30"
    return response


def history(request):
    from integrations import history_migrations

    if history_migrations.migrating():
        return _unavailable(request, history_migrations.NOT_AVAILABLE)
    form = HistoryFilter(request.GET or None)
    changes = form.filter(_changes()).select_related("user")
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    rows = [(change, element_url(change)) for change in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "integrations/history.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


@require_POST
def history_export(request):
    """Export the selected changes, or all of those the filters show."""
    from integrations import history_migrations

    if history_migrations.migrating():
        return _unavailable(request, history_migrations.BEING_MIGRATED)
    form = HistoryFilter(request.POST)
    changes = form.filter(_changes())
    if "selected" in request.POST:
        ids = parse_ids(request.POST.getlist("change"))
        if not ids:
            messages.error(request, "Select the changes to export, or use Export all.")
            return redirect("history")
        changes = changes.filter(pk__in=ids)
    data = transfer.export(changes)
    response = HttpResponse(data, content_type="application/zip")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="hub-configuration-changes-{stamp}.zip"'
    return response


def _imports_dir() -> Path:
    directory = settings.HUB_HOME / "imports"
    directory.mkdir(exist_ok=True)
    return directory


def _stored(name: str) -> Path:
    try:
        return _imports_dir() / f"{uuid.UUID(name).hex}.zip"
    except ValueError:
        raise Http404("No such import.") from None


class ImportForm(forms.Form):
    file = forms.FileField(label="Exported changes (.zip)")


def import_upload(request):
    """Step 1: upload the zip; it is read completely before anything is shown or changed."""
    from hub import uploads

    uploads.remove_stale(_imports_dir(), transfer.STALE_UPLOAD_SECONDS)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > transfer.MAX_ZIP_BYTES:
            form.add_error("file", f"The file is larger than {uploads.size_text(transfer.MAX_ZIP_BYTES)}.")
        else:
            data = upload.read()
            try:
                transfer.read_zip(data)
                name = uuid.uuid4().hex
                _stored(name).write_bytes(data)
            except transfer.ImportRefused as error:
                form.add_error("file", str(error))
            except OSError as error:
                form.add_error(
                    "file",
                    f"CCRRTT-30007E: Hub could not store the file ({error.strerror or error}); check the "
                    f"free space and permissions of {_imports_dir()}.",
                )
            else:
                return redirect("history-import-review", name)
    return render(request, "integrations/import_upload.html", {"form": form})


def import_review(request, name: str):
    """Step 2: the list of changes; Import applies them in order."""
    path = _stored(name)
    if not path.exists():
        raise Http404("No such import.")
    try:
        changes = transfer.read_zip(path.read_bytes())
    except transfer.ImportRefused:
        path.unlink(missing_ok=True)
        raise Http404("This upload can no longer be read; upload the file again.") from None
    if request.method == "POST":
        try:
            result = transfer.apply_changes(changes, request.user, request_id(request))
        finally:
            path.unlink(missing_ok=True)
        remaining = ""
        if result.failed is not None:
            remaining = uuid.uuid4().hex
            _stored(remaining).write_bytes(result.remaining_zip)
        return render(request, "integrations/import_result.html", {"result": result, "remaining": remaining})
    return render(request, "integrations/import_review.html", {"changes": changes, "name": name})


def import_remaining(request, name: str):
    path = _stored(name)
    if not path.exists():
        raise Http404("No such file.")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename="hub-configuration-changes-not-applied.zip"
    )
