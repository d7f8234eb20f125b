"""Validation of Container + Work Item integrations (docs/containers.md): the rules the catalog
gives as 50015E, 50017E, 50019E and 50020E. Called by ``integrations.validation``."""

from __future__ import annotations

from integrations.models import ContainerMirroring, Integration


def problems(integration: Integration, collections: dict, mirroring=None) -> list[tuple[str, str, str]]:
    """(detail, code, message) for each problem of the integration's container mirroring: the
    stored one, or ``mirroring`` (settings being checked before they are saved)."""
    found: list[tuple[str, str, str]] = []
    sides = {
        "A": collections.get(integration.collection_a_id),
        "B": collections.get(integration.collection_b_id),
    }
    for side, collection in sides.items():
        if collection is not None and len(collection.artifact_types or []) > 1:
            found.append(
                (
                    f"types:{side}",
                    "CCRRTT-50020E",
                    f"uses collection “{collection.name}” with {len(collection.artifact_types)} "
                    "artifact types; a Container + Work Item Synchronization takes collections "
                    "of one artifact type",
                )
            )
    if mirroring is None:
        mirroring = ContainerMirroring.objects.filter(integration=integration).first()
    if mirroring is None:
        return found
    for side in ("A", "B"):
        if len(mirroring.types_of(side)) > 1 and integration.creation_flow == Integration.Flow.BOTH:
            found.append(
                (
                    f"routing:{side}",
                    "CCRRTT-50015E",
                    f"has several container types on side {side} and creates artifacts both ways; "
                    f"route creation toward side {side} only",
                )
            )
    found += _kind_problems(mirroring, sides)
    for index, condition in enumerate(mirroring.conditions or []):
        key = condition.get("field", "")
        unmapped = [
            c.name
            for c in sides.values()
            if c is not None and not any(key in m.model_fields for m in c.mappings.all())
        ]
        if unmapped:
            found.append(
                (
                    f"condition{index}",
                    "CCRRTT-50017E",
                    f"uses model field “{key}” in a Shared Container Mirroring condition, but "
                    f"{', '.join(unmapped)} does not map it",
                )
            )
    if mirroring.matching != ContainerMirroring.Matching.OFF:
        for collection in sides.values():
            if collection is None:
                continue
            if any(
                mirroring.parent_field in m.model_fields and m.transform == "extension"
                for m in collection.mappings.all()
            ):
                found.append(
                    (
                        f"matching:{collection.pk}",
                        "CCRRTT-50019E",
                        f"matches containers while “{collection.name}” maps the parent field "
                        f"“{mirroring.parent_field}” with an extension",
                    )
                )
    return found


def _kind_problems(mirroring, sides: dict) -> list[tuple[str, str, str]]:
    """CCRRTT-67000E for container types at the same position on both sides where one is a
    container that is not an artifact (a Redmine version) and the other an artifact type (an epic):
    Hub mirrors a version as a version and an epic as an artifact, never one as the other."""
    from integrations.validation import _connector_class

    def objects(side: str) -> frozenset:
        collection = sides[side]
        cls = _connector_class(collection.repository.kind) if collection is not None else None
        return frozenset(getattr(cls, "object_container_types", ()) or ())

    kinds = {side: objects(side) for side in ("A", "B")}
    found = []
    for type_a, type_b in zip(mirroring.types_of("A"), mirroring.types_of("B"), strict=False):
        if (type_a in kinds["A"]) != (type_b in kinds["B"]):
            other, version = (
                (f"“{type_a}” of side A", f"“{type_b}” of side B")
                if type_b in kinds["B"]
                else (f"“{type_b}” of side B", f"“{type_a}” of side A")
            )
            found.append(
                (
                    f"kinds:{type_a}:{type_b}:{'B' if type_b in kinds['B'] else 'A'}",  # the version's side
                    "CCRRTT-67000E",
                    f"pairs the container type {other}, an artifact type, with {version}, a kind of "
                    "container that is not an artifact (such as a version): the target repository has "
                    "no valid container for either. Pair artifact types with artifact types, and "
                    "versions with versions",
                )
            )
    return found
