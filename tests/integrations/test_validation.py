"""The validator turns each configuration problem into a blocker with its catalog code, blocks only
the integrations it affects, and clears the blocker once the problem is fixed."""

from activity.blockers import blocks_integration
from activity.models import Blocker
from integrations import validation
from integrations.models import FieldMapping, Integration, ModelField, Route


def codes_of(integration):
    validation.validate()
    return sorted(b.code for b in validation.problems_of_integration(integration.pk))


def test_a_complete_integration_has_no_blockers(integration):
    assert codes_of(integration) == []
    assert not blocks_integration(integration.pk)


def test_collections_mapped_to_different_models_raise_1403E(integration, model):
    other = type(model).objects.create(name="Story")
    integration.collection_b.model = other
    integration.collection_b.save()
    assert "CCRRTT-1403E" in codes_of(integration)


def test_collection_without_mapping_raises_1404E(integration):
    integration.collection_b.mappings.all().delete()
    assert "CCRRTT-1404E" in codes_of(integration)


def test_missing_collections_raise_1405E_and_1406E(integration):
    Integration.objects.filter(pk=integration.pk).update(collection_a=None, collection_b=None)
    integration.refresh_from_db()
    assert {"CCRRTT-1405E", "CCRRTT-1406E"} <= set(codes_of(integration))


def test_integration_without_routes_raises_1401E(integration):
    integration.routes.all().delete()
    assert "CCRRTT-1401E" in codes_of(integration)


def test_route_without_project_on_one_side_raises_1411E(integration):
    Route.objects.create(integration=integration, project_a="OPS", project_b="")
    assert "CCRRTT-1411E" in codes_of(integration)


def test_route_to_a_project_the_collection_no_longer_has_raises_1415E(integration):
    Route.objects.create(integration=integration, project_a="OPS", project_b="WEB")
    assert "CCRRTT-1415E" in codes_of(integration)


def test_filter_on_a_removed_option_raises_1409E(integration):
    integration.filters = {
        "combine": "and",
        "conditions": [{"field": "priority", "operator": "equals", "value": "urgent"}],
    }
    integration.save()
    assert "CCRRTT-1409E" in codes_of(integration)


def test_filter_on_a_missing_field_raises_1409E(integration):
    integration.filters = {"conditions": [{"field": "severity", "operator": "is_empty", "value": None}]}
    integration.save()
    assert "CCRRTT-1409E" in codes_of(integration)


def test_field_flow_for_a_field_the_model_lacks_raises_17005E(integration):
    integration.field_flows = {**integration.field_flows, "severity": "both"}
    integration.save()
    assert "CCRRTT-17005E" in codes_of(integration)


def test_field_flow_against_the_mapping_direction_raises_17005E(integration):
    FieldMapping.objects.filter(collection=integration.collection_b, model_fields=["priority"]).update(
        direction="to_model"
    )
    assert "CCRRTT-17005E" in codes_of(integration)  # priority flows A → B but B's mapping does not write it


def test_two_way_field_without_conflict_strategy_raises_17007E(integration):
    integration.conflict_strategy = ""
    integration.save()
    assert "CCRRTT-17007E" in codes_of(integration)


def test_conditional_flow_on_a_missing_option_raises_17027E(integration):
    integration.field_flows = {
        "title": "both",
        "priority": {
            "flow": "a_to_b",
            "condition": {"field": "priority", "operator": "equals", "value": "gone"},
        },
    }
    integration.save()
    assert "CCRRTT-17027E" in codes_of(integration)


def test_comment_flow_keeping_private_comments_where_the_target_has_none_raises_17026E(
    integration, monkeypatch
):
    from connectors.local.connector import LocalConnector
    from connectors.types import Capabilities

    monkeypatch.setattr(LocalConnector, "capabilities", Capabilities(private_comments=False))
    integration.comment_flow = {"a_to_b": {"enabled": True, "internal": "keep"}}
    integration.save()
    assert "CCRRTT-17026E" in codes_of(integration)


def test_changing_a_mapped_fields_type_flags_the_mapping_with_17025E(integration, model):
    ModelField.objects.filter(model=model, key="title").update(type="rich_text")
    assert "CCRRTT-17025E" in codes_of(integration)


def test_removing_an_option_used_by_a_value_map_flags_the_mapping_with_17025E(integration, model):
    ModelField.objects.filter(model=model, key="priority").update(options=[{"id": "high", "label": "High"}])
    assert "CCRRTT-17025E" in codes_of(integration)


def test_mapping_to_a_removed_model_field_raises_17002E(integration, model):
    FieldMapping.objects.create(
        collection=integration.collection_a,
        repository_fields=["due_date"],
        repository_field_types={"due_date": "date"},
        model_fields=["due"],
        model_field_types={"due": "date"},
        transform="copy",
    )
    ModelField.objects.filter(model=model, key="due").delete()
    assert "CCRRTT-17002E" in codes_of(integration)


def test_invalid_project_raises_1110E_for_the_integrations_using_it(integration):
    integration.collection_a.projects.update(invalid=True)
    assert "CCRRTT-1110E" in codes_of(integration)


def test_disabled_repository_blocks_its_integrations_with_30022W(integration):
    repository = integration.collection_a.repository
    repository.enabled = False
    repository.save()
    assert "CCRRTT-30022W" in codes_of(integration)
    assert blocks_integration(integration.pk)


def test_a_problem_blocks_only_the_integrations_it_affects(integration, collections, repositories, model):
    from tests.integrations.factories import mapped_collection

    c = mapped_collection("Alpha ops", repositories[0], "OPS", model)
    healthy = Integration.objects.create(
        name="Healthy", collection_a=c, collection_b=collections[1], field_flows={"title": "a_to_b"}
    )
    Route.objects.create(integration=healthy, project_a="OPS", project_b="WEB")
    integration.routes.all().delete()
    validation.validate()
    assert blocks_integration(integration.pk)
    assert not blocks_integration(healthy.pk)


def test_a_fixed_problem_clears_its_blocker_on_the_next_validation(integration):
    integration.routes.all().delete()
    validation.validate()
    assert Blocker.objects.filter(code="CCRRTT-1401E").exists()
    Route.objects.create(integration=integration, project_a="DEMO", project_b="WEB")
    validation.validate()
    assert not Blocker.objects.filter(code="CCRRTT-1401E").exists()


def test_blockers_link_to_the_element_to_fix(integration):
    integration.routes.all().delete()
    validation.validate()
    blocker = Blocker.objects.get(code="CCRRTT-1401E")
    assert blocker.related == [
        {"label": "Integration Alpha ↔ Beta", "url": f"/integrations/{integration.pk}/"}
    ]
    assert blocker.impact == Blocker.Impact.AFFECTED


def test_validation_leaves_blockers_it_does_not_own_alone(integration):
    from activity.blockers import raise_blocker

    raise_blocker("license:missing", "CCRRTT-0001E", "No license", impact=Blocker.Impact.ALL)
    validation.validate()
    assert Blocker.objects.filter(key="license:missing").exists()


def test_a_repository_query_no_connector_can_run_blocks_with_1413E(integration):
    """Change detection would read every artifact of the projects instead of the query's: a
    collection with a query its connector cannot run blocks its integrations until it is cleared."""
    collection = integration.collection_a
    collection.query = "status = open"
    collection.save()
    assert "CCRRTT-1413E" in codes_of(integration)
    blocker = Blocker.objects.get(code="CCRRTT-1413E")
    assert "“Alpha defects”" in blocker.message and "cannot run a repository query" in blocker.message
    collection.query = ""
    collection.save()
    assert "CCRRTT-1413E" not in codes_of(integration)
