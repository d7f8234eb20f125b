"""The one configuration validator. It runs after every save (console, API, import) and hourly,
turns each problem into a blocker with its catalog code, a specific message, links to the element
to fix and the integrations it affects, and clears the blockers of problems that are gone.

Keys name the problem itself (``integration:7:CCRRTT-1409E:priority``), so validating again
refreshes a blocker instead of adding one, and a fixed problem's key is simply not raised again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse

from activity.blockers import clear_blocker, raise_blocker
from activity.models import Blocker
from integrations import mapping_rules, transforms
from integrations.engine import routing
from integrations.engine.routing import RouteRow
from integrations.models import FieldMapping, Integration, Model, Repository, RepositoryCollection
from integrations.models.modeling import SELECT_TYPES, FieldType

# Blockers this validator owns; others (license, engine failures) are never touched here.
OWNED_KEY = re.compile(r"^(integration|repository|collection|union):\d+:CCRRTT-\d{4,5}[EWI]")
FILTER_OPERATORS = ("equals", "in", "contains", "is_empty", "before", "after")


@dataclass
class Problem:
    key: str
    code: str
    message: str
    integration_ids: list[int] = field(default_factory=list)
    related: list[dict] = field(default_factory=list)


def _link(label: str, url: str) -> dict:
    return {"label": label, "url": url}


def _repository_link(repository: Repository) -> dict:
    return _link(f"Repository {repository.label}", reverse("repository-edit", args=[repository.pk]))


def _collection_link(collection: RepositoryCollection) -> dict:
    return _link(f"Collection {collection.name}", reverse("collection-edit", args=[collection.pk]))


def _mapping_link(collection: RepositoryCollection) -> dict:
    return _link(f"Mapping of {collection.name}", reverse("collection-mapping", args=[collection.pk]))


def _integration_link(integration: Integration) -> dict:
    return _link(f"Integration {integration.name}", reverse("integration-edit", args=[integration.pk]))


class _Context:
    """Everything the rules read, loaded once with a fixed number of queries."""

    def __init__(self):
        self.repositories = list(Repository.objects.all())
        self.collections = {
            c.pk: c
            for c in RepositoryCollection.objects.select_related(
                "repository", "model", "union"
            ).prefetch_related("projects", "mappings")
        }
        self.models = {m.pk: m for m in Model.objects.prefetch_related("fields")}
        self.integrations = list(
            Integration.objects.select_related(
                "gateway_collection__model", "sql_collection"
            ).prefetch_related("routes", "more_sources")
        )
        self.users_of_collection: dict[int, list[int]] = defaultdict(list)
        for integration in self.integrations:
            more = {c.pk for c in integration.more_sources.all()}
            for cid in {integration.collection_a_id, integration.collection_b_id, *more} - {None}:
                self.users_of_collection[cid].append(integration.pk)

    def model_fields(self, model_id: int | None) -> dict:
        model = self.models.get(model_id)
        return {f.key: f for f in model.fields.all()} if model else {}

    def integrations_of_repository(self, repository_id: int) -> list[int]:
        ids: set[int] = set()
        for collection in self.collections.values():
            if collection.repository_id == repository_id:
                ids.update(self.users_of_collection[collection.pk])
        return sorted(ids)


def _capabilities(kind: str):
    from connectors import registry
    from connectors.errors import ConnectorError

    try:
        return registry.connector_class(kind).capabilities
    except ConnectorError:
        return None


# --- repositories ---------------------------------------------------------------------------


def _repository_problems(ctx: _Context) -> list[Problem]:
    problems = []
    for repository in ctx.repositories:
        affected = ctx.integrations_of_repository(repository.pk)
        if not repository.enabled:
            problems.append(
                Problem(
                    f"repository:{repository.pk}:CCRRTT-30022W",
                    "CCRRTT-30022W",
                    f"Repository “{repository.label}” is disabled: the integrations that use it do not "
                    "process anything until it is enabled again.",
                    affected,
                    [_repository_link(repository)],
                )
            )
        if repository.enabled and repository.last_test_code and affected:
            problems.append(
                Problem(
                    f"repository:{repository.pk}:{repository.last_test_code}:connection",
                    repository.last_test_code,
                    f"Repository “{repository.label}” cannot connect: {repository.last_test_message} "
                    "The integrations that use it wait until it connects again: Hub tests it again at each "
                    "change detection, or test it on the repository's page.",
                    affected,
                    [_repository_link(repository)],
                )
            )
        if repository.needs_new_credentials:
            problems.append(
                Problem(
                    f"repository:{repository.pk}:CCRRTT-61103E",
                    "CCRRTT-61103E",
                    f"Repository “{repository.label}” has no credentials (credentials are never imported "
                    "or exported): enter them on the repository's page.",
                    affected,
                    [_repository_link(repository)],
                )
            )
    return problems


# --- collections and mappings ---------------------------------------------------------------


def mapping_problems(mapping: FieldMapping, model_fields: dict, others=()) -> list[tuple[str, str]]:
    """(code, message) for each problem of one mapping line against the model's current fields
    (and, for fields mapped twice, the collection's lines before it: ``others``)."""
    problems = []
    missing = [key for key in mapping.model_fields if key not in model_fields]
    if missing:
        return [
            ("CCRRTT-17002E", f"maps to model field(s) {', '.join(missing)} that the model no longer has")
        ]
    changed = [
        key
        for key, old_type in (mapping.model_field_types or {}).items()
        if key in model_fields and model_fields[key].type != old_type
    ]
    if changed:
        problems.append(
            (
                "CCRRTT-17025E",
                f"model field(s) {', '.join(changed)} changed type since this mapping was made; "
                "choose its transform and values again",
            )
        )
    elif mapping.transform == "value_map":
        removed = []
        for key in mapping.model_fields:
            model_field = model_fields[key]
            if model_field.type not in SELECT_TYPES:
                continue
            known = set(model_field.option_ids)
            params = mapping.params or {}
            used = set((params.get("to_model") or {}).values()) | set(
                (params.get("to_repository") or {}).keys()
            )
            if params.get("to_model_default"):
                used.add(params["to_model_default"])
            removed += sorted(str(option) for option in used if str(option) not in known)
        if removed:
            problems.append(
                (
                    "CCRRTT-17025E",
                    f"the value map uses option(s) {', '.join(removed)} that the model field no longer has",
                )
            )
    special = _time_entry_or_test_step_problem(mapping, model_fields)
    if special:
        return problems + [special]
    if not changed and mapping.transform == transforms.EXTENSION.name:
        from extensions.transformations import line_problems

        problems += line_problems(mapping, model_fields)
    elif not changed:
        repo_types = [mapping.repository_field_types.get(f, "") for f in mapping.repository_fields]
        model_types = [model_fields[k].type for k in mapping.model_fields]
        if not transforms.fits(mapping.transform, repo_types, model_types):
            problems.append(
                (
                    "CCRRTT-17002E",
                    f"the transform “{mapping.transform}” does not fit {'/'.join(repo_types) or 'no field'} "
                    f"→ {'/'.join(model_types)}",
                )
            )
        line = mapping_rules.stored_line(mapping, model_fields)
        others = [mapping_rules.stored_line(m, model_fields) for m in others]
        problems += [(r.code, r.message) for r in mapping_rules.refusals(line, model_fields, others)]
    return problems


def _time_entry_or_test_step_problem(mapping: FieldMapping, model_fields: dict) -> tuple[str, str] | None:
    """Time entries and test steps map only to their own kind (CCRRTT-17029E / 17028E), and a test
    step mapping names parts both the repository's test step schema and the test step model have."""
    from connectors.test_steps import mapping_problem

    repo_types = [mapping.repository_field_types.get(f, "") for f in mapping.repository_fields]
    model_types = [model_fields[k].type for k in mapping.model_fields if k in model_fields]
    for kind, code, name, plural in (
        ("time_entries", "CCRRTT-17029E", "time entry", "time entries"),
        ("test_steps", "CCRRTT-17028E", "test step", "test steps"),
    ):
        if kind not in repo_types and kind not in model_types:
            continue
        if repo_types != [kind] or model_types != [kind]:
            return (
                code,
                f"the {name} mapping joins {'/'.join(repo_types) or 'no field'} → {'/'.join(model_types)}: "
                f"{plural} map only to a model field of their own type, one to one",
            )
        connector = _connector_class(mapping.collection.repository.kind)
        if (
            kind == "time_entries"
            and connector is not None
            and not connector.time_entry_capabilities.supported
        ):
            return code, f"the repository ({connector.label}) keeps no time entries"
        if kind == "test_steps" and mapping.transform == "test_steps":
            problem = mapping_problem(
                (mapping.params or {}).get("parts"), connector.test_step_parts if connector else ()
            )
            if problem:
                return code, f"the test step mapping {problem}"
    return None


def _connector_class(kind: str):
    from connectors import registry
    from connectors.errors import ConnectorError

    try:
        return registry.connector_class(kind)
    except ConnectorError:
        return None


def _query_problem(collection: RepositoryCollection) -> str:
    """Why the collection's repository query cannot be used, or "" (also when it has none)."""
    from connectors import registry
    from connectors.errors import ConnectorError

    if not collection.query.strip():
        return ""
    try:
        capabilities = registry.connector_class(collection.repository.kind).capabilities
    except ConnectorError:
        return ""  # an unknown kind is a problem of the repository's own
    if capabilities.repository_queries:
        return ""
    return (
        f"{collection.repository.kind} repositories cannot run a repository query, so change detection "
        "would read every artifact of the chosen projects instead of the query's; clear the query"
    )


def _project_action(collection: RepositoryCollection) -> str:
    """The user action of CCRRTT-1105E / 1109E: the catalog's "repository collection or artifact
    union" is the union when the collection draws its projects from one (saving the union would put
    a project removed from the collection alone back)."""
    if collection.union_id is None:
        return "Correct it in the repository and refresh the projects, or remove the project."
    return (
        f"The project comes from the artifact union “{collection.union.name}”: correct it in the "
        "repository and refresh the collection's projects, or remove the project from the artifact "
        "union (Collections → Artifact unions)."
    )


def _union_links(collection: RepositoryCollection) -> list[dict]:
    if collection.union_id is None:
        return []
    url = reverse("union-edit", args=[collection.union_id])
    return [_link(f"Artifact union {collection.union.name}", url)]


def _collection_problems(ctx: _Context) -> list[Problem]:
    problems = []
    for collection in ctx.collections.values():
        affected = ctx.users_of_collection[collection.pk]
        query_problem = _query_problem(collection)
        if query_problem:
            problems.append(
                Problem(
                    f"collection:{collection.pk}:CCRRTT-1413E",
                    "CCRRTT-1413E",
                    f"Collection “{collection.name}” has an invalid repository query: {query_problem}.",
                    affected,
                    [_collection_link(collection)],
                )
            )
        for project in collection.projects.all():
            if not project.invalid and project.problem_code:
                problems.append(
                    Problem(
                        f"collection:{collection.pk}:{project.problem_code}:{project.project_id}",
                        project.problem_code,
                        f"Project “{project.name}” of collection “{collection.name}”: {project.problem}. "
                        + _project_action(collection),
                        affected,
                        [_collection_link(collection), *_union_links(collection)],
                    )
                )
            if not project.invalid:
                continue
            if project.replacement_id:
                detail = (
                    f"is being replaced by “{project.replacement_name}”; the integrations that use it wait "
                    "until the project replacement has finished"
                )
            else:
                detail = (
                    "can no longer be found in the repository; "
                    "choose a replacement under Manage invalid projects"
                )
            problems.append(
                Problem(
                    f"collection:{collection.pk}:CCRRTT-1110E:{project.project_id}",
                    "CCRRTT-1110E",
                    f"Project “{project.name}” of collection “{collection.name}” {detail}.",
                    affected,
                    [_collection_link(collection)],
                )
            )
        model_fields = ctx.model_fields(collection.model_id)
        if collection.model_id is None:
            continue
        lines = list(collection.mappings.all())
        for index, mapping in enumerate(lines):
            found = mapping_problems(mapping, model_fields, lines[:index])
            for number, (code, message) in enumerate(found):
                problems.append(
                    Problem(
                        f"collection:{collection.pk}:{code}:{mapping.pk}" + (f":{number}" if number else ""),
                        code,
                        f"Mapping “{mapping}” of collection “{collection.name}”: {message}.",
                        affected,
                        [_mapping_link(collection)],
                    )
                )
    return problems


# --- integrations ---------------------------------------------------------------------------


def _is_date(value) -> bool:
    import datetime as dt

    try:
        dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def condition_problem(condition, model_fields: dict) -> str:
    """What is wrong with one condition (of a filter, a field flow or a route) against the model's
    fields, as the end of a sentence, or "" when nothing is."""
    if not isinstance(condition, dict):
        return "is not a condition (an object with field, operator and value)"
    key = condition.get("field", "")
    if key not in model_fields:
        return f"refers to the field “{key}”, which the model does not have"
    operator = condition.get("operator")
    if operator not in FILTER_OPERATORS:
        return f"uses the unknown operator “{operator}” (one of {', '.join(FILTER_OPERATORS)})"
    value = condition.get("value")
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, (dict, list)) for v in values):
        return f"compares “{key}” with a value that is neither text, a number nor a list of them"
    if operator == "in" and not [v for v in values if v not in (None, "")]:
        return f"asks whether “{key}” is in a list of values but gives none"
    if operator in ("before", "after") and not _is_date(value):
        return f"compares “{key}” with “{value}”, which is not a date (YYYY-MM-DD) or date and time"
    model_field = model_fields[key]
    if model_field.type in SELECT_TYPES and operator in ("equals", "in"):
        unknown = [str(v) for v in values if str(v) not in model_field.option_ids]
        if unknown:
            return f"refers to option(s) {', '.join(unknown)} that the field “{key}” no longer has"
    return ""


