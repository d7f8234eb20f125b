from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from hub.sorting import Column, Sorting
from integrations import project_replacement, services, transforms
from integrations.forms.collections import (
    VALUE_MAP_FORMAT,
    FieldMappingForm,
    GatewayCollectionForm,
    RepositoryCollectionForm,
    SqlCollectionForm,
    mapping_initial,
    other_lines,
    value_map_choices,
)
from integrations.models import (
    CollectionProject,
    FieldMapping,
    GatewayCollection,
    Repository,
    RepositoryCollection,
    SqlCollection,
)
from integrations.snapshots import ElementType
from integrations.views.common import change, delete, delete_unless_used, refuse


def _live(call, *args):
    """(result, error message) of a connector call, so a screen shows the failure instead of a 500."""
    from connectors.errors import ConnectorError

    try:
        return call(*args), ""
    except ConnectorError as error:
        return None, str(error)


COLLECTION_COLUMNS = (
    Column("name", "Name", ("name",)),
    Column("repository", "Repository", ("repository__label", "name")),
    Column("model", "Model", ("model__name", "name")),
)


def collection_list(request):
    sorting = Sorting(request.GET, COLLECTION_COLUMNS, default="name")
    return render(
        request,
        "integrations/collection_list.html",
        {
            "collections": sorting.apply(
                RepositoryCollection.objects.select_related("repository", "model")
            ).prefetch_related("projects"),
            "headers": sorting.headers(),
            "gateways": GatewayCollection.objects.select_related("model"),
            "sql_collections": SqlCollection.objects.all(),
        },
    )


def _artifact_type_choices(repository: Repository | None, projects: list[str]):
    """(choices, error) of the artifact types the repository offers for these projects."""
    from connectors import registry

    choices: dict[str, str] = {}
    if repository is None or not projects:
        return [], ""

    def load():
        with registry.connect(repository.settings()) as connector:
            for project in projects:
                for artifact_type in connector.artifact_types(project):
                    choices.setdefault(artifact_type.id, artifact_type.name)
        return choices

    _, error = _live(load)
    return list(choices.items()), error


def _project_label(project) -> str:
    return f"{project.name} ({project.key})" if project.key and project.key != project.name else project.name


def _new_collection_choices(request):
    """For a new collection: the chosen repository's live projects, the ticked ones, and the
    artifact types of those (what the form offers and checks against), and any error."""
    data = request.POST if request.method == "POST" else request.GET
    repository = Repository.objects.filter(pk=data.get("repository") or None).first()
    if repository is None:
        return [], [], [], ""
    live, error = _live(services.live_projects, repository)
    live = live or []
    chosen = [p for p in data.getlist("projects") if p in {project.id for project in live}]
    types, types_error = _artifact_type_choices(repository, chosen)
    return live, chosen, types, error or types_error


def collection_choices(request):
    """HTMX: the project and artifact type choices of the new-collection screen."""
    live, chosen, types, error = _new_collection_choices(request)
    form = RepositoryCollectionForm(
        initial={"projects": chosen, "artifact_types": request.GET.getlist("artifact_types")},
        artifact_type_choices=types,
        project_choices=[(p.id, _project_label(p)) for p in live],
    )
    return render(request, "integrations/_collection_choices.html", {"form": form, "live_error": error})


