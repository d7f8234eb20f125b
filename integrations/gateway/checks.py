"""Validation of Gateway integrations and their gateway collections: the problems the configuration
validator (``integrations.validation``) turns into blockers, each with its catalog code."""

from __future__ import annotations

from django.urls import reverse

from integrations.models import GatewayCollection, Integration
from integrations.models.modeling import FieldType

RELATIONSHIP_TYPES = (FieldType.RELATIONSHIP, FieldType.RELATIONSHIPS)
TEXT_TYPES = (FieldType.STRING, FieldType.RICH_TEXT)
COMMIT_MESSAGE = "commit_message"  # a model field of this key makes the artifacts commits (67001E)


def _link(label: str, url: str) -> dict:
    return {"label": label, "url": url}


def collection_problems(collection: GatewayCollection) -> list[tuple[str, str, str]]:
    """(detail, code, message) for each problem of a gateway collection."""
    from hub import licensing

    found = []
    if collection.model_id is None:
        found.append(("model", "CCRRTT-20005E", "has no model"))
        return found
    if not collection.token_hash:
        found.append(("token", "CCRRTT-20007E", "has no token: generate one"))
    configured = collection.relationship_repositories or {}
    for field in collection.model.fields.all():
        if field.type in RELATIONSHIP_TYPES and not configured.get(field.key):
            found.append(
                (
                    f"relationship:{field.key}",
                    "CCRRTT-20004E",
                    f"does not say which repository the relationship field “{field.label}” points to",
                )
            )
    if collection.extension_id is not None:
        refused = licensing.refusal(licensing.Feature.GATEWAY_PAYLOAD_TRANSFORMATION)
        if refused is not None:
            found.append(("extension", "CCRRTT-20006E", f"uses a payload transformation: {refused.message}"))
    return found


def integration_problems(
    integration: Integration, collections: dict
) -> list[tuple[str, str, str, list[dict]]]:
    """(detail, code, message, links) for each problem of a Gateway integration."""
    # An integration being created on its form has no page yet.
    me = _link(
        f"Integration {integration.name}",
        reverse("integration-edit", args=[integration.pk]) if integration.pk else "",
    )
    found = []
    source = integration.gateway_collection
    target = collections.get(integration.collection_b_id)
    if source is None:
        found.append(("source", "CCRRTT-1405E", "has no gateway collection to take artifacts from", [me]))
    if target is None:
        found.append(("target", "CCRRTT-1406E", "has no target collection to create artifacts in", [me]))
    if source is None or target is None:
        return found
    source_link = _link(
        f"Gateway collection {source.name}", reverse("gateway-collection-edit", args=[source.pk])
    )
    for detail, code, message in collection_problems(source):
        found.append(
            (detail, code, f"takes artifacts from “{source.name}”, which {message}", [me, source_link])
        )
    if target.model_id != source.model_id:
        found.append(("model", "CCRRTT-1403E", "has a target collection mapped to another model", [me]))
    model_fields = {f.key: f for f in source.model.fields.all()}
    key = integration.key_identifier
    if integration.twinless_update and not key:
        found.append(("key", "CCRRTT-1410E", "updates twinless artifacts but has no key identifier", [me]))
    elif key and (key not in model_fields or model_fields[key].type not in TEXT_TYPES):
        found.append(
            (
                "twinless",
                "CCRRTT-1416E",
                f"has the key identifier “{key}”, which is no String field of the model",
                [me],
            )
        )
    if COMMIT_MESSAGE in model_fields and not _commit_mapping(target, model_fields):
        found.append(
            (
                "commit",
                "CCRRTT-67001E",
                f"creates commit artifacts in “{target.name}” without a mapping from a String or Rich Text "
                "model field to a Relationship field of that collection",
                [me],
            )
        )
    return found


def _commit_mapping(target, model_fields: dict) -> bool:
    for line in target.mappings.all():
        types = [line.repository_field_types.get(f, "") for f in line.repository_fields]
        if (
            line.writes
            and any(t in RELATIONSHIP_TYPES for t in types)
            and any(getattr(model_fields.get(k), "type", "") in TEXT_TYPES for k in line.model_fields)
        ):
            return True
    return False
