"""Default person reconciliation: find the target repository's person for a source person by
username ↔ username, username ↔ id, id ↔ username, id ↔ id, then email ↔ email — in that order,
skipping a step when the source person lacks the value or the target cannot search by that field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from connectors.errors import ConnectorError
from connectors.types import Person

# (attribute of the source person, field the target searches by)
STEPS = (("username", "username"), ("username", "id"), ("id", "username"), ("id", "id"), ("email", "email"))


def match(
    source: Person, search_fields: Sequence[str], find: Callable[[str, str], list[Person]]
) -> Person | None:
    """The first target person the default strategy finds for ``source``; ``find(field, value)``
    searches the target. Exactly one hit counts; several are ambiguous and the step is skipped."""
    for attribute, field in STEPS:
        value = getattr(source, attribute, "")
        if not value or field not in search_fields:
            continue
        found = find(field, value)
        if len(found) == 1:
            return found[0]
    return None


class Reconciler:
    """Translates person ids between two connectors, remembering answers for one processing run."""

    def __init__(self, source_connector, target_connector):
        self.source, self.target = source_connector, target_connector
        self._cache: dict[str, str | None] = {}
        self._search_fields: list[str] | None = None
        self.seen: dict[str, Person] = {}  # source person id → person (for person sightings)
        self.fields: set[tuple[str, str]] = set()  # (model field, source person id) seen

    def target_id(self, person_id: str | None, field: str = "") -> str | None:
        if not person_id:
            return None
        self.fields.add((field, person_id))
        if person_id not in self._cache:
            self._cache[person_id] = self._resolve(person_id)
        return self._cache[person_id]

    def note(self, field: str, person_id: str | None) -> None:
        """A person on the source artifact, sighted whether or not the field flows (nothing is read
        or searched: the person's details come when a flowing field translates them)."""
        if person_id:
            self.fields.add((field, str(person_id)))

    def matched(self, person_id: str) -> str | None:
        """The other side's person this run matched ``person_id`` with, if any."""
        return self._cache.get(person_id)

    def _resolve(self, person_id: str) -> str | None:
        try:
            person = self.source.read_person(person_id)
        except ConnectorError:
            person = Person(id=person_id)
        self.seen[person_id] = person
        if self._search_fields is None:
            self._search_fields = list(self.target.person_search_fields())
        found = match(person, self._search_fields, self.target.find_persons)
        return found.id if found else None
