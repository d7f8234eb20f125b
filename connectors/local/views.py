"""Pages of the local tracker, so a person can change an item and watch it sync. Thin: the forms
make SDK values, ``connectors.local.service`` changes the data. Changes need the administrator
role (enforced for every POST by ``hub.roles`` middleware)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from connectors.errors import ConnectorError, ValuesNotAccepted
from connectors.local import containers as local_containers
from connectors.local import service
from connectors.local.forms import (
    CommentForm,
    ItemForm,
    ProjectForm,
    TestStepFormSet,
    TimeEntryDurationForm,
    TimeEntryForm,
    TransitionForm,
    steps_of,
)
from connectors.local.models import LocalItem, LocalProject, LocalTracker

PAGE_SIZE = 50


def _add_refusal(form, error: ValuesNotAccepted) -> None:
    """Show the service's refusal on the fields it names, with its catalog code."""
    for name, reason in error.fields.items():
        form.add_error(name if name in form.fields else None, f"{reason} ({error.code})")
    if not error.fields:
        form.add_error(None, str(error))


# The trackers the README's walk-through uses: offered (to create their first project) before
# they exist, since a tracker comes into being when first used.
OFFERED = ("alpha", "beta")


def index(request: HttpRequest) -> HttpResponse:
    trackers = list(LocalTracker.objects.prefetch_related("projects"))
    used = {tracker.name for tracker in trackers}
    trackers += [LocalTracker(name=name) for name in OFFERED if name not in used]
    return render(request, "connectors/local/index.html", {"trackers": trackers, "form": ProjectForm()})


def project_new(request: HttpRequest, tracker: str) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        of = service.tracker(tracker)
        if LocalProject.objects.filter(tracker=of, key=form.cleaned_data["key"].upper()).exists():
            form.add_error("key", "This tracker already has a project with that key.")
        else:
            project = service.create_project(of, form.cleaned_data["key"], form.cleaned_data["name"])
            messages.success(request, f"Project {project.key} created.")
            return redirect("local_tracker:project", tracker=of.name, key=project.key)
    return render(request, "connectors/local/project_new.html", {"tracker_name": tracker, "form": form})


def project_items(request: HttpRequest, tracker: str, key: str) -> HttpResponse:
    project = get_object_or_404(
        LocalProject.objects.select_related("tracker"), tracker__name=tracker, key=key
    )
    items = project.items.select_related("assignee").order_by("-updated", "-id")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "connectors/local/project.html", {"project": project, "page": page})


def item_new(request: HttpRequest, tracker: str, key: str) -> HttpResponse:
    project = get_object_or_404(
        LocalProject.objects.select_related("tracker"), tracker__name=tracker, key=key
    )
    form = ItemForm(request.POST or None, tracker=project.tracker)
    if request.method == "POST" and form.is_valid():
        try:
            item = service.create_item(
                project,
                form.cleaned_data["type"],
                form.sdk_values(only_changed=False),
                reporter=service.console_user(project.tracker, request.user),
            )
        except ValuesNotAccepted as error:
            _add_refusal(form, error)
        else:
            messages.success(request, f"{item.formatted_id} created.")
            return redirect("local_tracker:item", tracker=tracker, pk=item.pk)
    return render(
        request, "connectors/local/item_form.html", {"project": project, "form": form, "item": None}
    )


def _item(tracker: str, pk: int) -> LocalItem:
    return get_object_or_404(
        LocalItem.objects.select_related("project__tracker", "assignee", "reporter", "parent__project"),
        project__tracker__name=tracker,
        pk=pk,
    )


def item_detail(request: HttpRequest, tracker: str, pk: int) -> HttpResponse:
    item = _item(tracker, pk)
    return render(request, "connectors/local/item.html", _detail_context(item))


def _detail_context(item: LocalItem, **bound) -> dict:
    steps = service.transitions_of(item)
    transition_form = bound.get("transition_form") or TransitionForm()
    transition_form.fields["transition"].choices = [(s.id, s.name) for s in steps]
    return {
        "item": item,
        "project": item.project,
        "watchers": item.watchers.all(),
        "related": item.related.select_related("project"),
        "children": item.children.select_related("project").order_by("pk"),
        "ancestors": local_containers.ancestors(item),
        "comments": item.comments.select_related("author"),
        "attachments": item.attachments.all(),
        "transitions": steps,
        "transition_form": transition_form,
        "comment_form": bound.get("comment_form") or CommentForm(),
        "time_entries": item.time_entries.select_related("worker"),
        "time_entry_form": bound.get("time_entry_form") or TimeEntryForm(),
    }


