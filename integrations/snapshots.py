"""Configuration elements as plain JSON documents that refer to each other by name, and back.

History keeps these as before/after values; export writes them into the zip; import applies them
to another instance, matching elements by name. Secrets are never part of a snapshot: an
element created by an import that needs credentials is flagged for new ones.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db import transaction

from integrations.models import (
    ArtifactUnion,
    CollectionProject,
    FieldMapping,
    GatewayCollection,
    Integration,
    Model,
    ModelField,
    Repository,
    RepositoryCollection,
    Route,
    SqlCollection,
)
from integrations.models.integrations import repeated_route


class ElementType(StrEnum):
    REPOSITORY = "repository"
    MODEL = "model"
    COLLECTION = "collection"
    MAPPING = "mapping"
    GATEWAY_COLLECTION = "gateway collection"
    SQL_COLLECTION = "sql collection"
    INTEGRATION = "integration"
    ARTIFACT_UNION = "artifact union"
    # Owned by extensions/ (extensions.snapshots): extensions, stores, per-collection settings.
    EXTENSION = "extension"
    KEY_VALUE_STORE = "key-value store"
    COLLECTION_EXTENSIONS = "collection extensions"


EXTENSION_TYPES = ("extension", "key-value store", "collection extensions")


class MissingReference(Exception):
    """A snapshot names an element this instance does not have (CCRRTT-17031E on import)."""


class Refused(Exception):
    """A snapshot the configuration rules refuse, as the screens and the API would; ``code`` is the
    catalog code the refusal carries."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


REPOSITORY_FIELDS = (
    "label",
    "kind",
    "url",
    "auth_method",
    "username",
    "use_proxy",
    "proxy_url",
    "proxy_username",
    "allow_insecure",
    "timeout",
    "events_per_minute",
    "extra",
    "enabled",
    "event_hints",  # its secret is Hub's own: never exported (a new one is made after an import)
)
MODEL_FIELD_FIELDS = ("key", "label", "type", "required", "options")
MAPPING_FIELDS = (
    "repository_fields",
    "repository_field_types",
    "model_fields",
    "model_field_types",
    "direction",
    "transform",
    "params",
)
INTEGRATION_FIELDS = (
    "name",
    "style",
    "creation_flow",
    "filters",
    "field_flows",
    "conflict_strategy",
    "unmatched_routing",
    "comment_flow",
    "attachment_flow",
    "detection_interval",
    "detection_cron",
    "full_scan_cron",
)
PROJECT_FIELDS = ("project_id", "key", "name", "kind", "invalid", "replacement_id", "replacement_name")


# A route's place in the list is its position: the order routes leaving one project are tried in.
ROUTE_FIELDS = ("project_a", "project_b", "direction", "condition")


def _pick(obj, names) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def element_type_of(obj) -> ElementType:
    from extensions.models import Extension, KeyValueStore

    return {
        Extension: ElementType.EXTENSION,
        KeyValueStore: ElementType.KEY_VALUE_STORE,
        Repository: ElementType.REPOSITORY,
        Model: ElementType.MODEL,
        RepositoryCollection: ElementType.COLLECTION,
        GatewayCollection: ElementType.GATEWAY_COLLECTION,
        SqlCollection: ElementType.SQL_COLLECTION,
        Integration: ElementType.INTEGRATION,
        ArtifactUnion: ElementType.ARTIFACT_UNION,
    }[type(obj)]


def name_of(obj) -> str:
    return obj.label if isinstance(obj, Repository) else obj.name


