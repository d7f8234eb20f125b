"""Redmine's containers (``connectors.containers``): a parent issue (``parent_issue_id``) holds
its sub-tasks; a version (``fixed_version_id``) holds the issues filed in it. Parent issues are
containers of their tracker's type; versions have ids ``version:<n>`` and the type ``version``."""

from __future__ import annotations

from connectors.containers import ContainerRef
from connectors.errors import ArtifactNotFound, ValuesNotAccepted
from hub.ids import is_digits

VERSION = "version"
VERSION_PREFIX = "version:"
_LABELS = {"Name": "name", "Due date": "due_date", "Status": "status", "Sharing": "sharing"}


def _issue_ref(issue: dict) -> ContainerRef:
    return ContainerRef(
        str(issue["id"]),
        str((issue.get("tracker") or {}).get("id", "")),
        issue.get("subject", ""),
        str((issue.get("project") or {}).get("id", "")),
    )


# What a version's twin copies besides its name; Redmine's write name of due_date is effective_date.
VERSION_ATTRIBUTES = ("description", "status", "due_date", "sharing")
_DEFAULTS = {"description": "", "status": "open", "due_date": "", "sharing": "none"}
_WRITTEN_AS = {"due_date": "effective_date"}


def _version_ref(version: dict) -> ContainerRef:
    return ContainerRef(
        f"{VERSION_PREFIX}{version['id']}",
        VERSION,
        version.get("name", ""),
        str((version.get("project") or {}).get("id", "")),
        {key: version.get(key) or default for key, default in _DEFAULTS.items()},
    )


def _version_payload(title: str | None, attributes: dict | None) -> dict:
    payload = {} if title is None else {"name": title}
    for key, value in (attributes or {}).items():
        if key in _DEFAULTS:
            payload[_WRITTEN_AS.get(key, key)] = value if value not in (None, "") else _DEFAULTS[key]
    return payload


def _version_number(container_id: str) -> tuple[str, ArtifactNotFound]:
    """The number of a ``version:<n>`` id, and the error its absence raises (at once when not a number)."""
    number = str(container_id).removeprefix(VERSION_PREFIX)
    missing = ArtifactNotFound(f"Redmine version {number} does not exist or is not visible to Hub's user.")
    if not is_digits(number):
        raise missing
    return number, missing


class RedmineContainers:
    """Mixed into ``RedmineConnector``: uses its ``api``, ``_issue``, ``_paged`` and ``_project``.
    Versions are containers that are not artifacts (``connectors.containers.ContainerObjects``)."""

    object_container_types = frozenset({VERSION})
    object_container_names = {VERSION: "Version"}  # how the screens name them
    container_attributes = VERSION_ATTRIBUTES

    def is_container_object(self, container_id: str) -> bool:
        return str(container_id).startswith(VERSION_PREFIX)

    def read_container(self, container_id: str) -> ContainerRef:
        number, missing = _version_number(container_id)
        return _version_ref(self.api.get(f"/versions/{number}.json", missing=missing)["version"])

    def create_container(
        self, project: str, container_type: str, title: str, attributes: dict | None = None
    ) -> ContainerRef:
        if container_type != VERSION:
            raise ValuesNotAccepted(
                "Redmine creates versions only; other containers are issues",
                fields={"container_type": container_type},
            )
        identifier = self._project(project)["id"]
        response = self.api.call(
            "POST",
            f"/projects/{identifier}/versions.json",
            json={"version": _version_payload(title, attributes)},
            labels=_LABELS,
        )
        return _version_ref(response.json()["version"])

    def update_container(
        self, container_id: str, *, title: str | None = None, attributes: dict | None = None
    ) -> ContainerRef:
        number, missing = _version_number(container_id)
        self.api.call(
            "PUT",
            f"/versions/{number}.json",
            json={"version": _version_payload(title, attributes)},
            missing=missing,
            labels=_LABELS,
        )
        return self.read_container(container_id)  # Redmine answers a PUT with no body

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
