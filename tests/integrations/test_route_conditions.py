"""Route conditions in the configuration: the routes screen, the API, the validator and export/import
all carry a route's condition and its place in the order; bad input is refused with a clear message
(CCRRTT-1412E where the catalog has a code) and changes nothing."""

import pytest
from django.urls import reverse

from hub import api_tokens
from integrations import snapshots, transfer, validation
from integrations.models import Route
from tests.integrations.screens import formset_data
from tests.integrations.test_api import Api, build

HIGH = {"field": "priority", "operator": "equals", "value": "high"}
SOON = {"field": "due", "operator": "before", "value": "2026-03-01"}


def codes_and_messages(integration) -> list[tuple[str, str]]:
    validation.validate()
    return sorted((b.code, b.message) for b in validation.problems_of_integration(integration.pk))


def route_rows(integration) -> list[tuple]:
    return [(r.project_a, r.project_b, r.direction, r.condition) for r in integration.routes.all()]


def urgent_route(integration, collections, position: int) -> Route:
    """Collection B also routes to URG; high-priority artifacts of DEMO go there."""
    from integrations.services import set_projects

    set_projects(collections[1], [{"id": "WEB", "key": "WEB"}, {"id": "URG", "key": "URG"}])
    return Route.objects.create(
        integration=integration,
        project_a="DEMO",
        project_b="URG",
        direction="a_to_b",
        condition=HIGH,
        position=position,
    )


# --- the routes screen ------------------------------------------------------------------------


def post_routes(client, integration, rows, initial=0):
    return client.post(
        reverse("integration-routes", args=[integration.pk]), formset_data("routes", rows, initial)
    )


def existing(route, order, **changes) -> dict:
    row = {
        "id": route.pk,
        "ORDER": str(order),
        "project_a": route.project_a,
        "project_b": route.project_b,
        "direction": route.direction,
    }
    return {**row, **changes}


def test_the_screen_saves_conditions_in_the_order_given_and_shows_them(
    admin_client, integration, collections
):
    from integrations.services import set_projects

    set_projects(collections[0], [{"id": "DEMO", "key": "DEMO"}, {"id": "OPS", "key": "OPS"}])
    default = integration.routes.get()
    response = post_routes(
        admin_client,
        integration,
        [
            existing(default, 2),
            {
                "ORDER": "1",
                "project_a": "OPS",
                "project_b": "WEB",
                "direction": "a_to_b",
                "when_field": "priority",
                "when_operator": "in",
                "when_value": "high, low",
            },
        ],
        initial=1,
    )
    assert response.status_code == 302, response.content.decode()
    assert route_rows(integration) == [
        ("OPS", "WEB", "a_to_b", {"field": "priority", "operator": "in", "value": ["high", "low"]}),
        ("DEMO", "WEB", "both", {}),
    ]
    page = admin_client.get(reverse("integration-edit", args=[integration.pk])).content.decode()
    assert 'value="high, low"' in page and '<option value="priority" selected>' in page
    assert codes_and_messages(integration) == []


def test_the_screen_saves_what_happens_to_artifacts_that_meet_no_condition(admin_client, integration):
    default = integration.routes.get()
    rows = formset_data("routes", [existing(default, 1)], initial=1)
    response = admin_client.post(
        reverse("integration-routes", args=[integration.pk]), {**rows, "unmatched_routing": "ignore"}
    )
    assert response.status_code == 302, response.content.decode()
    integration.refresh_from_db()
    assert integration.unmatched_routing == "ignore"
    page = admin_client.get(reverse("integration-edit", args=[integration.pk])).content.decode()
    assert '<option value="ignore" selected>Ignore the artifact</option>' in page
    response = admin_client.post(
        reverse("integration-routes", args=[integration.pk]), {**rows, "unmatched_routing": "shrug"}
    )
    assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    integration.refresh_from_db()
    assert integration.unmatched_routing == "ignore"


