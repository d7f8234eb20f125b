"""Settings → Advanced → Upgrade Backup Files: download, delete and upload the files of
``integrations.upgrade_backup`` (what integrations synchronized while an upgrade still migrated data)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from activity.jobs import JobFailed
from activity.pair_transfer import ImportFileError
from hub.roles import is_administrator
from integrations import upgrade_backup


@require_GET
def download(request, name: str):
    if not is_administrator(request.user):  # artifact field values of every integration, like a pair export
        return HttpResponseForbidden("Only administrators can download upgrade backup files.")
    path = upgrade_backup.path_of(name)
    if path is None:
        raise Http404("No upgrade backup file of that name.")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type="application/json"
    )


@require_POST
def delete(request, name: str):
    if upgrade_backup.delete(name):
        messages.success(request, f"Deleted the upgrade backup file {name}.")
    else:
        messages.error(request, "No upgrade backup file of that name.")
    return redirect("settings-advanced")


@require_POST
def upload(request):
    uploaded = request.FILES.get("file")
    if uploaded is None:
        messages.error(request, "Choose an upgrade backup file (.json) to upload.")
        return redirect("settings-advanced")
    if uploaded.size > upgrade_backup.MAX_UPLOAD_BYTES:
        messages.error(request, "The file is larger than an upgrade backup file can be.")
        return redirect("settings-advanced")
    try:
        counts = upgrade_backup.upload(uploaded.read())
    except ImportFileError as error:
        messages.error(request, f"CCRRTT-30002E: The upgrade backup file was not applied: {error}")
    except JobFailed as failure:
        messages.error(request, f"{failure.code}: {failure.message}")
    else:
        missing = counts["integrations_missing"]
        messages.success(
            request,
            f"The upgrade backup file was imported: {counts['pairs_added']} artifact pairs added, "
            f"{counts['pairs_updated']} brought up to date, {counts['watermarks_moved']} watermarks moved "
            "forward. Your integrations can resume without synchronizing those changes again."
            + (f" Not in this Hub, left out: {', '.join(missing)}." if missing else ""),
        )
    return redirect("settings-advanced")
