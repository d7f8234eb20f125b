"""Service functions over the configuration: what the screens, the API and the engine call.
Views stay thin; everything that changes more than one row or talks to a connector lives here."""

from __future__ import annotations

import logging
import secrets as stdlib_secrets
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone

from integrations import validation
from integrations.models import (
    CollectionProject,
    GatewayCollection,
    Integration,
    Repository,
    RepositoryCollection,
)
from integrations.secrets import fingerprint

logger = logging.getLogger("hub.engine")


class ConfigurationRefused(Exception):
    """A change the configuration rules refuse; ``code`` is a catalog code when one fits."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.message, self.code = message, code


class RunRefused(ConfigurationRefused):
    """Run while problems block the integration: ``blockers`` lists them, each with its code."""

    def __init__(self, integration: Integration, blockers: list):
        self.blockers = blockers
        listed = "; ".join(f"{b.code}: {b.message}" for b in blockers)
        super().__init__(f"“{integration.name}” cannot run while these problems block it: {listed}")


# --- integrations: the engine's handle ------------------------------------------------------


class State:
    RUNNING = "running"
    STOPPED = "stopped"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class IntegrationState:
    state: str
    reasons: tuple[str, ...] = ()  # "CCRRTT-…: message" of each blocker


def states(integrations) -> dict[int, IntegrationState]:
    """The state of each integration, reading the blockers once (for lists)."""
    from activity.models import Blocker

    blockers = list(Blocker.objects.order_by("-impact", "created"))  # "all" sorts before "affected"
    everyone = [b for b in blockers if b.impact == Blocker.Impact.ALL]
    result = {}
    for integration in integrations:
        if not integration.running:
            result[integration.pk] = IntegrationState(State.STOPPED)
            continue
        mine = everyone + [
            b for b in blockers if b.impact != Blocker.Impact.ALL and integration.pk in b.integration_ids
        ]
        if mine:
            result[integration.pk] = IntegrationState(
                State.BLOCKED, tuple(f"{b.code}: {b.message}" for b in mine)
            )
        else:
            result[integration.pk] = IntegrationState(State.RUNNING)
    return result


def state(integration: Integration) -> IntegrationState:
    """Stopped, running, or blocked with every reason (global blockers first). The engine processes
    an integration only while this says running."""
    return states([integration])[integration.pk]


def blocking(integration: Integration) -> list:
    """The blockers that keep the engine from processing the integration: those of the whole
    instance first, then its own (a failed change detection is shown, but stops nothing)."""
    from activity.blockers import DETECTION_PREFIX
    from activity.models import Blocker

    return [
        blocker
        for blocker in Blocker.objects.order_by("-impact", "created")  # "all" sorts before "affected"
        if blocker.impact == Blocker.Impact.ALL
        or (integration.pk in blocker.integration_ids and not blocker.key.startswith(DETECTION_PREFIX))
    ]


def start(integration: Integration) -> IntegrationState:
    """Mark the integration running; refused (RunRefused, with the list) while problems block it.
    A running integration that a problem blocks later stops processing until it is fixed."""
    if not integration.running:
        found = blocking(integration)
        if found:
            raise RunRefused(integration, found)
        integration.running = True
        integration.state_changed = timezone.now()
        integration.save(update_fields=["running", "state_changed", "updated"])
        # The first detection now, not at the beat's first tick one interval later (60 s by
        # default): Run → last pair is what the user waits for (issue #19).
        transaction.on_commit(lambda: detect_now(integration.pk))
    return state(integration)


def detect_now(integration_id: int) -> None:
    """Ask a worker for a detection now. A broker that cannot be reached changes nothing but the
    wait: the beat's schedule runs the detection anyway."""
    from kombu.exceptions import OperationalError

    from integrations.engine.tasks import detect

    try:
        detect.delay(integration_id)
    except OperationalError as error:
        logger.warning(
            "Integration %s started; its first detection waits for the schedule: %s", integration_id, error
        )


def stop(integration: Integration) -> IntegrationState:
    if integration.running:
        integration.running = False
        integration.state_changed = timezone.now()
        integration.save(update_fields=["running", "state_changed", "updated"])
    return state(integration)


# --- repositories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    ok: bool
    code: str
    message: str