def flow_of(value) -> tuple[str, dict | None]:
    if isinstance(value, dict):
        return value.get("flow", Integration.Flow.NONE), value.get("condition")
    return value, None


def _route_condition_problems(routes, model_fields: dict, me: dict) -> list[tuple[str, str, str, list[dict]]]:
    """CCRRTT-1412E for each conditional route whose condition is invalid, and for each route that
    can never be chosen because an unconditional route before it takes all its artifacts."""
    found = []
    for route in routes:
        problem = condition_problem(route.condition, model_fields) if route.condition else ""
        if problem:
            found.append(
                (
                    f"route{route.pk}",
                    "CCRRTT-1412E",
                    f"has a conditional route ({route}) whose condition {problem}",
                    [me],
                )
            )
    for index, shadow in routing.unreachable(RouteRow.of(route) for route in routes):
        found.append(
            (
                f"route{routes[index].pk}:unreachable",
                "CCRRTT-1412E",
                f"has a route ({routes[index]}) that is never chosen: the route {routes[shadow]} before "
                "it has no condition and takes every artifact first; move it below, or give that route "
                "a condition",
                [me],
            )
        )
    return found


def collection_pair_problems(a: RepositoryCollection | None, b: RepositoryCollection | None):
    """(form field, code, the end of a sentence about the integration) for collections A and B
    that cannot synchronize: one not mapped to a model (CCRRTT-1404E), or the two mapped to
    different models (CCRRTT-1403E). The integration form refuses them; the validator raises them
    for an integration whose collections changed since."""
    found = []
    for side, collection in (("A", a), ("B", b)):
        if collection is not None and (collection.model_id is None or not collection.mappings.all()):
            found.append(
                (
                    f"collection_{side.lower()}",
                    "CCRRTT-1404E",
                    f"uses collection {side} “{collection.name}”, which is not mapped to a model",
                )
            )
    if a and b and a.model_id and b.model_id and a.model_id != b.model_id:
        found.append(
            (
                "collection_b",
                "CCRRTT-1403E",
                f"uses collections mapped to different models (“{a.model}” and “{b.model}”); "
                "both must be mapped to the same model",
            )
        )
    return found


