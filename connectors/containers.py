"""The connector SDK's container concept: an artifact's parent (with its type), the children of a
container, and moving an artifact to another container. Only connectors whose
``Capabilities.containers`` is true implement it (see docs/containers.md); the engine asks
``supports`` first, so every other connector is unaffected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ContainerRef:
    """A container (or any artifact inside one) as the tree sees it."""

    id: str
    type: str
    title: str = ""
    project: str = ""


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