def test_a_bad_condition_value_is_refused_on_the_screen_with_1412E_and_nothing_is_lost(
    admin_client, integration
):
    default = integration.routes.get()
    response = post_routes(
        admin_client,
        integration,
        [existing(default, 1, when_field="due", when_operator="before", when_value="next Tuesday")],
        initial=1,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "CCRRTT-1412E: this condition compares “due” with “next Tuesday”, which is not a date "
        "(YYYY-MM-DD) or date and time." in page
    )
    assert 'value="next Tuesday"' in page  # what was typed is still there to correct
    assert route_rows(integration) == [("DEMO", "WEB", "both", {})]


def test_removing_a_routes_condition_makes_it_take_every_artifact(admin_client, integration):
    Route.objects.filter(integration=integration).update(condition=HIGH)
    default = integration.routes.get()
    response = post_routes(admin_client, integration, [existing(default, 1, when_field="")], initial=1)
    assert response.status_code == 302, response.content.decode()
    assert route_rows(integration) == [("DEMO", "WEB", "both", {})]


# --- validation -------------------------------------------------------------------------------


def test_a_condition_on_a_field_the_model_lost_raises_1412E_until_fixed(integration, model):
    Route.objects.filter(integration=integration).update(condition=SOON)
    assert codes_and_messages(integration) == []
    model.fields.get(key="due").delete()
    assert codes_and_messages(integration) == [
        (
            "CCRRTT-1412E",
            "Integration “Alpha ↔ Beta” has a conditional route (DEMO ↔ WEB when due before 2026-03-01) "
            "whose condition refers to the field “due”, which the model does not have.",
        )
    ]
    Route.objects.filter(integration=integration).update(condition=HIGH)
    assert codes_and_messages(integration) == []


@pytest.mark.parametrize(
    "condition, problem",
    [
        ({"field": "priority", "operator": "near", "value": "high"}, "uses the unknown operator “near”"),
        ({"field": "priority", "operator": "equals", "value": "urgent"}, "refers to option(s) urgent"),
        ({"field": "due", "operator": "after", "value": "soon"}, "compares “due” with “soon”"),
        ({"field": "priority", "operator": "in", "value": []}, "is in a list of values but gives none"),
    ],
)
def test_a_bad_operator_or_value_raises_1412E(integration, condition, problem):
    Route.objects.filter(integration=integration).update(condition=condition)
    [(code, message)] = codes_and_messages(integration)
    assert code == "CCRRTT-1412E" and problem in message


def test_a_route_below_an_unconditional_one_from_the_same_project_raises_1412E(integration, collections):
    urgent_route(integration, collections, position=1)
    [(code, message)] = codes_and_messages(integration)
    assert code == "CCRRTT-1412E"
    assert "route (DEMO → URG when priority equals high) that is never chosen" in message
    Route.objects.filter(project_b="WEB").update(position=2)  # tried last: both routes matter now
    assert codes_and_messages(integration) == []


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(administrator, trackers, master_password):
    return Api(api_tokens.create_token(administrator, "route conditions")[1])