def collection_moves(collection: RepositoryCollection, key: str) -> tuple[bool, bool]:
    """Whether the collection's mapping reads the model field from, and writes it to, the repository."""
    lines = [m for m in collection.mappings.all() if key in m.model_fields]
    return any(m.reads for m in lines), any(m.writes for m in lines)


# (A's value reaches B, B's value reaches A) → the field's flow
FLOW_OF_MOVES = {
    (True, True): Integration.Flow.BOTH,
    (True, False): Integration.Flow.A_TO_B,
    (False, True): Integration.Flow.B_TO_A,
    (False, False): Integration.Flow.NONE,
}


def mapped_flows(a: RepositoryCollection | None, b: RepositoryCollection | None) -> dict[str, str]:
    """The field flow the two collections' mappings allow, per model field: A → B where A's
    mapping reads the field and B's writes it, B → A the other way, both ways when both hold,
    None otherwise. A new integration starts with this flow."""
    if a is None or b is None or a.model_id is None:
        return {}
    flows = {}
    for model_field in a.model.fields.all():
        key = model_field.key
        a_reads, a_writes = collection_moves(a, key)
        b_reads, b_writes = collection_moves(b, key)
        flows[key] = FLOW_OF_MOVES[(a_reads and b_writes, b_reads and a_writes)]
    return flows