def test_connection(repository: Repository, *, save: bool = True) -> TestResult:
    """Reach the tool with the repository's settings and say exactly what happened."""
    from connectors import registry
    from connectors.errors import ConnectorError

    try:
        # An administrator's explicit test reaches a disabled repository too: it is how they check
        # it before enabling it again.
        with registry.connect(replace(repository.settings(), enabled=True)) as connector:
            info = connector.test_connection()
        result = TestResult(True, "", f"Connected to {info.server} as {info.user}.")
    except ConnectorError as error:
        code = error.code
        result = TestResult(False, code, error.message)
    except ImportError as error:  # a connector whose library is not installed
        result = TestResult(False, "CCRRTT-61001E", f"The connector is missing a requirement: {error.name}.")
    if save and repository.pk:
        remember_test(repository, result)
    return result


def remember_test(repository: Repository, result: TestResult) -> None:
    """Record the outcome as the repository's state. A change between connected and failing
    re-validates: a failing repository is a blocker of the integrations that use it."""
    was = repository.last_test_code
    repository.last_test_code, repository.last_test_message = result.code, result.message
    repository.last_test_at = timezone.now()
    Repository.objects.filter(pk=repository.pk).update(
        last_test_code=result.code, last_test_message=result.message, last_test_at=repository.last_test_at
    )
    if was != result.code:
        validation.validate()


def check_connections(repositories, *, record: bool = False) -> None:
    """Test each enabled repository's connection and record the outcome when its state changes
    (always, with ``record``: its ``last_test_at`` then says when it was last tested, which change
    detection's ``integrations.engine.connections`` relies on): a repository that stops connecting
    becomes failing (a blocker of its integrations), one that connects again is cleared."""
    for repository in repositories:
        if not repository.enabled:
            continue
        result = test_connection(repository, save=False)
        if record or result.code != repository.last_test_code or repository.last_test_at is None:
            remember_test(repository, result)


def what_goes_with(integration: Integration) -> list[str]:
    """What deleting an integration removes, counted, in the deletion page's words."""
    from activity.services import ledger_of

    counted = [f"{rows.count()} {name}" for name, rows in ledger_of(integration.pk).items()]
    return [f"the integration “{integration.name}”, its routes, field flow and schedule", *counted]


def users_of_repository(repository: Repository) -> list[str]:
    """What stops the repository from being deleted, in words a person can act on."""
    return [f"collection “{c.name}”" for c in repository.collections.all()]


def users_of_collection(collection: RepositoryCollection) -> list[str]:
    integrations = Integration.objects.filter(collection_a=collection) | Integration.objects.filter(
        collection_b=collection
    )
    return [f"integration “{i.name}”" for i in integrations.distinct()]


def users_of_model(model) -> list[str]:
    return [f"collection “{c.name}”" for c in model.repository_collections.all()] + [
        f"gateway collection “{c.name}”" for c in model.gateway_collections.all()
    ]


# --- collections: projects ------------------------------------------------------------------


def live_projects(repository: Repository):
    from connectors import registry

    with registry.connect(repository.settings()) as connector:
        return connector.list_projects()


@transaction.atomic
def set_projects(collection: RepositoryCollection, chosen: list[dict]) -> None:
    """Replace the chosen projects ([{id, key, name, kind}]), keeping the record of existing ones.
    A project saved again with another kind than it was chosen as resolves its CCRRTT-1111E: the new
    kind is recorded and, as the catalog says, the routes of that project are removed from the
    integrations using the collection (they named a container that is now something else)."""
    ids = [p["id"] for p in chosen]
    collection.projects.exclude(project_id__in=ids).delete()
    existing = {p.project_id: p for p in collection.projects.all()}
    for p in chosen:
        project, kind = existing.get(p["id"]), p.get("kind", "")
        if project is not None and kind and project.kind and project.kind != kind:
            _remove_routes_of(collection, project.project_id)
        if project is not None and kind and project.kind != kind:
            project.kind = kind
            if project.problem_code == "CCRRTT-1111E":
                project.problem_code, project.problem = "", ""
            project.save(update_fields=["kind", "problem_code", "problem"])
    CollectionProject.objects.bulk_create(
        CollectionProject(
            collection=collection,
            project_id=p["id"],
            key=p.get("key", ""),
            name=p.get("name") or p["id"],
            kind=p.get("kind", ""),
        )
        for p in chosen
        if p["id"] not in existing
    )


def _remove_routes_of(collection: RepositoryCollection, project_id: str) -> None:
    from integrations.models import Route

    Route.objects.filter(integration__collection_a=collection, project_a=project_id).delete()
    Route.objects.filter(integration__collection_b=collection, project_b=project_id).delete()


def kind_changed(project: CollectionProject, found) -> tuple[str, str]:
    """CCRRTT-1111E when the repository now lists the project as another kind of high-level
    container than it was chosen as; ``("", "")`` otherwise."""
    if not project.kind or found.kind == project.kind:
        return "", ""
    return "CCRRTT-1111E", (
        f"it was chosen as a {project.kind} under Manage Projects, and the repository now lists it as a "
        f"{found.kind}. Write down the routing of the integrations that use this collection, then save "
        "the selection under Manage Projects again: that removes the routing of this project, which you "
        "then set up again"
    )