def item_edit(request: HttpRequest, tracker: str, pk: int) -> HttpResponse:
    item = _item(tracker, pk)
    form = ItemForm(
        request.POST or None, tracker=item.project.tracker, editing=item, initial=ItemForm.initial_for(item)
    )
    if request.method == "POST" and form.is_valid():
        try:
            # Only what the person changed, checked against the revision they saw: an edit made
            # meanwhile (by a sync, say) is not silently overwritten.
            service.update_item(
                item.pk, form.sdk_values(only_changed=True), expected_revision=request.POST.get("revision")
            )
        except ValuesNotAccepted as error:
            _add_refusal(form, error)
        except ConnectorError as error:
            form.add_error(None, f"{error.message} Reload the page to see the latest values. ({error.code})")
        else:
            messages.success(request, f"{item.formatted_id} saved.")
            return redirect("local_tracker:item", tracker=tracker, pk=item.pk)
    return render(
        request, "connectors/local/item_form.html", {"project": item.project, "form": form, "item": item}
    )


def item_transition(request: HttpRequest, tracker: str, pk: int) -> HttpResponse:
    item = _item(tracker, pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        values = {"resolution": form.cleaned_data["resolution"]} if form.cleaned_data["resolution"] else {}
        try:
            service.perform_transition(item.pk, form.cleaned_data["transition"], values)
        except ValuesNotAccepted as error:
            messages.error(request, str(error))
        else:
            name = dict(form.fields["transition"].choices)[form.cleaned_data["transition"]]
            messages.success(request, f"{item.formatted_id}: {name}.")
    else:
        messages.error(request, "Choose a transition.")
    return redirect("local_tracker:item", tracker=tracker, pk=item.pk)


def item_comment(request: HttpRequest, tracker: str, pk: int) -> HttpResponse:
    item = _item(tracker, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        service.add_comment(
            item.pk,
            service.console_user(item.project.tracker, request.user),
            form.cleaned_data["body"],
            private=form.cleaned_data["private"],
        )
        form = CommentForm()
    context = _detail_context(_item(tracker, pk), comment_form=form)
    if request.htmx:
        return render(request, "connectors/local/_comments.html", context)
    return render(request, "connectors/local/item.html", context)


def item_time_entry(request: HttpRequest, tracker: str, pk: int) -> HttpResponse:
    """File a worklog on the item as the signed-in person."""
    item = _item(tracker, pk)
    form = TimeEntryForm(request.POST)
    if form.is_valid():
        try:
            service.add_time_entry(
                item.pk,
                service.console_user(item.project.tracker, request.user),
                form.cleaned_data["date"],
                form.cleaned_data["duration"],
                comment=form.cleaned_data["comment"],
                activity=form.cleaned_data["activity"],
            )
        except ValuesNotAccepted as error:
            _add_refusal(form, error)
        else:
            messages.success(request, f"{item.formatted_id}: time entry filed.")
            return redirect("local_tracker:item", tracker=tracker, pk=item.pk)
    return render(request, "connectors/local/item.html", _detail_context(item, time_entry_form=form))


def item_time_entry_duration(request: HttpRequest, tracker: str, pk: int, entry_pk: int) -> HttpResponse:
    item = _item(tracker, pk)
    entry = get_object_or_404(item.time_entries, pk=entry_pk)
    form = TimeEntryDurationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A duration is hh:mm:ss.")
    else:
        try:
            service.update_time_entry(entry.pk, duration=form.cleaned_data["duration"])
        except ValuesNotAccepted as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{item.formatted_id}: duration changed.")
    return redirect("local_tracker:item", tracker=tracker, pk=item.pk)


def item_test_steps(request: HttpRequest, tracker: str, pk: int) -> HttpResponse:
    """The test step editor: edit a step, add one, remove one, or give them a new order."""
    item = _item(tracker, pk)
    initial = [{**step, "ORDER": number} for number, step in enumerate(item.test_steps or [], start=1)]
    formset = TestStepFormSet(request.POST or None, initial=initial, prefix="steps")
    if request.method == "POST" and formset.is_valid():
        try:
            service.set_test_steps(item.pk, steps_of(formset))
        except ValuesNotAccepted as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{item.formatted_id}: test steps saved.")
            return redirect("local_tracker:item", tracker=tracker, pk=item.pk)
    return render(
        request,
        "connectors/local/test_steps.html",
        {"item": item, "project": item.project, "formset": formset},
    )