def nothing_flows(integration: Integration) -> bool:
    """Whether a running integration would move no field at all (every flow None, or none set)."""
    flows = [flow_of(value)[0] for value in (integration.field_flows or {}).values()]
    return not any(flow and flow != Integration.Flow.NONE for flow in flows)


RELATIONSHIP_TYPES = (FieldType.RELATIONSHIP, FieldType.RELATIONSHIPS)
TOWARD = {
    "B": (Integration.Flow.A_TO_B, Integration.Flow.BOTH),
    "A": (Integration.Flow.B_TO_A, Integration.Flow.BOTH),
}


def required_relationship_problems(integration: Integration, a, b, model_fields: dict, links: dict) -> list:
    """CCRRTT-50008E, the integration cannot start: a *required* Relationship field of the model is
    written to a side twins are created on, not as a constant, and this integration brings it no
    value from the other side (the field does not flow that way, or the other collection does not
    read it), so no twin could ever link to anything there (docs/containers.md)."""
    found = []
    required = [f.key for f in model_fields.values() if f.required and f.type in RELATIONSHIP_TYPES]
    for side, target, source in (("B", b, a), ("A", a, b)):
        if not required or target is None or source is None:
            continue
        if integration.creation_flow not in TOWARD[side]:
            continue
        for key in required:
            lines = [m for m in target.mappings.all() if key in m.model_fields and m.writes]
            if not lines or any(m.transform == "constant" for m in lines):
                continue
            flow = flow_of((integration.field_flows or {}).get(key, Integration.Flow.NONE))[0]
            if flow in TOWARD[side] and collection_moves(source, key)[0]:
                continue
            found.append(
                (
                    f"required:{side}:{key}",
                    "CCRRTT-50008E",
                    f"cannot be started because the required relationship “{key}” of collection {side} "
                    f"“{target.name}” cannot be resolved: nothing of “{source.name}” that this integration "
                    f"synchronizes flows into it. Create an integration that synchronizes the artifacts "
                    f"“{key}” refers to and let the field flow toward {side}, or give it a constant mapping",
                    links[side],
                )
            )
    return found


