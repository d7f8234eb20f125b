"""Per-user API tokens (``hub.api_tokens``) for Django REST framework,
and the permission that keeps viewers read-only — the roles middleware runs before DRF has
authenticated a token, so the API enforces the same rule itself."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from hub.roles import is_administrator


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too)."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        from hub import api_tokens

        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header is “Bearer <token>”.")
        user = api_tokens.authenticate(header[1].decode(errors="replace"))
        if user is None:
            raise exceptions.AuthenticationFailed("This API token is unknown or revoked.")
        return user, None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="hub"'


class ViewersReadOnly(permissions.BasePermission):
    message = "Only administrators can change Hub; this token belongs to a viewer."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or is_administrator(request.user)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token authentication in the OpenAPI document."""

    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token made in the console.",
        }