def collection_edit(request, pk: int | None = None):
    collection = get_object_or_404(RepositoryCollection, pk=pk) if pk else RepositoryCollection()
    live: list = []
    if pk:
        type_choices, error = _artifact_type_choices(collection.repository, collection.project_ids())
        project_choices = None
    else:
        live, _, type_choices, error = _new_collection_choices(request)
        project_choices = [(p.id, _project_label(p)) for p in live]
    form = RepositoryCollectionForm(
        request.POST or None,
        instance=collection,
        artifact_type_choices=type_choices,
        project_choices=project_choices,
    )
    if request.method == "POST" and form.is_valid():
        with change(
            request, ElementType.COLLECTION, RepositoryCollection.objects.filter(pk=pk).first()
        ) as rec:
            saved = form.save()
            if not pk:
                by_id = {p.id: p for p in live}
                chosen = form.cleaned_data.get("projects", [])
                services.set_projects(
                    saved, [{"id": i, "key": by_id[i].key, "name": by_id[i].name} for i in chosen]
                )
            rec.done(saved)
        messages.success(request, f"Collection “{rec.obj.name}” saved.")
        job = project_replacement.start(rec.obj, requested_by=request.user.get_username()) if pk else None
        if job is not None:
            messages.warning(
                request,
                f"Project replacement started (background job {job.pk}): the integrations using this "
                "collection cannot be used until the project update is complete. Progress is on "
                "Activity → Background Jobs.",
            )
        return redirect("collection-edit", rec.obj.pk)
    return render(
        request,
        "integrations/collection_form.html",
        {
            "form": form,
            "collection": collection if collection.pk else None,
            "live_error": error,
            "projects": collection.projects.all() if collection.pk else [],
            "users": services.users_of_collection(collection) if collection.pk else [],
            "pending_replacements": project_replacement.pending(collection) if collection.pk else [],
            "replacement_job": project_replacement.open_job(collection.pk) if collection.pk else None,
        },
    )


def manage_projects(request, pk: int):
    """The live project list with search; the administrator picks several."""
    collection = get_object_or_404(RepositoryCollection, pk=pk)
    live, error = _live(services.live_projects, collection.repository)
    live = live or []
    chosen = set(collection.project_ids())
    if request.method == "POST":
        if "refresh" in request.POST:
            invalid, error = _live(services.refresh_projects, collection)
            if invalid:
                messages.warning(
                    request,
                    "CCRRTT-1110E: these projects can no longer be found: "
                    + ", ".join(p.name for p in invalid)
                    + ". Use “Manage invalid projects” to choose replacements.",
                )
            troubled = collection.projects.exclude(problem_code="") if not error else []
            for project in troubled:
                text = f"{project.problem_code}: project “{project.name}”: {project.problem}."
                messages.warning(request, text)
            if not (error or invalid or troubled):
                messages.success(request, "The project list is up to date.")
            return redirect("collection-projects", pk)
        picked = set(request.POST.getlist("projects"))
        by_id = {p.id: p for p in live}
        unknown = picked - set(by_id) - chosen
        if unknown:
            refuse(request, f"CCRRTT-1110E: the repository has no project(s) {', '.join(sorted(unknown))}.")
            return redirect("collection-projects", pk)
        kept = {p.project_id: p for p in collection.projects.all()}
        selection = [
            {"id": i, "key": by_id[i].key, "name": by_id[i].name, "kind": by_id[i].kind}
            if i in by_id
            else {"id": i, "key": kept[i].key, "name": kept[i].name}
            for i in sorted(picked)
        ]
        with change(request, ElementType.COLLECTION, collection) as rec:
            services.set_projects(collection, selection)
            rec.done(collection)
        messages.success(request, f"{len(selection)} project(s) chosen for “{collection.name}”.")
        return redirect("collection-edit", pk)
    query = request.GET.get("q", "").strip().lower()
    shown = [
        p
        for p in live
        if not query or query in p.name.lower() or query in p.key.lower() or query in p.id.lower()
    ]
    template = "integrations/_project_choices.html" if request.htmx else "integrations/manage_projects.html"
    return render(
        request,
        template,
        {"collection": collection, "projects": shown, "chosen": chosen, "live_error": error, "q": query},
    )