def snapshot(element_type: str, obj) -> dict[str, Any]:
    """The element as a JSON document by names, without secrets. For ``mapping``, ``obj`` is the
    collection whose mapping it is."""
    if element_type in EXTENSION_TYPES:
        from extensions import snapshots as extension_snapshots

        return extension_snapshots.snapshot(element_type, obj)
    if element_type == ElementType.REPOSITORY:
        return _pick(obj, REPOSITORY_FIELDS)
    if element_type == ElementType.MODEL:
        return {
            "name": obj.name,
            "description": obj.description,
            "fields": [_pick(f, MODEL_FIELD_FIELDS) for f in obj.fields.all()],
        }
    if element_type == ElementType.COLLECTION:
        return {
            "name": obj.name,
            "repository": obj.repository.label,
            "model": obj.model.name if obj.model_id else None,
            "artifact_types": obj.artifact_types,
            "query": obj.query,
            "projects": [_pick(p, PROJECT_FIELDS) for p in obj.projects.all()],
        }
    if element_type == ElementType.MAPPING:
        return {"collection": obj.name, "lines": [_pick(m, MAPPING_FIELDS) for m in obj.mappings.all()]}
    if element_type == ElementType.GATEWAY_COLLECTION:
        return {"name": obj.name, "model": obj.model.name}
    if element_type == ElementType.SQL_COLLECTION:
        return {
            "name": obj.name,
            "database_url": obj.database_url,
            "table": obj.table,
            "model": obj.model.name if obj.model_id else None,
        }
    if element_type == ElementType.ARTIFACT_UNION:
        return {
            "name": obj.name,
            "repository": obj.repository.label,
            "projects": obj.projects,
            "artifact_types": obj.artifact_types,
            "description": obj.description,
            # the collections that draw from it, by name (the screen sets them with the union)
            "collections": sorted(obj.collections.values_list("name", flat=True)),
        }
    if element_type == ElementType.INTEGRATION:
        return {
            **_pick(obj, INTEGRATION_FIELDS),
            "collection_a": obj.collection_a.name if obj.collection_a_id else None,
            "collection_b": obj.collection_b.name if obj.collection_b_id else None,
            "routes": [_pick(r, ROUTE_FIELDS) for r in obj.routes.all()],
            **_container_mirroring(obj),
            **_stream_settings(obj),
        }
    raise ValueError(f"unknown element type {element_type!r}")


def _by_name(model, name: str | None, what: str, field: str = "name"):
    if name is None:
        return None
    try:
        return model.objects.get(**{field: name})
    except model.DoesNotExist:
        raise MissingReference(f"{what} “{name}” does not exist here") from None


def find(element_type: str, name: str):
    """The element of this type with this name, or None. For ``mapping``: the collection."""
    if element_type in EXTENSION_TYPES:
        from extensions import snapshots as extension_snapshots

        return extension_snapshots.find(element_type, name)
    model, field = {
        ElementType.REPOSITORY: (Repository, "label"),
        ElementType.MODEL: (Model, "name"),
        ElementType.COLLECTION: (RepositoryCollection, "name"),
        ElementType.MAPPING: (RepositoryCollection, "name"),
        ElementType.GATEWAY_COLLECTION: (GatewayCollection, "name"),
        ElementType.SQL_COLLECTION: (SqlCollection, "name"),
        ElementType.INTEGRATION: (Integration, "name"),
        ElementType.ARTIFACT_UNION: (ArtifactUnion, "name"),
    }[ElementType(element_type)]
    return model.objects.filter(**{field: name}).first()


def _cleaned(obj, exclude: tuple[str, ...] = ()):
    """Run the model's own validators — the ones the screens and the API run — then save."""
    obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    obj.save()
    return obj


