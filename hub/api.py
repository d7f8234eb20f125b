"""What every JSON API endpoint of Hub shares, whichever app defines it: one error shape, the
request body parser with its limits, and the error answers in the OpenAPI document.

Every error under ``/api/`` answers JSON of one shape::

    {"code": "CCRRTT-30002E", "message": "name: This field is required.",
     "errors": {"name": ["This field is required."]}}

``code`` is the catalog code where one fits (a message that starts with a code gives it), else
null; ``message`` is one line for a person; ``errors`` maps each refused field (dotted for nested
ones: ``model_fields.0.id``) to its messages and is empty when no field is to blame.

It is installed globally — ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``, the default parser, the
``handler404``/``handler500`` of ``hub.urls`` and drf-spectacular's post-processing hook — so an
endpoint added by any app answers and documents its errors this way without doing anything.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.response import Response

from hub import jsonload

log = logging.getLogger("hub.api")

API_PREFIX = "/api/"
CODE = re.compile(r"CCRRTT-\d{4,5}[EWI]")

UNEXPECTED = "CCRRTT-30000E"
NOT_FOUND = "CCRRTT-30001E"
INVALID_DATA = "CCRRTT-30002E"
CONNECTOR_KIND_NOT_FOUND = "CCRRTT-30003E"
INVALID_JSON = "CCRRTT-30004E"
REQUEST_ENTITY = "CCRRTT-30007E"

# The catalog code each status answers with when the error itself names none.
DEFAULT_CODES = {
    400: INVALID_DATA,
    404: NOT_FOUND,
    409: INVALID_DATA,
    413: REQUEST_ENTITY,
    415: REQUEST_ENTITY,
    500: UNEXPECTED,
}

# The error answers every operation documents (drf-spectacular hook below).
DOCUMENTED_ERRORS = {
    400: "The request is not valid; `errors` names each refused field.",
    401: "No credentials, or an unknown or revoked API token.",
    403: "The credentials are valid but may not do this (a viewer changing something).",
    404: "No such element, or no such path.",
    409: "The change conflicts with the state of Hub (an element in use, a running integration).",
    413: "The request body is larger than Hub accepts.",
    429: "Too many failed authentications from this address; retry after `Retry-After` seconds.",
    503: "Hub is starting up, or another instance holds the operational database.",
}
# Answers of the web server in front of Hub (gunicorn), before any Hub code runs: plain HTML.
DOCUMENTED_BY_THE_WEB_SERVER = {
    414: "The request line (method, path and query) is longer than the web server reads (4094 bytes).",
}


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def error_body(message: str, *, code: str | None = None, errors: dict[str, list[str]] | None = None) -> dict:
    found = CODE.search(message)
    return {"code": code or (found.group(0) if found else None), "message": message, "errors": errors or {}}


def error_response(status_code: int, message: str, *, code: str | None = None, **kwargs) -> JsonResponse:
    """The error shape as a plain Django response, for middleware and URL-level handlers."""
    body = error_body(message, code=code or DEFAULT_CODES.get(status_code))
    return JsonResponse(body, status=status_code, **kwargs)


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(field path, message) for every message in a DRF error detail, in order."""
    if isinstance(detail, dict):
        return [pair for key, value in detail.items() for pair in _flatten(value, _join(prefix, str(key)))]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [(prefix, str(item)) for item in detail]
        return [pair for i, item in enumerate(detail) for pair in _flatten(item, _join(prefix, str(i)))]
    return [(prefix, str(detail))]


def _join(prefix: str, key: str) -> str:
    if key in ("non_field_errors", "detail"):
        return prefix
    return f"{prefix}.{key}" if prefix else key


