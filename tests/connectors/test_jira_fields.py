"""Jira's array fields against its fake: components (options from createmeta) on Cloud and Data
Center, labels on Cloud (options: the labels in use, from ``GET label``; Data Center has no such
list, so it does not offer them); read back as ids and words, refusals naming the field."""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.errors import ValuesNotAccepted
from connectors.types import FieldType
from tests.connectors.cloud_peers import jira_settings
from tests.fakes.jira import JiraFake


@pytest.fixture(params=["cloud", "dc"])
def jira(request, db):
    with JiraFake(flavor=request.param) as fake:
        fake.add_project("FLD", "Fields")
        with registry.connect(jira_settings(fake)) as connector:
            yield request.param, fake, connector


def test_components_and_labels_are_multi_selects_that_read_back(jira):
    flavor, fake, connector = jira
    schema = {f.id: f for f in connector.field_schema("FLD", "10001")}
    assert schema["components"].type == FieldType.MULTI_SELECT
    assert [o.label for o in schema["components"].options] == ["Backend", "Frontend"]
    values = {"summary": "Tagged", "components": ["10201"]}
    if flavor == "cloud":
        assert [o.id for o in schema["labels"].options] == ["customer", "regression"]
        values["labels"] = ["customer", "regression"]
    else:
        assert "labels" not in schema  # Data Center lists no labels to offer
    made = connector.create_artifact("FLD", "10001", values)
    assert made.fields["components"] == ["10201"]
    assert made.fields["labels"] == (["customer", "regression"] if flavor == "cloud" else [])
    cleared = connector.update_artifact(made.id, {"components": []})
    assert cleared.fields["components"] == []


def test_a_component_that_does_not_exist_is_refused_naming_the_field(jira):
    _, fake, connector = jira
    made = connector.create_artifact("FLD", "10001", {"summary": "Placed"})
    with pytest.raises(ValuesNotAccepted) as refused:
        connector.update_artifact(made.id, {"components": ["99999"]})
    assert "components" in refused.value.fields


def test_a_label_with_a_space_is_refused_naming_the_field(jira):
    _, fake, connector = jira  # Data Center refuses it as Cloud does, though Hub offers no labels there
    made = connector.create_artifact("FLD", "10001", {"summary": "Labelled"})
    with pytest.raises(ValuesNotAccepted) as refused:
        connector.update_artifact(made.id, {"labels": ["two words"]})
    assert "labels" in refused.value.fields