def _work_item_sync_problems(
    integration: Integration, ctx: _Context
) -> list[tuple[str, str, str, list[dict]]]:
    """(detail, code, message, links) for each problem of a Work Item Synchronization."""
    me = _integration_link(integration)
    found: list[tuple[str, str, str, list[dict]]] = []
    a = ctx.collections.get(integration.collection_a_id)
    b = ctx.collections.get(integration.collection_b_id)
    if a is None:
        found.append(("a", "CCRRTT-1405E", "has no collection A to synchronize from", [me]))
    if b is None:
        found.append(("b", "CCRRTT-1406E", "has no collection B to synchronize with", [me]))
    links = {"A": [me, _mapping_link(a)] if a else [me], "B": [me, _mapping_link(b)] if b else [me]}
    for field_name, code, message in collection_pair_problems(a, b):
        side = field_name[-1].upper()
        if code == "CCRRTT-1403E":
            found.append(("model", code, message, [me, _collection_link(a), _collection_link(b)]))
        else:
            found.append((side, code, message, links[side]))
    routes = list(integration.routes.all())
    if not routes:
        found.append(
            ("routes", "CCRRTT-1401E", "has no route: pair at least one project of A with one of B", [me])
        )
    for route in routes:
        if not route.project_a or not route.project_b:
            found.append(
                (
                    f"route{route.pk}",
                    "CCRRTT-1411E",
                    f"has a route ({route}) without a project on each side",
                    [me],
                )
            )
            continue
        for side, collection, project in (("A", a, route.project_a), ("B", b, route.project_b)):
            if collection is not None and project not in collection.project_ids():
                found.append(
                    (
                        f"route{route.pk}{side}",
                        "CCRRTT-1415E",
                        f"routes project “{project}”, which collection {side} “{collection.name}” "
                        "no longer has",
                        [me, _collection_link(collection)],
                    )
                )
    model_fields = ctx.model_fields(a.model_id if a else None)
    if not model_fields:
        return found
    from integrations.time_tracking import test_step_flow_problems, test_step_license_problems

    found += test_step_flow_problems(integration, model_fields)
    found += test_step_license_problems(integration, model_fields, integration.field_flows or {})
    found += _route_condition_problems(routes, model_fields, me)
    found += required_relationship_problems(integration, a, b, model_fields, links)
    for condition in (integration.filters or {}).get("conditions", []):
        problem = condition_problem(condition, model_fields)
        if problem:
            found.append(
                (f"filter:{condition.get('field', '')}", "CCRRTT-1409E", f"has a filter that {problem}", [me])
            )
    two_way = []
    for key, value in (integration.field_flows or {}).items():
        flow, condition = flow_of(value)
        if key not in model_fields:
            found.append(
                (key, "CCRRTT-17005E", f"sets a field flow for “{key}”, which the model does not have", [me])
            )
            continue
        if condition:
            problem = condition_problem(condition, model_fields)
            if problem:
                found.append(
                    (
                        f"condition:{key}",
                        "CCRRTT-17027E",
                        f"has a condition on the flow of “{key}” that {problem}",
                        [me],
                    )
                )
        if flow == Integration.Flow.BOTH:
            two_way.append(key)
        if a is None or b is None or flow == Integration.Flow.NONE:
            continue
        needs = []
        if flow in (Integration.Flow.A_TO_B, Integration.Flow.BOTH):
            needs += [("A", a, "read from", 0), ("B", b, "written to", 1)]
        if flow in (Integration.Flow.B_TO_A, Integration.Flow.BOTH):
            needs += [("B", b, "read from", 0), ("A", a, "written to", 1)]
        for side, collection, verb, index in needs:
            if not collection_moves(collection, key)[index]:
                found.append(
                    (
                        f"{key}:{side}:{index}",
                        "CCRRTT-17005E",
                        f"lets “{key}” flow {Integration.Flow(flow).label}, but the mapping of "
                        f"collection {side} “{collection.name}” does not let it be {verb} the repository",
                        [me, _mapping_link(collection)],
                    )
                )
    if two_way and not integration.conflict_strategy:
        found.append(
            (
                "conflict",
                "CCRRTT-17007E",
                f"lets {', '.join(sorted(two_way))} flow both ways but has no conflict resolution strategy",
                [me],
            )
        )
    for direction, target in (("a_to_b", b), ("b_to_a", a)):
        capabilities = _capabilities(target.repository.kind) if target else None
        if capabilities is None:
            continue
        comments = (integration.comment_flow or {}).get(direction) or {}
        if comments.get("enabled") and not capabilities.comments:
            found.append(
                (
                    f"comments:{direction}",
                    "CCRRTT-17026E",
                    f"sends comments to “{target.name}”, whose repository has none",
                    [me],
                )
            )
        elif (
            comments.get("enabled")
            and comments.get("internal") == "keep"
            and not capabilities.private_comments
        ):
            found.append(
                (
                    f"comments:{direction}",
                    "CCRRTT-17026E",
                    f"keeps private comments private in “{target.name}”, "
                    "whose repository has no private comments",
                    [me],
                )
            )
        attachments = (integration.attachment_flow or {}).get(direction) or {}
        if attachments.get("enabled") and not capabilities.attachments:
            found.append(
                (
                    f"attachments:{direction}",
                    "CCRRTT-17026E",
                    f"sends attachments to “{target.name}”, whose repository takes none",
                    [me],
                )
            )
    return found


