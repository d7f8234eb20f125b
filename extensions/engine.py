"""The engine's hooks into extensions, kept in one place so the processor calls in with a line each:
person reconciliation per collection (every person field, comment authors too), comment
extensions per collection and direction, and status moves by a state transition extension or the
transition graph. Custom data transformations need no hook here: mapping lines run them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import ConnectorError
from connectors.types import Person
from extensions import transformations, transitions
from extensions.errors import ExtensionError, ExtensionFailed, OutputInvalid
from extensions.hosts import HostApis
from extensions.hosts.persons import PersonsApi, person_json
from integrations.engine.persons import Reconciler, match

enter = transformations.enter  # the processor names integration and artifact for the log lines
serve = transformations.serve  # and its sides, for mapping lines' artifacts.*


def settings_of(collection):
    return transitions.settings_of(collection)


# --- classification -------------------------------------------------------------------------------


def failure_of(error: BaseException):
    """(code, message) of an extension failure, for the processor's classification; else None."""
    if isinstance(error, ExtensionError):
        return error.code, error.message
    return None


# --- person reconciliation ---------------------------------------------------------------------


class ExtensionReconciler(Reconciler):
    """Person reconciliation where a collection has an extension: the source collection's
    ``mapPersonFromRepository`` gives the model person, the target collection's
    ``mapPersonToRepository`` the value to find the target person by; a side without one uses
    the default strategy for its half."""

    def __init__(self, source_side, target_side):
        super().__init__(source_side.connector, target_side.connector)
        self.from_extension = getattr(settings_of(source_side.collection), "person_reconciliation", None)
        self.to_extension = getattr(settings_of(target_side.collection), "person_reconciliation", None)
        self.source_artifact: Mapping[str, Any] = {}
        self._by_field: dict[tuple[str, str], str | None] = {}

    def target_id(self, person_id: str | None, field: str = "") -> str | None:
        if not person_id:
            return None
        self.fields.add((field, person_id))
        key = (person_id, field)
        if key not in self._by_field:
            self._by_field[key] = self._reconcile(person_id, field)
        return self._by_field[key]

    def matched(self, person_id: str) -> str | None:
        return next((found for (pid, _), found in self._by_field.items() if pid == person_id and found), None)

    def _context(self, field: str) -> dict:
        return {
            "sourceArtifact": dict(self.source_artifact),
            "targetArtifact": {},
            "targetRepositoryArtifact": {},
            "sourceField": {"id": field, "label": field},
            "targetField": {"id": field, "label": field},
        }

    def _read(self, person_id: str) -> Person | None:
        try:
            person = self.source.read_person(person_id)
        except ConnectorError:
            return None
        self.seen[person_id] = person
        return person

    def _reconcile(self, person_id: str, field: str) -> str | None:
        person = self._read(person_id)
        if self.from_extension is not None:
            repository_person = person_json(person) if person else None
            unresolved = None if person else {"person-id": person_id, "id": person_id}
            result = transformations.run(
                self.from_extension,
                "mapPersonFromRepository",
                [repository_person, unresolved, self._context(field)],
                HostApis(persons=PersonsApi(self.source)),
            )
            if result.undefined or result.value in (None, ""):
                return None
            if not isinstance(result.value, (str, int)) or isinstance(result.value, bool):
                raise OutputInvalid(
                    f"Extension “{self.from_extension.name}”: mapPersonFromRepository must return a "
                    f"person id (text), not {str(result.value)[:60]}."
                )
            model_person = {"id": str(result.value), "display-name": person.display_name if person else ""}
        else:
            known = person or Person(id=person_id)
            model_person = {
                "id": known.username or known.email or known.id,
                "display-name": known.display_name,
            }
        if self.to_extension is not None:
            result = transformations.run(
                self.to_extension,
                "mapPersonToRepository",
                [model_person, self._context(field)],
                HostApis(persons=PersonsApi(self.target)),
            )
            if result.undefined or result.value in (None, ""):
                return None
            return self._find(str(result.value), self.to_extension.name)
        return self._find_default(model_person["id"], person)

    def _searchable(self) -> list[str]:
        if self._search_fields is None:
            self._search_fields = list(self.target.person_search_fields())
        return self._search_fields

    def _find(self, value: str, extension: str) -> str:
        for field in ("id", "username", "email"):
            if field not in self._searchable():
                continue
            try:
                found = self.target.find_persons(field, value)
            except ConnectorError:
                continue
            if len(found) == 1:
                return found[0].id
        raise ExtensionFailed(
            f"Extension “{extension}”: mapPersonToRepository returned {value!r}, and the target "
            "repository has no person with that id, user name or e-mail."
        )

    def _find_default(self, model_id: str, person: Person | None) -> str | None:
        probe = Person(
            id=model_id,
            username=model_id,
            email=model_id if "@" in model_id else (person.email if person else ""),
        )
        found = match(probe, self._searchable(), self.target.find_persons)
        return found.id if found else None