@require_POST
def remove_invalid_project(request, pk: int, project_pk: int):
    """The "x" beside an invalid project: remove it from the collection when it has no valid
    replacement (seed 2268). Only invalid projects; any other leaves through Manage projects."""
    collection = get_object_or_404(RepositoryCollection, pk=pk)
    project = get_object_or_404(collection.projects, pk=project_pk, invalid=True)
    kept = [
        {"id": p.project_id, "key": p.key, "name": p.name, "kind": p.kind}
        for p in collection.projects.exclude(pk=project.pk)
    ]
    with change(request, ElementType.COLLECTION, collection) as rec:
        services.set_projects(collection, kept)
        rec.done(collection)
    messages.success(
        request,
        f"Project “{project.name}” was removed from “{collection.name}”. Adding its replacement to the "
        "collection later may create duplicates: replace projects with Manage invalid projects instead.",
    )
    return redirect("collection-edit", pk)


def manage_invalid_projects(request, pk: int):
    """The two-pane picker: an invalid project on the left, its replacement (searchable) on the right,
    Replace; Done goes back to the collection, whose Save starts the replacement job."""
    collection = get_object_or_404(RepositoryCollection, pk=pk)
    invalid = collection.projects.filter(invalid=True)
    live, error = _live(services.live_projects, collection.repository)
    taken = set(collection.project_ids()) | set(
        invalid.exclude(replacement_id="").values_list("replacement_id", flat=True)
    )
    live = [p for p in (live or []) if p.id not in set(collection.project_ids())]
    if request.method == "POST":
        project = get_object_or_404(CollectionProject, pk=request.POST.get("project"), collection=collection)
        replacement = {p.id: p for p in live}.get(request.POST.get("replacement", ""))
        if replacement is None:
            refuse(request, "Choose a replacement project from the repository's list.")
            return redirect("collection-invalid-projects", pk)
        if replacement.id in taken and replacement.id != project.replacement_id:
            refuse(request, f"“{replacement.name}” already replaces another project of this collection.")
            return redirect("collection-invalid-projects", pk)
        with change(request, ElementType.COLLECTION, collection) as rec:
            services.replace_project(project, replacement.id, replacement.name)
            rec.done(collection)
        messages.success(
            request,
            f"“{project.name}” will be replaced by “{replacement.name}”. Replace the others, click Done, "
            "then save the collection to apply the replacements.",
        )
        return redirect("collection-invalid-projects", pk)
    query = request.GET.get("q", "").strip().lower()
    shown = [
        p
        for p in live
        if not query or query in p.name.lower() or query in p.key.lower() or query in p.id.lower()
    ]
    template = (
        "integrations/_replacement_choices.html"
        if request.htmx
        else "integrations/manage_invalid_projects.html"
    )
    return render(
        request,
        template,
        {"collection": collection, "invalid": invalid, "live": shown, "live_error": error, "q": query},
    )


@require_http_methods(["GET", "POST"])
def collection_delete(request, pk: int):
    collection = get_object_or_404(RepositoryCollection, pk=pk)
    users = services.users_of_collection(collection)
    return delete_unless_used(
        request,
        ElementType.COLLECTION,
        collection,
        users,
        edit="collection-edit",
        listing="collections",
        goes=[
            f"its {collection.projects.count()} chosen projects",
            f"its {collection.mappings.count()} field mappings",
        ],
    )


# --- mapping ----------------------------------------------------------------------------------


def _mapping_form(request, collection, schema, data=None, initial=None, editing: FieldMapping | None = None):
    model_fields = list(collection.model.fields.all()) if collection.model_id else []
    return FieldMappingForm(
        data,
        initial=initial,
        schema=schema or [],
        model_fields=model_fields,
        others=other_lines(collection, model_fields, editing),
    )


def _value_map_context(form) -> dict:
    return {
        "vm": value_map_choices(form),
        "value_map_format": VALUE_MAP_FORMAT.format(source="from", target="to"),
    }


