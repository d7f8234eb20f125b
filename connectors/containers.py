"""The connector SDK's container concept: an artifact's parent (with its type), the children of a
container, and moving an artifact to another container. Only connectors whose
``Capabilities.containers`` is true implement it (see docs/containers.md); the engine asks
``supports`` first, so every other connector is unaffected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ContainerRef:
    """A container (or any artifact inside one) as the tree sees it."""

    id: str
    type: str
    title: str = ""
    project: str = ""
    # A container that is not an artifact (``ContainerObjects``): what a user expects its twin to
    # copy besides the title (Redmine's version: description, status, due_date, sharing). Not part
    # of the reference's identity.
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@runtime_checkable
class ContainerSupport(Protocol):
    def container_of(self, artifact_id: str) -> ContainerRef | None:
        """The artifact's parent, None at the top level of its project. Raises ArtifactNotFound."""

    def children(self, container_id: str) -> list[ContainerRef]:
        """The artifacts directly inside the container, by id ascending."""

    def set_container(self, artifact_id: str, container_id: str | None) -> None:
        """Move the artifact into the container (None: to the top level of its project)."""

    def containers(self, project: str, container_type: str) -> list[ContainerRef]:
        """The containers of one type in a project, by id ascending (what matching searches)."""


def supports(connector) -> bool:
    return bool(getattr(connector.capabilities, "containers", False)) and isinstance(
        connector, ContainerSupport
    )


@runtime_checkable
class ContainerObjects(Protocol):
    """Containers that are not artifacts (Redmine's versions): the tool keeps them apart from its
    issues, so change detection never lists them and artifact pairs never hold them. The engine
    pairs them itself (``integrations.ContainerPair``) the first time an item in one is mirrored.
    ``object_container_types`` names their container types; their ids are told apart from
    artifact ids by ``is_container_object``."""

    object_container_types: frozenset[str]
    # Optional: type id → the name screens show (``object_container_names``), else the id.

    def is_container_object(self, container_id: str) -> bool:
        """Whether the id is one of these containers (not an artifact)."""

    def read_container(self, container_id: str) -> ContainerRef:
        """The container with its type, title and project. Raises ArtifactNotFound."""

    container_attributes: tuple[str, ...]

    def create_container(
        self, project: str, container_type: str, title: str, attributes: dict | None = None
    ) -> ContainerRef:
        """Create a container of the type in the project, titled ``title``, with ``attributes``
        (keys of ``container_attributes``; missing ones take the tool's defaults)."""

    def update_container(
        self, container_id: str, *, title: str | None = None, attributes: dict | None = None
    ) -> ContainerRef:
        """Change the container's title and/or attributes. Raises ArtifactNotFound."""


def object_types(connector) -> frozenset[str]:
    """The container types of ``connector`` that are not artifacts (empty for most connectors)."""
    if not supports(connector) or not isinstance(connector, ContainerObjects):
        return frozenset()
    return frozenset(connector.object_container_types)


def is_object(connector, container_id) -> bool:
    """Whether ``container_id`` is a container of ``connector`` that is not an artifact."""
    return bool(object_types(connector)) and connector.is_container_object(str(container_id))