def reconciler(source_side, target_side) -> Reconciler:
    """The reconciler for persons going from ``source_side`` to ``target_side``."""
    if getattr(settings_of(source_side.collection), "person_reconciliation_id", None) or getattr(
        settings_of(target_side.collection), "person_reconciliation_id", None
    ):
        return ExtensionReconciler(source_side, target_side)
    return Reconciler(source_side.connector, target_side.connector)


def note_source(reconciler_: Reconciler, model: Mapping[str, Any]) -> None:
    """The artifact a person belongs to, for the extension's ``context.sourceArtifact``."""
    if isinstance(reconciler_, ExtensionReconciler):
        reconciler_.source_artifact = model


# --- comments ------------------------------------------------------------------------------------


def comment_json(comment) -> dict:
    return {
        "id": comment.id,
        "comment-content": comment.body,
        "content": comment.body,
        "is-private": bool(comment.private),
        "creator": comment.author or None,
        "created": comment.created.isoformat() if comment.created else None,
    }


def _transform_comments(extension, comments: list[dict], context: dict) -> list[dict]:
    result = transformations.run(extension, "transform", [context, comments])
    if result.undefined or result.value is None:
        return []
    if not isinstance(result.value, list) or not all(isinstance(c, dict) for c in result.value):
        raise OutputInvalid(
            f"Extension “{extension.name}” must return an array of comment objects (Comments)."
        )
    return result.value


def _body(comment: dict, original: dict) -> str:
    # Either key may carry the new text: "content" is Hub's, "comment-content" the field id.
    content, field = comment.get("content"), comment.get("comment-content")
    if content is not None and content != original.get("content"):
        return str(content)
    if field is not None and field != original.get("comment-content"):
        return str(field)
    return str(content if content is not None else field or "")


def comment_copies(
    source_side, target_side, comment, private: bool, artifact_fields
) -> list[tuple[str, bool]]:
    """The comments to write for one new source comment: itself, or what the source collection's
    collection → model and the target collection's model → collection extensions make of it (split
    into several, or none)."""
    to_model = getattr(settings_of(source_side.collection), "comments_to_model", None)
    to_repository = getattr(settings_of(target_side.collection), "comments_to_repository", None)
    if to_model is None and to_repository is None:
        return [(comment.body, private)]
    original = comment_json(comment)
    comments = [{**original, "is-private": private}]
    context = {"sourceArtifact": transformations._jsonable(dict(artifact_fields or {})), "targetArtifact": {}}
    context["targetRepositoryArtifact"] = context["targetArtifact"]
    for extension, direction in ((to_model, "repository-to-model"), (to_repository, "model-to-repository")):
        if extension is not None and comments:
            comments = _transform_comments(extension, comments, {**context, "direction": direction})
    copies = []
    for each in comments:
        body = _body(each, original)
        if body.strip():
            copies.append((body, bool(each.get("is-private", private))))
    return copies


# --- statuses ------------------------------------------------------------------------------------


def moves_status(side) -> bool:
    return transitions.configured(side.collection)


def move_status(
    side, artifact_id: str, status, fields: Mapping[str, Any], source_model, model_keys, current=None
):
    return transitions.move(side, artifact_id, status, fields, source_model, model_keys, current)
