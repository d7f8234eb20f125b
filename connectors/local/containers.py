"""The local tracker's tree: any item can hold children through ``LocalItem.parent``; epics are
the usual containers. Read by the connector (``connectors.containers``) and the item page."""

from __future__ import annotations

from connectors.containers import ContainerRef
from connectors.local.models import LocalItem, LocalProject


def ref(item: LocalItem) -> ContainerRef:
    return ContainerRef(str(item.pk), item.type, item.summary, item.project.key)


def children(item: LocalItem) -> list[ContainerRef]:
    return [ref(child) for child in item.children.select_related("project").order_by("pk")]


def of_type(project: LocalProject, container_type: str) -> list[ContainerRef]:
    return [ref(item) for item in project.items.filter(type=container_type).order_by("pk")]


def ancestors(item: LocalItem) -> list[LocalItem]:
    """The item's parent, its parent's parent, … (the console's breadcrumb), stopping at a loop."""
    found, seen, current = [], {item.pk}, item.parent
    while current is not None and current.pk not in seen:
        found.append(current)
        seen.add(current.pk)
        current = current.parent
    return found
