"""``persons.listPersonSearchFields()`` and ``persons.searchPerson(field, value)`` over the
connector of the repository the extension serves."""

from __future__ import annotations

from connectors.errors import ConnectorError
from connectors.types import Person
from extensions.runtime import HostError

# Connector Person attribute ↔ the names extensions use.
NAMES = {
    "id": "person-id",
    "username": "person-username",
    "email": "person-email",
    "display_name": "person-display-name",
}
ALIASES = {
    **{v: k for k, v in NAMES.items()},
    "id": "id",
    "username": "username",
    "email": "email",
    "display-name": "display_name",
    "display_name": "display_name",
    "name": "display_name",
}


def person_json(person: Person) -> dict:
    """A repository person as extensions see it: the documented hyphenated keys, plus short ones."""
    return {
        "person-id": person.id,
        "person-username": person.username,
        "person-email": person.email,
        "person-display-name": person.display_name,
        "active": person.active,
        "id": person.id,
        "username": person.username,
        "email": person.email,
        "display-name": person.display_name,
    }


class PersonsApi:
    def __init__(self, connector):
        self.connector = connector

    def list_search_fields(self) -> list[str]:
        return [NAMES[f] for f in self.connector.person_search_fields() if f in NAMES]

    def search_person(self, field: str, value: str) -> dict:
        attribute = ALIASES.get(str(field).strip().lower())
        searchable = self.connector.person_search_fields()
        if attribute is None or attribute not in searchable:
            raise HostError(
                "HostException",
                f"Persons cannot be searched by '{field}' here; searchable: "
                f"{', '.join(self.list_search_fields())}.",
            )
        try:
            found = self.connector.find_persons(attribute, value)
        except ConnectorError as error:
            raise HostError("HostException", f"The person search failed: {error}") from None
        if not found:
            raise HostError("PersonNotFoundException", f"No person has {field} '{value}'.")
        if len(found) > 1:
            raise HostError("TooManyPersonsFoundException", f"{len(found)} persons have {field} '{value}'.")
        return person_json(found[0])
