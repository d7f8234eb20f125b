"""Jira cascading selects (``option-with-child``) as two single selects, the child dependent on its
parent; against the Jira fake, whose Location field has EMEA (Berlin, London) and Americas (New
York, London). When only the parent changes, the unchanged child moves to the new parent's child
of the same label, and where there is none Hub refuses with CCRRTT-50006E (#12)."""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.errors import DependentValueNotFound
from connectors.types import FieldType
from tests.connectors.cloud_peers import jira_settings
from tests.fakes.jira import JiraFake

EMEA, AMERICAS = "10300", "10301"
BERLIN, LONDON, LONDON_US = "10310", "10311", "10321"


@pytest.fixture(scope="module", params=["cloud", "dc"])
def site(request):
    with JiraFake(flavor=request.param) as fake:
        fake.add_project("LOC", "Locations")
        yield fake


@pytest.fixture
def connector(site, db):
    with registry.connect(jira_settings(site)) as connector:
        yield connector


def test_a_cascading_select_is_an_option_and_a_dependent_child_option(connector):
    schema = {f.id: f for f in connector.field_schema("LOC", "10001")}
    parent, child = schema["customfield_10012"], schema["customfield_10012.child"]
    assert parent.type == child.type == FieldType.SINGLE_SELECT
    assert [o.label for o in parent.options] == ["EMEA", "Americas"]
    assert {o.id for o in child.options} == {BERLIN, LONDON, "10320", LONDON_US}


def test_both_values_are_written_and_read(site, connector):
    made = connector.create_artifact(
        "LOC", "10001", {"summary": "Office", "customfield_10012": EMEA, "customfield_10012.child": BERLIN}
    )
    assert site.issues[made.id].custom["customfield_10012"] == (EMEA, BERLIN)
    assert (made.fields["customfield_10012"], made.fields["customfield_10012.child"]) == (EMEA, BERLIN)


def test_an_unchanged_child_follows_its_parent_by_label(site, connector):
    made = connector.create_artifact(
        "LOC", "10001", {"summary": "Office", "customfield_10012": EMEA, "customfield_10012.child": LONDON}
    )
    moved = connector.update_artifact(made.id, {"customfield_10012": AMERICAS})
    assert (moved.fields["customfield_10012"], moved.fields["customfield_10012.child"]) == (
        AMERICAS,
        LONDON_US,
    )


def test_an_unchanged_child_the_new_parent_lacks_is_50006E_and_nothing_is_written(site, connector):
    made = connector.create_artifact(
        "LOC", "10001", {"summary": "Office", "customfield_10012": EMEA, "customfield_10012.child": BERLIN}
    )
    with pytest.raises(DependentValueNotFound) as raised:
        connector.update_artifact(made.id, {"customfield_10012": AMERICAS, "summary": "Moved"})
    assert raised.value.code == "CCRRTT-50006E" and not raised.value.transient
    assert "“Berlin”" in raised.value.message and AMERICAS in raised.value.message
    assert site.issues[made.id].custom["customfield_10012"] == (EMEA, BERLIN)
    assert site.issues[made.id].summary == "Office"