def _integration_problems(ctx: _Context) -> list[Problem]:
    problems = []
    from integrations.gateway.checks import integration_problems as gateway_problems

    for integration in ctx.integrations:
        if integration.style == Integration.Style.GATEWAY:
            found = gateway_problems(integration, ctx.collections)
        elif integration.style == Integration.Style.WORK_ITEM_SYNC:
            found = _work_item_sync_problems(integration, ctx)
        elif integration.style == Integration.Style.CONTAINER_WORK_ITEM:
            from integrations import container_checks

            me = [_integration_link(integration)]
            found = _work_item_sync_problems(integration, ctx) + [
                (detail, code, message, me)
                for detail, code, message in container_checks.problems(integration, ctx.collections)
            ]
        elif integration.style == Integration.Style.TIME_TRACKING:
            from integrations.time_tracking import problems as time_tracking_problems

            found = _work_item_sync_problems(integration, ctx) + time_tracking_problems(integration, ctx)
        elif integration.style == Integration.Style.ENTERPRISE_DATA_STREAM:
            from integrations import eds

            me = [_integration_link(integration)]
            found = [(detail, code, message, me) for detail, code, message in eds.problems(integration)]
        else:
            continue
        for detail, code, message, links in found:
            problems.append(
                Problem(
                    f"integration:{integration.pk}:{code}:{detail}",
                    code,
                    f"Integration “{integration.name}” {message}.",
                    [integration.pk],
                    links,
                )
            )
    return problems