def validation_body(detail: Any, default_code: str | None = INVALID_DATA) -> dict:
    """The error shape of a DRF error detail (a message, or fields → messages, nested)."""
    pairs = _flatten(detail)
    errors: dict[str, list[str]] = {}
    for field, message in pairs:
        if field:
            errors.setdefault(field, []).append(message)
    shown = [f"{field}: {message}" if field else message for field, message in pairs[:5]]
    message = "; ".join(shown) + (f" (and {len(pairs) - 5} more)" if len(pairs) > 5 else "")
    codes = [found.group(0) for _, text in pairs if (found := CODE.search(text))]
    code = codes[0] if codes else default_code
    return error_body(message or "The data provided was not valid.", code=code, errors=errors)


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception of an API view becomes the error shape."""
    # Imported here: rest_framework.views reads the parser setting, which names this module.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(
            f"{REQUEST_ENTITY}: the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    if isinstance(exc, IntegrityError):
        log.warning("An API change conflicted with a database constraint: %s", exc)
        set_rollback()
        return Response(
            error_body("The change conflicts with data Hub already has.", code=INVALID_DATA),
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, (OperationalError, InterfaceError)):
        from hub import storage

        log.error("An API request could not reach the operational database: %s", type(exc).__name__)
        return Response(
            error_body(storage.unavailable_message(exc), code=storage.UNREACHABLE_CODE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if response is None:
        if isinstance(exc, DatabaseError):
            log.exception("An API request failed on the operational database")
        else:
            log.exception("An API request failed unexpectedly")
        set_rollback()
        return Response(
            error_body(f"{UNEXPECTED}: Hub could not complete the request; see its log.", code=UNEXPECTED),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    default = DEFAULT_CODES.get(response.status_code)
    if isinstance(exc, exceptions.ParseError):
        default = INVALID_JSON
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = validation_body(detail, default)
    return response


class Conflict(exceptions.APIException):
    """409: the request is well-formed but the state of Hub refuses it (an element in use)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The change conflicts with the state of Hub."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with limits: a body of at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes and
    at most ``jsonload.MAX_DEPTH`` levels of nesting; NaN and Infinity are refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise RequestTooLarge(f"{REQUEST_ENTITY}: the request body is larger than {limit} bytes.")
        try:
            return jsonload.loads(data)
        except jsonload.JsonRefused as error:
            raise exceptions.ParseError(f"{INVALID_JSON}: the request body is {error}.") from None


def not_found(request, exception=None):
    """``handler404``: JSON under /api/, the console's page elsewhere."""
    if is_api(request):
        return error_response(404, f"{NOT_FOUND}: there is nothing at {request.path}.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    """``handler500``: JSON under /api/, the console's page elsewhere; 30009E, not a traceback, while
    the operational database cannot be reached."""
    import sys

    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        from hub import storage

        return storage.unavailable_response(request, error, api=is_api(request))
    if is_api(request):
        return error_response(500, f"{UNEXPECTED}: Hub could not complete the request; see its log.")
    from django.views.defaults import server_error as page

    return page(request)


class CleanModelSerializer(serializers.ModelSerializer):
    """A model serializer that also runs the model's own ``full_clean`` — its field validators and
    ``clean()`` — on what is written, so the API refuses exactly what the screens (model forms) and
    the configuration import refuse. Fields the request leaves out are not re-validated; secret
    fields are the vault's to check."""

    def validate(self, attrs):
        from hub.fields import SecretField

        attrs = super().validate(attrs)
        model = self.Meta.model
        concrete = {field.name: field for field in model._meta.concrete_fields}
        values = {name: value for name, value in attrs.items() if name in concrete}
        instance = self.instance if isinstance(self.instance, model) else None
        probe = copy.copy(instance) if instance is not None else model()
        for name, value in values.items():
            setattr(probe, name, value)
        exclude = [
            name for name, field in concrete.items() if name not in values or isinstance(field, SecretField)
        ]
        try:
            probe.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except DjangoValidationError as error:
            names = {field.source: name for name, field in self.fields.items()}
            raise serializers.ValidationError(
                {
                    "non_field_errors" if key == NON_FIELD_ERRORS else names.get(key, key): messages
                    for key, messages in error.message_dict.items()
                }
            ) from None
        return attrs


# --- the OpenAPI document ---------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API has this shape.",
    "properties": {
        "code": {
            "type": "string",
            "nullable": True,
            "description": "The catalog code (CCRRTT-…), or null where none fits.",
        },
        "message": {"type": "string", "description": "What went wrong, for a person."},
        "errors": {
            "type": "object",
            "description": "Refused field (dotted path for nested ones) → its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "errors"],
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def document_errors(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: the error shape on every operation of every path."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status_code, description in DOCUMENTED_ERRORS.items():
                responses.setdefault(
                    str(status_code),
                    {"description": description, "content": {"application/json": {"schema": reference}}},
                )
            for status_code, description in DOCUMENTED_BY_THE_WEB_SERVER.items():
                responses.setdefault(
                    str(status_code),
                    {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}},
                )
    return result
