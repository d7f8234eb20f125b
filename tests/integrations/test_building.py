"""An administrator builds a Work Item Synchronization through the screens and starts it."""

import pytest
from django.urls import reverse

from integrations import services
from integrations.models import FieldMapping
from tests.integrations.screens import create_collection, create_integration, create_model, create_repository


@pytest.fixture
def built(admin_client, trackers, master_password):
    alpha = create_repository(admin_client, "Alpha", "local://alpha")
    beta = create_repository(admin_client, "Beta", "local://beta")
    model = create_model(admin_client)
    a = create_collection(admin_client, "Alpha defects", alpha, model, "DEMO")
    b = create_collection(admin_client, "Beta defects", beta, model, "WEB")
    return create_integration(admin_client, a, b)


def test_an_integration_built_through_the_screens_is_complete_and_runs(admin_client, built):
    built.refresh_from_db()
    assert built.field_flows == {"title": "both", "priority": "a_to_b"}
    assert built.filters["conditions"] == [{"field": "priority", "operator": "in", "value": ["high", "low"]}]
    assert built.comment_flow["a_to_b"] == {"enabled": True, "internal": "skip"}
    assert [(r.project_a, r.project_b) for r in built.routes.all()] == [("DEMO", "WEB")]
    assert services.state(built).state == "stopped"
    admin_client.post(reverse("integration-run", args=[built.pk]))
    built.refresh_from_db()
    assert services.state(built).state == "running"
    page = admin_client.get(reverse("integrations")).content.decode()
    assert "running" in page
    admin_client.post(reverse("integration-stop", args=[built.pk]))
    built.refresh_from_db()
    assert services.state(built).state == "stopped"


def test_a_value_map_keeps_its_default_for_unmapped_values(built):
    mapping = FieldMapping.objects.get(collection__name="Alpha defects", model_fields=["priority"])
    assert mapping.params["to_model"] == {"high": "high", "urgent": "high"}
    assert mapping.params["to_model_default"] == "low"
    assert mapping.repository_field_types == {"priority": "single_select"}


def test_a_running_integration_with_a_problem_is_shown_blocked_with_its_reason(admin_client, built):
    admin_client.post(reverse("integration-run", args=[built.pk]))
    built.routes.all().delete()
    from integrations import validation

    validation.validate()
    built.refresh_from_db()
    state = services.state(built)
    assert state.state == "blocked" and any("CCRRTT-1401E" in r for r in state.reasons)
    assert "CCRRTT-1401E" in admin_client.get(reverse("integrations")).content.decode()


def test_a_transform_that_does_not_fit_the_types_is_refused_with_17002E(admin_client, built):
    collection = built.collection_a
    response = admin_client.post(
        reverse("collection-mapping", args=[collection.pk]),
        {
            "repository_fields": ["due_date"],
            "model_fields": ["title"],
            "direction": "both",
            "transform": "copy",
        },
    )
    assert response.status_code == 200
    assert "CCRRTT-17002E" in response.content.decode()


def test_the_transform_choices_offer_only_what_fits(admin_client, built):
    collection = built.collection_a
    html = admin_client.get(
        reverse("mapping-transforms", args=[collection.pk]),
        {"repository_fields": "due_date", "model_fields": "title"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'value="date_text"' in html and 'value="copy"' not in html


def test_a_value_map_to_an_option_the_model_lacks_is_refused(admin_client, built):
    collection = built.collection_a
    response = admin_client.post(
        reverse("collection-mapping", args=[collection.pk]),
        {
            "repository_fields": ["priority"],
            "model_fields": ["priority"],
            "direction": "both",
            "transform": "value_map",
            "to_model": "high = critical",
        },
    )
    assert "has no option(s) critical" in response.content.decode()


def test_unmapped_model_fields_are_listed_on_the_mapping_screen(admin_client, built):
    html = admin_client.get(reverse("collection-mapping", args=[built.collection_a.pk])).content.decode()
    assert "Summary" in html  # the live schema's labels are offered
    assert "Nothing mapped yet" not in html


def test_changing_a_field_type_in_the_model_editor_flags_the_mappings_to_revisit(admin_client, built):
    from tests.integrations.screens import formset_data

    model = built.collection_a.model
    fields = list(model.fields.all())
    rows = [
        {
            "id": str(fields[0].pk),
            "key": "title",
            "label": "Title",
            "type": "rich_text",
            "required": "on",
            "options_text": "",
        },
        {
            "id": str(fields[1].pk),
            "key": "priority",
            "label": "Priority",
            "type": "single_select",
            "options_text": "high: High",
        },
    ]
    response = admin_client.post(
        reverse("model-edit", args=[model.pk]),
        {"name": "Defect", "description": "", **formset_data("fields", rows, initial=2)},
        follow=True,
    )
    html = response.content.decode()
    assert "CCRRTT-17025E" in html
    assert "changed type" in html and "no longer has" in html
    from activity.models import Blocker

    assert (
        Blocker.objects.filter(code="CCRRTT-17025E").count() == 4
    )  # two lines in each of the two collections


def test_a_select_field_without_options_is_refused(admin_client, db):
    from tests.integrations.screens import formset_data

    response = admin_client.post(
        reverse("model-create"),
        {
            "name": "M",
            **formset_data("fields", [{"key": "state", "label": "State", "type": "single_select"}]),
        },
    )
    assert "needs at least one option" in response.content.decode()


def test_a_model_in_use_cannot_be_deleted(admin_client, built):
    model = built.collection_a.model
    response = admin_client.post(reverse("model-delete", args=[model.pk]), follow=True)
    assert "Alpha defects" in response.content.decode()
    assert type(model).objects.filter(pk=model.pk).exists()
