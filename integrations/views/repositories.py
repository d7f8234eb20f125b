from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from activity.models import Blocker
from hub.sorting import Column, Sorting
from integrations import services
from integrations.forms.repositories import RepositoryForm, kind_choices
from integrations.models import Repository
from integrations.snapshots import ElementType
from integrations.views.common import change, delete_unless_used
from integrations.views.event_hints import hook_url

REPOSITORY_COLUMNS = (
    Column("label", "Label", ("label",)),
    Column("kind", "Connector", ("kind", "label")),
    Column("url", "URL", ("url",)),
)


def repository_list(request):
    sorting = Sorting(request.GET, REPOSITORY_COLUMNS, default="label")
    repositories = sorting.apply(Repository.objects.prefetch_related("collections"))
    return render(
        request,
        "integrations/repository_list.html",
        {"repositories": repositories, "kinds": kind_choices(), "headers": sorting.headers()},
    )


def repository_create(request):
    kind = request.GET.get("kind") or request.POST.get("kind")
    if kind not in dict(kind_choices()):
        raise Http404("Hub has no connector of that kind.")
    form = RepositoryForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        with change(request, ElementType.REPOSITORY) as recorded:
            recorded.done(form.save())
        _tested(request, recorded.obj, f"Repository “{recorded.obj.label}” created")
        return redirect("repository-edit", recorded.obj.pk)
    return render(request, "integrations/repository_form.html", {"form": form, "kind": kind, **about(kind)})


def about(kind: str) -> dict:
    """What the screen says about a kind: its help, and whether it can take event hints."""
    from connectors import registry

    connector = registry.connector_class(kind)
    return {
        "kind_label": connector.label,
        "connector_help": connector.help,
        "hints_possible": connector.capabilities.event_hints,
        "hint_help": connector.event_hint_help,
    }


def repository_edit(request, pk: int):
    repository = get_object_or_404(Repository, pk=pk)
    form = RepositoryForm(request.POST or None, instance=repository, kind=repository.kind)
    if request.method == "POST" and form.is_valid():
        changed = form.settings_changed()
        with change(request, ElementType.REPOSITORY, Repository.objects.get(pk=pk)) as recorded:
            recorded.done(form.save())
        if changed:
            _tested(request, recorded.obj, f"Repository “{repository.label}” saved")
        else:  # nothing to test again: the state of the last test still holds
            messages.success(request, f"Repository “{repository.label}” saved.")
        return redirect("repository-edit", pk)
    blockers = Blocker.objects.filter(key__startswith=f"repository:{pk}:")
    return render(
        request,
        "integrations/repository_form.html",
        {
            "form": form,
            "kind": repository.kind,
            "repository": repository,
            "blockers": blockers,
            "users": services.users_of_repository(repository),
            "hook_url": hook_url(request, repository),
            **about(repository.kind),
        },
    )


def _tested(request, repository: Repository, done: str) -> None:
    """Test the settings just saved, so the state says whether they connect (saved either way)."""
    if not repository.enabled:
        messages.success(request, f"{done}.")
        return
    result = services.test_connection(repository)
    if result.ok:
        messages.success(request, f"{done}; the connection works. {result.message}")
    else:
        messages.warning(
            request,
            f"{done}, but it cannot connect: {result.code}: {result.message} It is marked failing, and the "
            "integrations that use it wait until it connects.",
        )


@require_POST
def repository_test(request, pk: int | None = None):
    """HTMX: test the settings on the form (not yet saved) or of a saved repository."""
    repository = get_object_or_404(Repository, pk=pk) if pk else None
    kind = repository.kind if repository else request.POST.get("kind", "")
    if kind not in dict(kind_choices()):
        raise Http404("Hub has no connector of that kind.")
    form = RepositoryForm(request.POST, instance=repository, kind=kind)
    if not form.is_valid():
        result = services.TestResult(
            False,
            "CCRRTT-61103E",
            "The settings are not complete or not valid: "
            + "; ".join(f"{f}: {' '.join(e)}" for f, e in form.errors.items()),
        )
    else:
        # Only a test of the stored settings becomes the repository's "last test" state.
        result = services.test_connection(form.save(commit=False), save=False)
        if repository is not None and not form.settings_changed():
            services.remember_test(repository, result)
    return render(request, "integrations/_connection_result.html", {"result": result})


@require_POST
def repository_toggle(request, pk: int):
    repository = get_object_or_404(Repository, pk=pk)
    with change(request, ElementType.REPOSITORY, repository) as recorded:
        repository.enabled = not repository.enabled
        repository.save(update_fields=["enabled", "updated"])
        recorded.done(repository)
    messages.success(
        request, f"Repository “{repository.label}” {'enabled' if repository.enabled else 'disabled'}."
    )
    return redirect("repository-edit", pk)


@require_http_methods(["GET", "POST"])
def repository_delete(request, pk: int):
    repository = get_object_or_404(Repository, pk=pk)
    users = services.users_of_repository(repository)
    return delete_unless_used(
        request,
        ElementType.REPOSITORY,
        repository,
        users,
        edit="repository-edit",
        listing="repositories",
        goes=["its stored credentials"],
    )