def test_the_api_writes_and_reads_conditions_in_order(api):
    integration = build(api)
    routes = [
        {
            "project_a": "DEMO",
            "project_b": "WEB",
            "direction": "a_to_b",
            "condition": {**HIGH, "value": "low"},
        },
    ]
    assert integration["unmatched_routing"] == "error"
    response = api.patch(
        f"/integrations/{integration['id']}/", {"routes": routes, "unmatched_routing": "ignore"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["routes"] == routes
    assert (response.json()["unmatched_routing"], response.json()["blockers"]) == ("ignore", [])
    response = api.patch(
        f"/integrations/{integration['id']}/",
        {"routes": [{"project_a": "DEMO", "project_b": "WEB", "direction": "both", "condition": None}]},
    )
    assert response.json()["routes"] == [
        {"project_a": "DEMO", "project_b": "WEB", "direction": "both", "condition": None}
    ]


@pytest.mark.parametrize(
    "condition, error",
    [
        (
            {"field": "severity", "operator": "equals", "value": "1"},
            "CCRRTT-1412E: route 1: the condition refers to the field “severity”, "
            "which the model does not have.",
        ),
        (
            {"field": "priority", "operator": "in", "value": "high"},
            None,  # a single value for “in” is accepted as a list of one
        ),
        ({"field": "priority", "operator": "near", "value": "high"}, '"near" is not a valid choice.'),
        ({"field": "priority", "operator": "equals", "value": {"x": 1}}, "neither text, a number nor a list"),
        ("priority equals high", "Invalid data. Expected a dictionary, but got str."),
    ],
)
def test_the_api_refuses_a_bad_condition_and_changes_nothing(api, condition, error):
    integration = build(api)
    before = api.get(f"/integrations/{integration['id']}/").json()["routes"]
    response = api.patch(
        f"/integrations/{integration['id']}/",
        {"routes": [{"project_a": "DEMO", "project_b": "WEB", "direction": "both", "condition": condition}]},
    )
    if error is None:
        assert response.status_code == 200, response.json()
        return
    assert response.status_code == 400
    assert error in str(response.json())
    assert api.get(f"/integrations/{integration['id']}/").json()["routes"] == before


def test_the_openapi_schema_describes_a_routes_condition(api):
    import json

    schema = json.loads(api.client.get("/api/v1/schema/", {"format": "json"}, **api.headers).content)
    components = schema["components"]["schemas"]
    route = components["Route"]["properties"]
    assert "condition" in route and route["condition"].get("nullable") is True
    condition = components["RouteCondition"]
    assert set(condition["properties"]) == {"field", "operator", "value"}
    assert set(condition["required"]) == {"field", "operator"}


# --- export and import ------------------------------------------------------------------------


def test_export_and_import_keep_conditions_and_order(integration, collections):
    Route.objects.filter(integration=integration).update(position=1)
    urgent_route(integration, collections, position=0)
    integration.unmatched_routing = "ignore"
    integration.save()
    before = snapshots.snapshot("integration", integration)
    assert before["unmatched_routing"] == "ignore"
    assert before["routes"] == [
        {"project_a": "DEMO", "project_b": "URG", "direction": "a_to_b", "condition": HIGH},
        {"project_a": "DEMO", "project_b": "WEB", "direction": "both", "condition": {}},
    ]
    data = transfer.to_zip([transfer.ExportedChange("update", "integration", integration.name, None, before)])
    Route.objects.filter(integration=integration).delete()
    type(integration).objects.filter(pk=integration.pk).update(unmatched_routing="error")
    result = transfer.apply_changes(transfer.read_zip(data), None)
    assert result.failed is None, result.reason
    integration.refresh_from_db()
    assert snapshots.snapshot("integration", integration) == before
    assert [r.position for r in integration.routes.all()] == [0, 1]


def test_an_import_with_a_malformed_route_stops_with_17031E_and_keeps_the_routes(integration):
    after = snapshots.snapshot("integration", integration)
    after["routes"] = [{"project_a": "DEMO", "project_b": "WEB", "direction": "both", "condition": "high"}]
    result = transfer.apply_changes(
        [transfer.ExportedChange("update", "integration", integration.name, None, after)], None
    )
    assert result.reason == (
        "CCRRTT-17031E: the change does not fit this instance (route 1 is not a route: projects, a direction "
        "and an optional condition object)"
    )
    assert route_rows(integration) == [("DEMO", "WEB", "both", {})]


def test_an_import_with_an_unknown_handling_of_unmatched_artifacts_is_refused(integration):
    after = {**snapshots.snapshot("integration", integration), "unmatched_routing": "shrug"}
    result = transfer.apply_changes(
        [transfer.ExportedChange("update", "integration", integration.name, None, after)], None
    )
    # The model's own validators refuse it, as the screens and the API do.
    assert result.reason.startswith("CCRRTT-30002E: the change is not valid: unmatched_routing:")
    assert "shrug" in result.reason
    integration.refresh_from_db()
    assert integration.unmatched_routing == "error"


def test_an_import_with_a_condition_on_an_unknown_field_applies_and_is_reported_with_1412E(integration):
    after = snapshots.snapshot("integration", integration)
    after["routes"] = [
        {
            "project_a": "DEMO",
            "project_b": "WEB",
            "direction": "both",
            "condition": {**HIGH, "field": "severity"},
        }
    ]
    result = transfer.apply_changes(
        [transfer.ExportedChange("update", "integration", integration.name, None, after)], None
    )
    assert result.failed is None
    assert [code for code, _ in codes_and_messages(integration)] == ["CCRRTT-1412E"]