def collection_mapping(request, pk: int):
    collection = get_object_or_404(RepositoryCollection.objects.select_related("model", "repository"), pk=pk)
    schema, error = _live(services.field_schema, collection)
    form = _mapping_form(request, collection, schema, request.POST or None)
    if request.method == "POST":
        if collection.model_id is None:
            refuse(request, "CCRRTT-1404E: choose the model this collection maps to first.")
            return redirect("collection-edit", pk)
        if form.is_valid():
            with transaction.atomic(), change(request, ElementType.MAPPING, collection) as rec:
                form.save(collection)
                rec.done(collection)
            messages.success(request, "Mapping added.")
            return redirect("collection-mapping", pk)
    from integrations.validation import mapping_problems

    model_fields = collection.model.fields_by_key() if collection.model_id else {}
    stored = list(collection.mappings.all())
    lines = [(m, mapping_problems(m, model_fields, stored[:n])) for n, m in enumerate(stored)]
    mapped_model = {k for m in collection.mappings.all() for k in m.model_fields}
    return render(
        request,
        "integrations/mapping.html",
        {
            "collection": collection,
            "form": form,
            "schema": schema or [],
            "live_error": error,
            "lines": lines,
            "unmapped": [f for f in model_fields.values() if f.key not in mapped_model],
            **_value_map_context(form),
        },
    )


def mapping_transforms(request, pk: int):
    """HTMX: the transforms that fit the fields chosen so far."""
    collection = get_object_or_404(RepositoryCollection.objects.select_related("model"), pk=pk)
    schema, _ = _live(services.field_schema, collection)
    types = {f.id: str(f.type) for f in schema or []}
    model_fields = collection.model.fields_by_key() if collection.model_id else {}
    repo = [types[f] for f in request.GET.getlist("repository_fields") if f in types]
    model = [model_fields[k].type for k in request.GET.getlist("model_fields") if k in model_fields]
    from extensions.views.mapping import extension_choices

    # The value map follows the chosen fields too (an out-of-band swap of the same answer).
    form = _mapping_form(request, collection, schema, request.GET)
    return render(
        request,
        "integrations/_transform_choices.html",
        {
            "transforms": transforms.offered(repo, model),
            "selected": request.GET.get("transform", ""),
            **extension_choices(request, repo, model),
            "value_map_form": form,
            "vm": value_map_choices(form),
            "value_map_format": VALUE_MAP_FORMAT.format(source="from", target="to"),
        },
    )


@require_POST
def mapping_delete(request, pk: int, mapping_pk: int):
    collection = get_object_or_404(RepositoryCollection, pk=pk)
    mapping = get_object_or_404(FieldMapping, pk=mapping_pk, collection=collection)
    with change(request, ElementType.MAPPING, collection) as rec:
        mapping.delete()
        rec.done(collection)
    messages.success(request, "Mapping removed: the repository field is no longer read or written.")
    return redirect("collection-mapping", pk)


def mapping_edit(request, pk: int, mapping_pk: int):
    collection = get_object_or_404(RepositoryCollection.objects.select_related("model", "repository"), pk=pk)
    mapping = get_object_or_404(FieldMapping, pk=mapping_pk, collection=collection)
    schema, error = _live(services.field_schema, collection)
    form = _mapping_form(
        request, collection, schema, request.POST or None, initial=mapping_initial(mapping), editing=mapping
    )
    if request.method == "POST" and form.is_valid():
        with change(request, ElementType.MAPPING, collection) as rec:
            form.save(collection, mapping)
            rec.done(collection)
        messages.success(request, "Mapping saved.")
        return redirect("collection-mapping", pk)
    return render(
        request,
        "integrations/mapping_edit.html",
        {
            "collection": collection,
            "form": form,
            "mapping": mapping,
            "live_error": error,
            **_value_map_context(form),
        },
    )


# --- gateway and SQL collections --------------------------------------------------------------


