"""Per-user API tokens (``hub.models.ApiToken``, stored as SHA-256 digests) for Django REST framework,
and the permission that keeps viewers read-only — the roles middleware runs before DRF has
authenticated a token, so the API enforces the same rule itself."""

from __future__ import annotations

import hashlib

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from hub.roles import is_administrator


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too)."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        from hub.models import ApiToken

        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header is “Bearer <token>”.")
        token = header[1].decode(errors="replace")
        found = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=token_digest(token), revoked__isnull=True)
            .first()
        )
        if found is None or not found.user.is_active:
            raise exceptions.AuthenticationFailed("This API token is unknown or revoked.")
        ApiToken.objects.filter(pk=found.pk).update(last_used=timezone.now())
        return found.user, found

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="hub"'


class ViewersReadOnly(permissions.BasePermission):
    message = "Only administrators can change Hub; this token belongs to a viewer."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or is_administrator(request.user)
