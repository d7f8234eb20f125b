"""Extensions, key-value stores and the per-collection extension settings as snapshots by name,
for configuration history and export/import (``integrations.snapshots`` delegates here).

A confidential store's values are never in a snapshot: its keys are, and an imported
confidential store waits for its values to be entered again.
"""

from __future__ import annotations

from typing import Any

from extensions.models import CollectionExtensions, Extension, KeyValuePair, KeyValueStore

EXTENSION = "extension"
KEY_VALUE_STORE = "key-value store"
COLLECTION_EXTENSIONS = "collection extensions"
TYPES = (EXTENSION, KEY_VALUE_STORE, COLLECTION_EXTENSIONS)


class Missing(Exception):
    pass


def snapshot(element_type: str, obj) -> dict[str, Any]:
    if element_type == EXTENSION:
        return {"name": obj.name, "description": obj.description, "type": obj.type, "script": obj.script}
    if element_type == KEY_VALUE_STORE:
        pairs = list(obj.pairs.all())
        if obj.confidential:
            return {"name": obj.name, "kind": obj.kind, "keys": [p.key for p in pairs]}
        return {"name": obj.name, "kind": obj.kind, "pairs": {p.key: p.value for p in pairs}}
    # Read afresh, not through ``obj.extension_settings``: the accessor caches the row the "before"
    # snapshot read, so the "after" one would see no change and history would record nothing.
    settings = (
        CollectionExtensions.objects.select_related(
            "comments_to_model", "comments_to_repository", "person_reconciliation", "state_transition"
        )
        .filter(collection=obj)
        .first()
    )
    names = {}
    for field in ("comments_to_model", "comments_to_repository", "person_reconciliation", "state_transition"):
        extension = getattr(settings, field, None) if settings else None
        names[field] = extension.name if extension else None
    return {
        "collection": obj.name,
        **names,
        "state_transition_fields": list(settings.state_transition_fields) if settings else [],
        "transition_graph": list(settings.transition_graph) if settings else [],
    }


def find(element_type: str, name: str):
    from integrations.models import RepositoryCollection

    model, field = {
        EXTENSION: (Extension, "name"),
        KEY_VALUE_STORE: (KeyValueStore, "name"),
        COLLECTION_EXTENSIONS: (RepositoryCollection, "name"),
    }[element_type]
    return model.objects.filter(**{field: name}).first()


def _extension(name: str | None):
    if not name:
        return None
    found = Extension.objects.filter(name=name).first()
    if found is None:
        raise Missing(f"Extension “{name}” does not exist here")
    return found


def apply(element_type: str, data: dict[str, Any], existing=None):
    if element_type == EXTENSION:
        obj = existing or Extension()
        obj.name, obj.type, obj.script = data["name"], data["type"], data["script"]
        obj.description = data.get("description", "")
        obj.full_clean(validate_unique=False)
        obj.save()
        return obj
    if element_type == KEY_VALUE_STORE:
        from extensions import kvstores

        obj = existing or KeyValueStore()
        obj.name, obj.kind = data["name"], data.get("kind", KeyValueStore.Kind.PLAIN)
        obj.full_clean(validate_unique=False)
        obj.save()
        if obj.confidential:
            keys = list(data.get("keys", []))
            obj.pairs.exclude(key__in=keys).delete()
            kept = set(obj.pairs.values_list("key", flat=True))
            for key in keys:
                if key not in kept:  # a value to enter again: confidential values never travel
                    KeyValuePair(store=obj, key=key).save()
        else:
            kvstores.replace_pairs(obj, list((data.get("pairs") or {}).items()), merge=False)
        return obj
    from integrations.models import RepositoryCollection

    collection = existing or RepositoryCollection.objects.filter(name=data["collection"]).first()
    if collection is None:
        raise Missing(f"Collection “{data['collection']}” does not exist here")
    settings, _ = CollectionExtensions.objects.get_or_create(collection=collection)
    for field in ("comments_to_model", "comments_to_repository", "person_reconciliation", "state_transition"):
        setattr(settings, field, _extension(data.get(field)))
    settings.state_transition_fields = list(data.get("state_transition_fields") or [])
    settings.transition_graph = list(data.get("transition_graph") or [])
    settings.save()
    return collection


def delete(element_type: str, obj) -> None:
    if element_type == COLLECTION_EXTENSIONS:
        CollectionExtensions.objects.filter(collection=obj).delete()
    else:
        obj.delete()
