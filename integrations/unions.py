"""Artifact unions: what makes one valid (CCRRTT-1114E), the license gate on collections that use
one (CCRRTT-15013E), and keeping the collections that draw from a union equal to it."""

from __future__ import annotations

from django.db import transaction

from hub import licensing
from integrations.models import ArtifactUnion, RepositoryCollection


def union_problems(union: ArtifactUnion, collections=()) -> list[str]:
    """Why the union cannot be used, each in words for its screen: [] when it can."""
    found = []
    projects = union.project_ids()
    types = [t for t in union.artifact_types or [] if isinstance(t, str)]
    if not projects:
        found.append("it combines no project: choose at least one project of the repository")
    if not types:
        found.append("it combines no artifact type: choose at least one")
    if projects and types and len(projects) < 2 and len(types) < 2:
        found.append(
            "it combines one project and one artifact type, which a repository collection does: "
            "add a second project or artifact type"
        )
    for what, ids in (("project", projects), ("artifact type", types)):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            found.append(f"it names the {what}(s) {', '.join(repeated)} twice")
    for collection in collections:
        if collection.repository_id != union.repository_id:
            found.append(
                f"collection “{collection.name}” draws from it but belongs to another repository "
                f"(“{collection.repository.label}”)"
            )
    return found


def license_refusal(collection: RepositoryCollection):
    """CCRRTT-15013E's refusal when the collection maps fields of an artifact union the license
    does not enable; None otherwise (also when there is no usable license at all: that has its own
    code and blocks everything)."""
    if collection.union_id is None or not collection.mappings.all():
        return None
    refused = licensing.refusal(licensing.Feature.ARTIFACT_UNIONS)
    return refused if refused is not None and refused.code == "CCRRTT-15013E" else None


@transaction.atomic
def apply_union(union: ArtifactUnion) -> int:
    """Give every collection that draws from the union its projects and artifact types; returns
    how many collections changed."""
    from integrations.services import set_projects

    count = 0
    for collection in RepositoryCollection.objects.filter(union=union):
        set_projects(collection, [dict(p) for p in union.projects])
        if collection.artifact_types != list(union.artifact_types):
            collection.artifact_types = list(union.artifact_types)
            collection.save(update_fields=["artifact_types", "updated"])
        count += 1
    return count
