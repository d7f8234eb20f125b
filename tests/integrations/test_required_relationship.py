"""CCRRTT-50008E: an integration whose target needs a relationship it can never fill cannot start
(docs/containers.md, *Required relationships*). The factories' integration (Alpha DEMO → Beta WEB)
with a required model field *Blocked by* (a Relationship) that Beta's collection writes to its
items' *Parent*."""

from __future__ import annotations

import pytest

from integrations import services, validation
from integrations.models import FieldMapping, ModelField

pytestmark = pytest.mark.django_db


def _parent_line(collection, **options) -> FieldMapping:
    return FieldMapping.objects.create(
        collection=collection,
        repository_fields=["parent"],
        repository_field_types={"parent": "relationship"},
        model_fields=["blocked_by"],
        model_field_types={"blocked_by": "relationship"},
        **{"direction": "both", "transform": "copy", **options},
    )


@pytest.fixture
def needs_a_link(integration, model, licensed):
    ModelField.objects.create(
        model=model, key="blocked_by", label="Blocked by", type="relationship", required=True, position=5
    )
    integration.creation_flow = "a_to_b"
    integration.save()
    return integration, _parent_line(integration.collection_b)


def codes(integration) -> list[str]:
    return [p.code for p in validation.validate() if integration.pk in p.integration_ids]


def test_a_required_relationship_nothing_fills_refuses_the_start_with_50008E(needs_a_link):
    integration, _ = needs_a_link
    assert "CCRRTT-50008E" in codes(integration)  # Alpha's collection does not read it
    with pytest.raises(services.RunRefused) as refused:
        services.start(integration)
    [blocker] = [b for b in refused.value.blockers if b.code == "CCRRTT-50008E"]
    assert "“blocked_by”" in blocker.message and "Beta defects" in blocker.message
    assert "constant mapping" in blocker.message

    _parent_line(integration.collection_a)  # Alpha reads it now, but the field does not flow to B
    assert "CCRRTT-50008E" in codes(integration)
    integration.field_flows = {**integration.field_flows, "blocked_by": "a_to_b"}
    integration.save()
    assert "CCRRTT-50008E" not in codes(integration)


def test_a_constant_mapping_resolves_50008E(needs_a_link):
    integration, line = needs_a_link
    line.transform, line.params = "constant", {"value": "1"}
    line.save()
    assert "CCRRTT-50008E" not in codes(integration)


def test_a_required_relationship_toward_a_side_nothing_is_created_on_is_no_50008E(needs_a_link):
    integration, _ = needs_a_link
    integration.creation_flow = "b_to_a"  # Beta's twins are never created: its links need not resolve
    integration.save()
    assert "CCRRTT-50008E" not in codes(integration)
