"""``artifacts.*``: artifacts behind relationships as the tool's raw JSON, searches, containers,
and the twin of a relationship through the integration's artifact pairs."""

from __future__ import annotations

from typing import Any

from connectors.errors import ArtifactNotFound, ConnectorError, OperationUnsupported
from extensions.runtime import HostError

MAX_RESULTS = 1024
SEARCH_TYPES = {
    "formatted-id": {"formatted-id": None},
    "summary": {"project": None, "summary": None},
}


def _id_of(value: Any, what: str = "relationship") -> str:
    if isinstance(value, dict) and value.get("id") not in (None, ""):
        return str(value["id"])
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
        return str(value)
    raise HostError("HostException", f"Not a {what}: {value!r}")


class ArtifactsApi:
    def __init__(self, connector, collection=None, integration_id: int | None = None):
        self.connector, self.collection, self.integration_id = connector, collection, integration_id

    def retrieve(self, relationship: Any) -> dict:
        artifact_id = _id_of(relationship)
        try:
            return self.connector.read_raw(artifact_id)
        except ArtifactNotFound:
            raise HostError("NotFoundException", f"There is no artifact {artifact_id}.") from None
        except ConnectorError as error:
            raise HostError("HostException", str(error)) from None

    def list_search_types(self) -> list[str]:
        return list(SEARCH_TYPES)

    def search_definition(self, search_type: str) -> dict:
        if search_type not in SEARCH_TYPES:
            raise HostError(
                "HostException", f"Unknown search type '{search_type}'; known: {', '.join(SEARCH_TYPES)}."
            )
        return dict(SEARCH_TYPES[search_type])

    def search_by_formatted_id(self, definition: dict) -> list[dict]:
        formatted_id = (definition or {}).get("formatted-id")
        if not formatted_id:
            raise HostError("HostException", "The search definition has no 'formatted-id'.")
        try:
            found = self.connector.search_by_formatted_id(str(formatted_id))
        except OperationUnsupported as error:
            raise HostError("HostException", str(error)) from None
        return [{"id": found.id}] if found is not None else []

    def search(self, search_type: str, definition: dict) -> list[dict]:
        if search_type == "formatted-id":
            return self.search_by_formatted_id(definition)
        self.search_definition(search_type)
        wanted = str((definition or {}).get("summary") or "").lower()
        projects = [definition["project"]] if (definition or {}).get("project") else self._projects()
        found: list[dict] = []
        for project in projects:
            cursor = None
            while len(found) < MAX_RESULTS:
                page = self.connector.changed_since(project, None, cursor=cursor, page_size=100)
                artifacts = self.connector.read_artifacts([item.id for item in page.items])
                for artifact in artifacts.values():
                    if wanted in str(artifact.fields.get("summary") or "").lower():
                        found.append({"id": artifact.id})
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        return found[:MAX_RESULTS]

    def _projects(self) -> list[str]:
        return self.collection.project_ids() if self.collection is not None else []

    def to_container(self, relationship: Any, summary: str | None) -> dict:
        artifact_id = _id_of(relationship)
        if summary is None:
            artifact = self.retrieve(artifact_id)
            summary = artifact.get("summary", artifact.get("subject"))
            if summary is None:
                raise HostError("HostException", f"The artifact {artifact_id} has no summary field.")
        return {"id": artifact_id, "summary": str(summary)}

    def associated_relationship(self, relationship: Any) -> dict:
        return {"id": self._twin(_id_of(relationship))}

    def associated_container(self, container: Any) -> dict:
        artifact_id = _id_of(container, "container")
        twin = self._twin(artifact_id)
        summary = container.get("summary") if isinstance(container, dict) else None
        if summary is None:  # a container the script made ({id} or an id): the tool has the summary
            try:
                summary = self.to_container(artifact_id, None)["summary"]
            except HostError:
                summary = None
        return {"id": twin, "summary": summary}

    def _twin(self, artifact_id: str) -> str:
        from activity.models import ArtifactPair
        from integrations.models import Integration

        integrations = Integration.objects.all()
        if self.integration_id is not None:
            integrations = integrations.filter(pk=self.integration_id)
        twins = set()
        for integration in integrations:
            for side, other in (("a", "b"), ("b", "a")):
                collection_id = getattr(integration, f"collection_{side}_id")
                if self.collection is not None and collection_id != self.collection.pk:
                    continue
                twins |= set(
                    ArtifactPair.objects.filter(
                        integration_id=integration.pk, **{f"{side}_artifact_id": artifact_id}
                    ).values_list(f"{other}_artifact_id", flat=True)
                )
        if not twins:
            raise HostError("NotFoundException", f"The artifact {artifact_id} has no associated artifact.")
        if len(twins) > 1:
            raise HostError(
                "HostException", f"The artifact {artifact_id} has {len(twins)} associated artifacts, not one."
            )
        return twins.pop()
