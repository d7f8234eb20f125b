"""Redmine's containers (``connectors.containers``): a parent issue (``parent_issue_id``) holds
its sub-tasks; a version (``fixed_version_id``) holds the issues filed in it. Parent issues are
containers of their tracker's type; versions have ids ``version:<n>`` and the type ``version``."""

from __future__ import annotations

from connectors.containers import ContainerRef
from connectors.errors import ArtifactNotFound, ValuesNotAccepted
from hub.ids import is_digits

VERSION = "version"
VERSION_PREFIX = "version:"


def _issue_ref(issue: dict) -> ContainerRef:
    return ContainerRef(
        str(issue["id"]),
        str((issue.get("tracker") or {}).get("id", "")),
        issue.get("subject", ""),
        str((issue.get("project") or {}).get("id", "")),
    )


def _version_ref(version: dict) -> ContainerRef:
    return ContainerRef(
        f"{VERSION_PREFIX}{version['id']}",
        VERSION,
        version.get("name", ""),
        str((version.get("project") or {}).get("id", "")),
    )


class RedmineContainers:
    """Mixed into ``RedmineConnector``: uses its ``api``, ``_issue``, ``_paged`` and ``_project``.
    Versions are containers that are not artifacts (``connectors.containers.ContainerObjects``)."""

    object_container_types = frozenset({VERSION})

    def is_container_object(self, container_id: str) -> bool:
        return str(container_id).startswith(VERSION_PREFIX)

    def read_container(self, container_id: str) -> ContainerRef:
        number = str(container_id).removeprefix(VERSION_PREFIX)
        missing = ArtifactNotFound(
            f"Redmine version {number} does not exist or is not visible to Hub's user."
        )
        if not is_digits(number):
            raise missing
        return _version_ref(self.api.get(f"/versions/{number}.json", missing=missing)["version"])

    def create_container(self, project: str, container_type: str, title: str) -> ContainerRef:
        if container_type != VERSION:
            raise ValuesNotAccepted(
                "Redmine creates versions only; other containers are issues",
                fields={"container_type": container_type},
            )
        identifier = self._project(project)["id"]
        response = self.api.call(
            "POST",
            f"/projects/{identifier}/versions.json",
            json={"version": {"name": title}},
            labels={"Name": "name"},
        )
        return _version_ref(response.json()["version"])

    def container_of(self, artifact_id: str) -> ContainerRef | None:
        issue = self._issue(artifact_id, include="")
        parent = issue.get("parent")
        if parent:
            return _issue_ref(self._issue(str(parent["id"]), include=""))
        return None

    def version_of(self, artifact_id: str) -> ContainerRef | None:
        version = self._issue(artifact_id, include="").get("fixed_version")
        return (
            None
            if not version
            else ContainerRef(f"{VERSION_PREFIX}{version['id']}", VERSION, version.get("name", ""))
        )

    def children(self, container_id: str) -> list[ContainerRef]:
        if container_id.startswith(VERSION_PREFIX):
            params = {"fixed_version_id": container_id.removeprefix(VERSION_PREFIX), "status_id": "*"}
        else:
            params = {"parent_id": container_id, "status_id": "*"}
        rows = self._paged("/issues.json", "issues", {**params, "sort": "id"})
        return [_issue_ref(row) for row in rows]

    def set_container(self, artifact_id: str, container_id: str | None) -> None:
        if container_id and container_id.startswith(VERSION_PREFIX):
            payload = {"fixed_version_id": container_id.removeprefix(VERSION_PREFIX)}
        else:
            payload = {"parent_issue_id": container_id or ""}
        self.api.call(
            "PUT",
            f"/issues/{artifact_id}.json",
            json={"issue": payload},
            missing=self.api.not_found(artifact_id),
        )

    def containers(self, project: str, container_type: str) -> list[ContainerRef]:
        identifier = self._project(project)["id"]
        if container_type == VERSION:
            rows = self.api.get(f"/projects/{identifier}/versions.json").get("versions", [])
            return sorted(
                (_version_ref(row) for row in rows), key=lambda ref: int(ref.id[len(VERSION_PREFIX) :])
            )
        params = {"project_id": identifier, "tracker_id": container_type, "status_id": "*", "sort": "id"}
        return [_issue_ref(row) for row in self._paged("/issues.json", "issues", params)]
