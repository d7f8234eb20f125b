"""Help pages for the error catalog: an index and one page per code."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from activity import catalog


def error_index(request):
    entries = list(catalog.CATALOG.values())  # the catalog keeps them in numeric order
    return render(request, "activity/help_errors.html", {"entries": entries})


def error_detail(request, code: str):
    if not catalog.is_known(code):
        raise Http404("No such error code.")
    return render(request, "activity/help_error.html", {"entry": catalog.entry(code)})
