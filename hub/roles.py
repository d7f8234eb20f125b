"""Two roles: administrators change things, viewers only look.

The rule is enforced once, in middleware, for every request that is not a safe method, so no
view can forget it. Views that anyone signed in may post to (signing out) say so with
``@any_signed_in_user_may_post``; views for people not signed in yet (sign-in, first-run setup)
are ``@login_not_required`` and protect themselves.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.http import HttpResponseForbidden, HttpResponseNotAllowed

ADMINISTRATORS = "Administrators"
VIEWERS = "Viewers"
# Only these read; everything else changes something and needs an administrator.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The methods Hub's views answer. Any other (TRACE, CONNECT, PROPFIND, …) is refused with 405
# before a view runs, so no view can treat it as a read by accident.
KNOWN_METHODS = (*SAFE_METHODS, "POST", "PUT", "PATCH", "DELETE")


def is_administrator(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=ADMINISTRATORS).exists()


def role_of(user) -> str:
    return "administrator" if is_administrator(user) else "viewer"


def ensure_role_groups() -> tuple[Group, Group]:
    """The two role groups; administrators hold the permissions User administration asks for."""
    from django.contrib.auth.models import Permission

    admins, created = Group.objects.get_or_create(name=ADMINISTRATORS)
    viewers, _ = Group.objects.get_or_create(name=VIEWERS)
    if created or not admins.permissions.exists():
        admins.permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    return admins, viewers


def set_role(user, role: str) -> None:
    """Make ``user`` an administrator or a viewer (staff status follows: admins manage users)."""
    admins, viewers = ensure_role_groups()
    if role == "administrator":
        user.groups.remove(viewers)
        user.groups.add(admins)
        user.is_staff = True
    elif role == "viewer":
        user.groups.remove(admins)
        user.groups.add(viewers)
        user.is_staff = False
        user.is_superuser = False
    else:
        raise ValueError(f"unknown role {role!r}")
    user.save(update_fields=["is_staff", "is_superuser"])


def any_signed_in_user_may_post(view):
    view.any_signed_in_user_may_post = True
    return view


class KnownMethodsMiddleware:
    """405 for a method outside ``KNOWN_METHODS``, on every path (JSON under /api/)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in KNOWN_METHODS:
            return self.get_response(request)
        from hub import api

        allow = ", ".join(KNOWN_METHODS)
        if api.is_api(request):
            return api.error_response(405, f"Hub does not answer {request.method}.", headers={"Allow": allow})
        return HttpResponseNotAllowed(KNOWN_METHODS)


class AdministratorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in SAFE_METHODS:
            return None
        if not getattr(view_func, "login_required", True):
            return None  # sign-in and first-run setup: the view checks its own conditions
        if getattr(view_func, "any_signed_in_user_may_post", False) and request.user.is_authenticated:
            return None
        if is_administrator(request.user):
            return None
        return HttpResponseForbidden("Only administrators can change Hub.")