def refresh_projects(collection: RepositoryCollection) -> list[CollectionProject]:
    """Compare the chosen projects with the repository's live list; mark the missing ones invalid
    (and the found ones valid again, refreshing their names), and check each one found against the
    collection's configuration (``project_problem``). Returns the invalid ones."""
    from connectors import registry

    with registry.connect(collection.repository.settings()) as connector:
        live = {p.id: p for p in connector.list_projects()}
        invalid = []
        for project in collection.projects.all():
            found = live.get(project.project_id)
            if found is None:
                project.invalid, project.problem_code, project.problem = True, "", ""
                invalid.append(project)
            else:
                project.invalid, project.name, project.key = False, found.name, found.key
                project.kind = project.kind or found.kind  # chosen before Hub recorded kinds
                found_problem = kind_changed(project, found)
                if not found_problem[0]:
                    found_problem = project_problem(connector, collection, project.project_id)
                project.problem_code, project.problem = found_problem
            project.save(update_fields=["invalid", "name", "key", "kind", "problem_code", "problem"])
    validation.validate()
    return invalid


def project_problem(connector, collection: RepositoryCollection, project_id: str) -> tuple[str, str]:
    """``(code, text)`` of what no longer fits between a project the repository still lists and the
    collection, or ``("", "")``: CCRRTT-1105E when a chosen artifact type is gone (deleted or
    renamed) or Hub's user may no longer read the project's types; CCRRTT-1109E when a mapped field
    is gone from the project or changed type since it was mapped. A transient failure is raised."""
    from connectors.errors import ConnectorError, ProjectNotFound

    try:
        offered = {t.id for t in connector.artifact_types(project_id)}
    except ProjectNotFound:
        return "", ""  # vanished between the two calls: the next refresh marks it invalid
    except ConnectorError as error:
        if error.transient:
            raise
        return "CCRRTT-1105E", f"Hub's user can no longer read its artifact types ({error})"
    gone = [t for t in collection.artifact_types if t not in offered]
    if gone:
        return "CCRRTT-1105E", (
            f"the repository no longer offers the artifact type(s) {', '.join(map(str, gone))} in it "
            "(deleted or renamed?)"
        )
    fields: dict[str, str] = {}
    for artifact_type in collection.artifact_types:
        for field in connector.field_schema(project_id, artifact_type):
            fields.setdefault(field.id, str(field.type))
    outdated = []
    for mapping in collection.mappings.all():
        # what a client stored through the API need not be well formed: read it defensively
        types = mapping.repository_field_types if isinstance(mapping.repository_field_types, dict) else {}
        for field_id in mapping.repository_fields or ():
            if not isinstance(field_id, str) or field_id not in fields:
                outdated.append(f"the mapped field {field_id} is gone")
            elif (mapped_as := str(types.get(field_id) or "")) and fields[field_id] != mapped_as:
                outdated.append(f"the mapped field {field_id} is now {fields[field_id]} (it was {mapped_as})")
    if outdated:
        return "CCRRTT-1109E", "its configuration is outdated: " + "; ".join(outdated)
    return "", ""


def replace_project(project: CollectionProject, replacement_id: str, replacement_name: str) -> None:
    """Record the project chosen in place of an invalid one; the data migration is a background job."""
    if not project.invalid:
        raise ConfigurationRefused(f"Project “{project.name}” is valid; only invalid projects are replaced.")
    project.replacement_id, project.replacement_name = replacement_id, replacement_name
    project.replaced_at = timezone.now()
    project.save(update_fields=["replacement_id", "replacement_name", "replaced_at"])


def field_schema(collection: RepositoryCollection):
    """The live repository fields of the collection's first project and artifact type(s), merged."""
    from connectors import registry

    fields = {}
    projects = collection.project_ids()
    with registry.connect(collection.repository.settings()) as connector:
        for project in projects[:1]:
            for artifact_type in collection.artifact_types:
                for field in connector.field_schema(project, artifact_type):
                    fields.setdefault(field.id, field)
    return list(fields.values())


# --- gateway collections --------------------------------------------------------------------


def new_gateway_token(collection: GatewayCollection) -> str:
    """A new token for the collection, returned once: only its sealed form and digest are kept."""
    token = stdlib_secrets.token_urlsafe(32)
    collection.token = token
    collection.token_hash = fingerprint(token)
    return token