def gateway_collection_edit(request, pk: int | None = None):
    """The gateway collection's page. A GET with ``model`` (HTMX, when the model changes) gives the
    Relationship Field Configuration of that model."""
    collection = get_object_or_404(GatewayCollection, pk=pk) if pk else GatewayCollection()
    model_id = request.GET.get("model") if request.method == "GET" else None
    form = GatewayCollectionForm(request.POST or None, instance=collection, model_id=model_id)
    form.fields["model"].widget.attrs.update(
        {"hx-get": request.path, "hx-target": "#relationship-fields", "hx-select": "#relationship-fields",
         "hx-swap": "outerHTML"}
    )  # fmt: skip
    token = None
    if request.method == "POST" and form.is_valid():
        with change(
            request, ElementType.GATEWAY_COLLECTION, GatewayCollection.objects.filter(pk=pk).first()
        ) as rec:
            saved = form.save(commit=False)
            if not saved.pk or "new_token" in request.POST:
                token = services.new_gateway_token(saved)
            saved.save()
            rec.done(saved)
        if token is None:
            messages.success(request, f"Gateway collection “{saved.name}” saved.")
            return redirect("gateway-collection-edit", saved.pk)
        collection = saved
    return render(
        request,
        "integrations/gateway_collection_form.html",
        {"form": form, "collection": collection if collection.pk else None, "token": token},
    )


def sql_collection_edit(request, pk: int | None = None):
    collection = get_object_or_404(SqlCollection, pk=pk) if pk else SqlCollection()
    form = SqlCollectionForm(request.POST or None, instance=collection)
    if request.method == "POST" and form.is_valid():
        with change(request, ElementType.SQL_COLLECTION, SqlCollection.objects.filter(pk=pk).first()) as rec:
            rec.done(form.save())
        messages.success(request, f"SQL collection “{rec.obj.name}” saved.")
        return redirect("sql-collection-edit", rec.obj.pk)
    return render(
        request,
        "integrations/sql_collection_form.html",
        {"form": form, "collection": collection if collection.pk else None},
    )


def _table_refusal(collection: SqlCollection) -> services.TestResult | None:
    from integrations import eds

    problem = eds.unusable(collection)
    return None if problem is None else services.TestResult(False, problem.code, problem.message)


@require_POST
def sql_collection_test(request, pk: int):
    """HTMX, the Test connection button: credentials, TLS options of the URL, the table and its
    columns (10009E naming each missing one), with the saved settings."""
    from connectors.errors import ConnectorError
    from integrations import eds

    collection = get_object_or_404(SqlCollection.objects.select_related("model"), pk=pk)
    result = _table_refusal(collection)
    if result is None:
        try:
            eds.test_table(collection)
            result = services.TestResult(
                True, "", f"The table {collection.table} has every column the stream writes."
            )
        except ConnectorError as error:
            result = services.TestResult(False, error.code, error.message)
    return render(request, "integrations/_connection_result.html", {"result": result})


@require_POST
def sql_collection_table(request, pk: int):
    """HTMX, the Create table button: first the proposed DDL with a confirmation button, then (with
    the digest of the statement shown) the statement run."""
    from connectors.errors import ConnectorError
    from integrations import eds

    collection = get_object_or_404(SqlCollection.objects.select_related("model"), pk=pk)
    context = {"collection": collection, "result": _table_refusal(collection), "ddl": ""}
    if context["result"] is None:
        try:
            context["ddl"] = ddl = eds.proposed_ddl(collection)
            context["digest"] = eds.ddl_digest(ddl)
            if request.POST.get("confirm"):
                if request.POST["confirm"] != context["digest"]:
                    raise ConnectorError(
                        "The model changed since the statement was shown; check the new one.",
                        code="CCRRTT-30002E",
                    )
                eds.create_table(collection)
                context["result"] = services.TestResult(True, "", f"Table {collection.table} created.")
                context["ddl"] = ""
        except ConnectorError as error:
            context["result"] = services.TestResult(False, error.code, error.message)
    return render(request, "integrations/_create_table.html", context)


@require_POST
def other_collection_delete(request, kind: str, pk: int):
    model, element_type = {
        "gateway": (GatewayCollection, ElementType.GATEWAY_COLLECTION),
        "sql": (SqlCollection, ElementType.SQL_COLLECTION),
    }[kind]
    collection = get_object_or_404(model, pk=pk)
    delete(request, element_type, collection)
    messages.success(request, f"Collection “{collection.name}” deleted.")
    return redirect("collections")
