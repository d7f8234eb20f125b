"""Views of the console shell: home, first-run setup, health, help and the error pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub import health, setup
from hub.forms import FirstAdministratorForm


def home(request):
    return render(request, "hub/home.html")


class SignInView(auth_views.LoginView):
    """Sign-in (where / leads anyone not signed in); before the first administrator exists it
    points to /setup/ and says where the setup token is."""

    template_name = "hub/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **setup_hint()}


def setup_hint() -> dict:
    """What the sign-in and setup pages say while nobody can sign in yet: where the token is."""
    if not setup.first_run_open():
        return {}
    return {"first_run": True, "token_file": str(setup.token_path())}


@login_not_required
@never_cache
def first_run(request):
    if not setup.first_run_open():
        raise Http404("Hub is set up already.")
    form = FirstAdministratorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = setup.create_first_administrator(data["username"], data["email"], data["password"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, "Welcome to Hub. You are its first administrator. Now set the master password."
        )
        return redirect("settings-general")
    return render(request, "hub/first_run.html", {"form": form, **setup_hint()})


@login_not_required
@require_GET
@never_cache
def api_health(request):
    body, healthy = health.report()
    return JsonResponse(body, status=200 if healthy else 503)


def section(request, title: str, description: str):
    """A screen whose subsystem is not built yet: says so honestly instead of showing fake data."""
    return render(request, "hub/section.html", {"title": title, "description": description})


def csrf_failure(request, reason=""):
    return render(request, "hub/csrf_failure.html", status=403)


@login_not_required
def login_redirect_to_setup(request):
    return redirect("first-run") if setup.first_run_open() else redirect("login")


@login_not_required  # Prometheus does not sign in: the token or its address decides (hub.prometheus)
@require_GET
@never_cache
def prometheus_metrics(request):
    from django.conf import settings
    from django.http import HttpResponse

    from hub import prometheus

    if not prometheus.allowed(
        prometheus.configured_token(),
        settings.HUB["hub.metrics.allowedAddresses"],
        request.headers.get("Authorization", ""),
        request.META.get("REMOTE_ADDR", ""),
    ):
        return HttpResponse(
            "/metrics needs the token of hub.metrics.tokenFile, or a client address in "
            "hub.metrics.allowedAddresses.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(prometheus.exposition(), content_type=prometheus.CONTENT_TYPE)