def _document(data, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not an object")
    return data


def _rows(data: dict, name: str) -> list[dict[str, Any]]:
    rows = data.get(name, [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f"“{name}” is not a list of objects")
    return rows


@transaction.atomic
def apply(element_type: str, data: dict[str, Any], existing=None):
    """Create (``existing`` None) or update an element from a snapshot; returns it. Every object
    goes through the model's ``full_clean`` (Django's ValidationError when refused).
    Raises MissingReference when the snapshot names an element this instance lacks."""
    element_type = ElementType(element_type)
    data = _document(data, "the snapshot")
    if element_type in EXTENSION_TYPES:
        from extensions import snapshots as extension_snapshots

        try:
            return extension_snapshots.apply(element_type, data, existing)
        except extension_snapshots.Missing as error:
            raise MissingReference(str(error)) from None
    if element_type == ElementType.REPOSITORY:
        obj = existing or Repository(needs_new_credentials=True)
        for name in REPOSITORY_FIELDS:
            setattr(obj, name, data.get(name, getattr(obj, name)))
        return _cleaned(obj)
    if element_type == ElementType.MODEL:
        obj = existing or Model()
        obj.name, obj.description = data["name"], data.get("description", "")
        _cleaned(obj)
        rows = _rows(data, "fields")
        current = {field.key: field for field in obj.fields.all()}
        keep = []
        for position, values in enumerate(rows):
            field = current.get(values.get("key")) or ModelField(model=obj)
            for name in MODEL_FIELD_FIELDS:
                if name in values:
                    setattr(field, name, values[name])
            field.position = position
            keep.append(_cleaned(field).pk)
        keys = [values.get("key") for values in rows]
        if len(keys) != len(set(keys)):
            raise ValueError("two fields of the model have the same id")
        obj.fields.exclude(pk__in=keep).delete()
        return obj
    if element_type == ElementType.COLLECTION:
        obj = existing or RepositoryCollection()
        obj.name = data["name"]
        obj.repository = _by_name(Repository, data["repository"], "Repository", "label")
        obj.model = _by_name(Model, data.get("model"), "Model")
        obj.artifact_types = data.get("artifact_types", [])
        obj.query = data.get("query", "")
        _cleaned(obj)
        obj.projects.all().delete()
        for row in _rows(data, "projects"):
            _cleaned(CollectionProject(collection=obj, **{k: row[k] for k in PROJECT_FIELDS if k in row}))
        return obj
    if element_type == ElementType.MAPPING:
        obj = existing or _by_name(RepositoryCollection, data["collection"], "Collection")
        _check_mapping(obj, data.get("lines", []))
        obj.mappings.all().delete()
        for line in _rows(data, "lines"):
            _cleaned(FieldMapping(collection=obj, **{k: line[k] for k in MAPPING_FIELDS if k in line}))
        return obj
    if element_type == ElementType.GATEWAY_COLLECTION:
        obj = existing or GatewayCollection()
        obj.name = data["name"]
        obj.model = _by_name(Model, data["model"], "Model")
        return _cleaned(obj)
    if element_type == ElementType.SQL_COLLECTION:
        obj = existing or SqlCollection()
        obj.name, obj.database_url, obj.table = data["name"], data["database_url"], data["table"]
        if "model" in data:  # snapshots from before the model was part of it: as is
            obj.model = _by_name(Model, data["model"], "Model")
        return _cleaned(obj)
    if element_type == ElementType.ARTIFACT_UNION:
        obj = existing or ArtifactUnion()
        obj.name, obj.description = data["name"], data.get("description", "")
        obj.repository = _by_name(Repository, data["repository"], "Repository", "label")
        obj.projects, obj.artifact_types = data.get("projects", []), data.get("artifact_types", [])
        _cleaned(obj)
        if "collections" in data:  # snapshots from before the union named its collections: as is
            _draw_from(obj, data["collections"])
        return obj
    obj = existing or Integration()
    for name in INTEGRATION_FIELDS:
        if name in data:
            setattr(obj, name, data[name])
    obj.collection_a = _by_name(RepositoryCollection, data.get("collection_a"), "Collection")
    obj.collection_b = _by_name(RepositoryCollection, data.get("collection_b"), "Collection")
    more = _apply_stream_settings(obj, data)
    _cleaned(obj)
    if more is not None:
        obj.more_sources.set(more)
    obj.routes.all().delete()
    for route in _routes(obj, data.get("routes", [])):
        _cleaned(route)
    if "container_mirroring" in data:
        _apply_container_mirroring(obj, data["container_mirroring"])
    return obj


STREAM_STYLES = (Integration.Style.GATEWAY, Integration.Style.ENTERPRISE_DATA_STREAM)


def _stream_settings(integration: Integration) -> dict[str, Any]:
    """A Gateway or Enterprise Data Stream integration's own collections and keys, by name."""
    if integration.style not in STREAM_STYLES:
        return {}
    return {
        "gateway_collection": integration.gateway_collection.name
        if integration.gateway_collection_id
        else None,
        "sql_collection": integration.sql_collection.name if integration.sql_collection_id else None,
        "more_sources": sorted(c.name for c in integration.more_sources.all()),
        "key_identifier": integration.key_identifier,
        "twinless_update": integration.twinless_update,
    }


def _apply_stream_settings(integration: Integration, data: dict) -> list | None:
    """Set what ``_stream_settings`` names (keys a snapshot lacks stay as they are); returns the more
    sources to set once the integration is saved (None: not in the snapshot)."""
    if "gateway_collection" in data:
        integration.gateway_collection = _by_name(
            GatewayCollection, data["gateway_collection"], "Gateway collection"
        )
    if "sql_collection" in data:
        integration.sql_collection = _by_name(SqlCollection, data["sql_collection"], "SQL collection")
    for name in ("key_identifier", "twinless_update"):
        if name in data:
            setattr(integration, name, data[name])
    if "more_sources" not in data:
        return None
    names = data["more_sources"]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError("“more_sources” is not a list of collection names")
    return [_by_name(RepositoryCollection, name, "Collection") for name in names]


def _draw_from(union: ArtifactUnion, names) -> None:
    """The collections named draw from the union (and get its projects and types), no other does."""
    from integrations.unions import apply_union

    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError("“collections” is not a list of collection names")
    chosen = [_by_name(RepositoryCollection, name, "Collection") for name in names]
    RepositoryCollection.objects.filter(union=union).exclude(pk__in=[c.pk for c in chosen]).update(union=None)
    RepositoryCollection.objects.filter(pk__in=[c.pk for c in chosen]).update(union=union)
    apply_union(union)


def _container_mirroring(integration: Integration) -> dict[str, Any]:
    """The container mirroring of a Container + Work Item integration; nothing for the others, so
    their snapshots (and the history of their changes) stay as they were."""
    from integrations import container_mirroring

    settings = container_mirroring.snapshot(integration)
    if settings is None and integration.style != Integration.Style.CONTAINER_WORK_ITEM:
        return {}
    return {"container_mirroring": settings}


def _apply_container_mirroring(integration: Integration, settings) -> None:
    """The screen's and the API's rules (``integrations.container_mirroring``), same codes."""
    from integrations import container_mirroring

    if settings is None:
        container_mirroring.remove(integration)
        return
    if not isinstance(settings, dict):
        raise ValueError("“container_mirroring” is not an object")
    _, errors = container_mirroring.checked(integration, settings)
    for name, messages in errors.items():
        first = messages[0]
        code, _, text = first.partition(": ") if first.startswith("CCRRTT-") else ("", "", first)
        if code:
            raise Refused(code, f"container mirroring of “{integration.name}”, {name}: {text}")
        raise ValueError(f"container mirroring of “{integration.name}”, {name}: {text}")
    container_mirroring.save(integration, settings)


def _check_mapping(collection: RepositoryCollection, lines) -> None:
    """The mapping rules of the screens and the API (``integrations.mapping_rules``)."""
    from integrations import mapping_rules

    model_fields = collection.model.fields_by_key() if collection.model_id else {}
    if not isinstance(lines, list) or any(not isinstance(line, dict) for line in lines):
        raise ValueError("a mapping's lines are a list of objects")
    parsed = [
        mapping_rules.line_of(
            line.get("repository_fields", []),
            line.get("repository_field_types") or {},
            line.get("model_fields", []),
            model_fields,
            line.get("direction", FieldMapping.Direction.BOTH),
            line.get("transform", "copy"),
            line.get("params"),
        )
        for line in lines
    ]
    for number, refusal in mapping_rules.check_lines(parsed, model_fields):
        raise Refused(refusal.code, f"mapping of “{collection.name}”, line {number}: {refusal.message}")


def _routes(integration: Integration, rows) -> list[Route]:
    """The routes of a snapshot, in order; a malformed one is refused by number rather than guessed.
    Whether a well-formed condition fits the model is the validator's to say (CCRRTT-1412E)."""
    if not isinstance(rows, list):
        raise ValueError("“routes” is not a list")
    routes = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not isinstance(row.get("condition") or {}, dict):
            raise ValueError(
                f"route {number} is not a route: projects, a direction and an optional condition object"
            )
        values = {k: row[k] for k in ROUTE_FIELDS if k in row}
        values["condition"] = values.get("condition") or {}
        routes.append(Route(integration=integration, position=number - 1, **values))
    repeated = repeated_route(routes)
    if repeated:
        raise ValueError(repeated)
    return routes


def delete(element_type: str, obj) -> None:
    if element_type in EXTENSION_TYPES:
        from extensions import snapshots as extension_snapshots

        extension_snapshots.delete(element_type, obj)
    elif element_type == ElementType.MAPPING:
        obj.mappings.all().delete()
    else:
        obj.delete()
