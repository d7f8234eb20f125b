"""/api/v1/ itself: which endpoints there are, where the OpenAPI document is, and that document
rendered as a page of the console (no third-party viewer, so nothing loads from outside Hub and
the page lives under the same CSP as every other)."""

from __future__ import annotations

import re

from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.api.views import ApiView

METHODS = ("get", "post", "put", "patch", "delete")


def endpoints(router) -> list[dict]:
    """One entry per registered collection route, its path parameters as ``{name}``."""
    found = []
    for prefix, _viewset, basename in router.registry:
        path = re.sub(r"<int:(\w+)>", r"{\1}", prefix)
        found.append({"name": basename.removeprefix("api-").replace("-", " "), "url": f"/api/v1/{path}/"})
    return found


class ApiRoot(ApiView, APIView):
    @extend_schema(exclude=True)
    def get(self, request):
        from integrations.api.urls import router

        return Response(
            {
                "endpoints": endpoints(router),
                "openapi": reverse("api-schema"),
                "docs": reverse("api-docs"),
            }
        )


def operations(schema: dict) -> list[dict]:
    """The document's operations in path order, as the docs page lists them."""
    rows = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation:
                rows.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "summary": operation.get("summary") or operation.get("description", ""),
                        "parameters": [p["name"] for p in operation.get("parameters", [])],
                    }
                )
    return rows


def api_docs(request):
    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    return render(
        request,
        "integrations/api_docs.html",
        {"info": schema.get("info", {}), "operations": operations(schema)},
    )
