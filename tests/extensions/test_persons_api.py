"""``persons.listPersonSearchFields()`` and ``persons.searchPerson(field, value)`` over the local
tracker, with ``PersonNotFoundException`` and ``TooManyPersonsFoundException``."""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.local import service
from connectors.local.models import LocalUser
from extensions.hosts import HostApis
from extensions.hosts.persons import PersonsApi
from extensions.runtime import invoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(collections):
    alpha = service.tracker("alpha")
    LocalUser.objects.create(
        tracker=alpha, username="jsmith", email="john.smith@example.org", display_name="J. Smith"
    )
    LocalUser.objects.create(
        tracker=alpha, username="jane", email="jane.smith@example.org", display_name="J. Smith"
    )
    with registry.connect(collections[0].repository.settings()) as connector:
        yield HostApis(persons=PersonsApi(connector))


def run(api, body: str, *args):
    return invoke(f"function transform(context, input) {{ {body} }}", "transform", [{}, *args], api).value


def test_the_search_fields_are_the_documented_names(api):
    assert run(api, "return persons.listPersonSearchFields();") == [
        "person-id",
        "person-username",
        "person-email",
        "person-display-name",
    ]


def test_search_person_finds_exactly_one_with_the_documented_keys(api):
    person = run(api, "return persons.searchPerson('person-email', 'John.Smith@example.org');")
    assert (person["person-username"], person["person-email"], person["person-display-name"]) == (
        "jsmith",
        "john.smith@example.org",
        "J. Smith",
    )


def test_active_tells_a_deactivated_person_from_an_active_one(api):
    LocalUser.objects.filter(username="jane").update(active=False)
    script = """return [persons.searchPerson('person-username', 'jsmith').active,
                       persons.searchPerson('person-username', 'jane').active];"""
    assert run(api, script) == [True, False]


def test_no_match_and_several_matches_throw_their_exceptions_which_a_script_can_catch(api):
    script = """var seen = [];
      try { persons.searchPerson('person-username', 'nobody'); } catch (e) {
        seen.push(e.name, e instanceof PersonNotFoundException); }
      try { persons.searchPerson('person-display-name', 'J. Smith'); } catch (e) {
        seen.push(e.name, e instanceof TooManyPersonsFoundException); }
      return seen;"""
    assert run(api, script) == ["PersonNotFoundException", True, "TooManyPersonsFoundException", True]