def _union_problems(ctx: _Context) -> list[Problem]:
    """CCRRTT-1114E for each invalid artifact union, CCRRTT-15013E for each collection that maps
    fields of a union the license does not enable."""
    from integrations.models import ArtifactUnion
    from integrations.unions import license_refusal, union_problems

    problems = []
    users: dict[int, list[RepositoryCollection]] = defaultdict(list)
    for collection in ctx.collections.values():
        if collection.union_id is not None:
            users[collection.union_id].append(collection)
            refused = license_refusal(collection)
            if refused is not None:
                problems.append(
                    Problem(
                        f"collection:{collection.pk}:CCRRTT-15013E",
                        "CCRRTT-15013E",
                        f"Collection “{collection.name}” maps fields of the artifact union "
                        f"“{collection.union}”, which cannot be used: {refused.message} Remove those "
                        "mappings or install a license "
                        "that includes artifact unions.",
                        ctx.users_of_collection[collection.pk],
                        [_mapping_link(collection)],
                    )
                )
    for union in ArtifactUnion.objects.select_related("repository"):
        found = union_problems(union, users[union.pk])
        if found:
            affected = sorted({i for c in users[union.pk] for i in ctx.users_of_collection[c.pk]})
            problems.append(
                Problem(
                    f"union:{union.pk}:CCRRTT-1114E",
                    "CCRRTT-1114E",
                    f"Artifact union “{union.name}” is invalid: {'; '.join(found)}.",
                    affected,
                    [_link(f"Artifact union {union.name}", reverse("union-edit", args=[union.pk]))],
                )
            )
    return problems


def problems() -> list[Problem]:
    ctx = _Context()
    return (
        _repository_problems(ctx)
        + _collection_problems(ctx)
        + _union_problems(ctx)
        + _integration_problems(ctx)
    )


def validate() -> list[Problem]:
    """Validate the whole configuration and make the blockers say exactly what is wrong now."""
    found = problems()
    with transaction.atomic():
        keys = set()
        for problem in found:
            keys.add(problem.key)
            raise_blocker(
                problem.key,
                problem.code,
                problem.message,
                impact=Blocker.Impact.AFFECTED,
                integration_ids=problem.integration_ids,
                related=problem.related,
            )
        for key in Blocker.objects.values_list("key", flat=True):
            if OWNED_KEY.match(key) and key not in keys:
                clear_blocker(key)
    return found


def problems_of_integration(integration_id: int) -> list[Blocker]:
    return [b for b in Blocker.objects.all() if integration_id in (b.integration_ids or [])]
