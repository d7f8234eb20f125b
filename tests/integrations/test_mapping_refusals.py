"""A mapping line that cannot work is refused when it is saved — on the screen (with the form field
at fault marked), through the API and in a configuration import, with the same rule and code
(CCRRTT-17002E) — and a stored one is a blocker until it is fixed."""

import pytest
from django.urls import reverse

from activity.models import Blocker
from hub import api_tokens
from integrations import transfer, validation
from integrations.models import FieldMapping, ModelField
from tests.integrations.test_api import Api


@pytest.fixture
def severity(model):
    """A select field of the model that nothing maps yet."""
    return ModelField.objects.create(
        model=model,
        key="severity",
        label="Severity",
        type="single_select",
        options=[{"id": "major", "label": "Major"}, {"id": "minor", "label": "Minor"}],
        position=5,
    )


@pytest.fixture
def alpha(collections):
    return collections[0]


def post_line(client, collection, **line):
    data = {"direction": "both", **line}
    return client.post(reverse("collection-mapping", args=[collection.pk]), data)


def refused_on(response, field: str) -> str:
    """The errors the response's form shows on ``field`` (asserting the page was not redirected)."""
    assert response.status_code == 200, "the line was saved"
    errors = response.context["form"].errors
    assert field in errors, errors
    return " ".join(errors[field])


def test_a_value_map_from_text_to_a_select_that_maps_nothing_is_refused_on_the_value_map(
    admin_client, alpha, severity
):
    response = post_line(
        admin_client,
        alpha,
        repository_fields=["summary"],
        model_fields=["severity"],
        transform="value_map",
        direction="to_model",
    )
    message = refused_on(response, "to_model")
    assert "CCRRTT-17002E" in message and "String to Single Select is empty" in message
    assert not FieldMapping.objects.filter(collection=alpha, model_fields=["severity"]).exists()


def test_a_value_map_with_a_default_for_the_direction_it_maps_is_accepted(admin_client, alpha, severity):
    response = post_line(
        admin_client,
        alpha,
        repository_fields=["summary"],
        model_fields=["severity"],
        transform="value_map",
        direction="to_model",
        to_model_default="minor",
    )
    assert response.status_code == 302
    assert FieldMapping.objects.filter(collection=alpha, model_fields=["severity"]).exists()


def test_a_constant_without_a_value_is_refused_on_the_value(admin_client, alpha, severity):
    response = post_line(
        admin_client, alpha, repository_fields=["assignee"], model_fields=["severity"], transform="constant"
    )
    assert "CCRRTT-17002E" in refused_on(response, "value")


def test_a_constant_that_is_not_an_option_of_the_select_is_refused(admin_client, alpha, severity):
    response = post_line(
        admin_client,
        alpha,
        repository_fields=["assignee"],
        model_fields=["severity"],
        transform="constant",
        direction="to_model",
        value="blocker",
    )
    assert "major, minor" in refused_on(response, "value")


def test_a_constant_written_into_a_person_field_is_refused_on_the_direction(admin_client, alpha, severity):
    response = post_line(
        admin_client,
        alpha,
        repository_fields=["assignee"],
        model_fields=["severity"],
        transform="constant",
        value="major",
    )
    assert "Person" in refused_on(response, "direction")
    accepted = post_line(
        admin_client,
        alpha,
        repository_fields=["assignee"],
        model_fields=["severity"],
        transform="constant",
        value="major",
        direction="to_model",
    )
    assert accepted.status_code == 302


def test_a_model_field_mapped_from_the_repository_twice_is_refused_on_the_model_fields(admin_client, alpha):
    response = post_line(
        admin_client,
        alpha,
        repository_fields=["description"],
        model_fields=["title"],
        transform="text_format",
    )
    message = refused_on(response, "model_fields")
    assert "CCRRTT-17002E" in message and "summary ↔ title" in message
    assert FieldMapping.objects.filter(collection=alpha, model_fields=["title"]).count() == 1


def test_a_model_field_also_written_to_a_second_repository_field_is_accepted(admin_client, alpha):
    response = post_line(
        admin_client,
        alpha,
        repository_fields=["description"],
        model_fields=["title"],
        transform="text_format",
        direction="to_repository",
    )
    assert response.status_code == 302


def test_saving_a_line_again_is_not_counted_as_mapping_its_field_twice(admin_client, alpha):
    line = FieldMapping.objects.get(collection=alpha, model_fields=["title"])
    response = admin_client.post(
        reverse("mapping-edit", args=[alpha.pk, line.pk]),
        {
            "repository_fields": ["summary"],
            "model_fields": ["title"],
            "direction": "both",
            "transform": "copy",
        },
    )
    assert response.status_code == 302


def test_the_api_refuses_the_same_lines_with_the_same_code_and_field(administrator, alpha, severity):
    api = Api(api_tokens.create_token(administrator, "tests")[1])
    response = api.post(
        f"/collections/{alpha.pk}/mappings/",
        {
            "repository_fields": ["summary"],
            "model_fields": ["severity"],
            "transform": "value_map",
            "direction": "to_model",
        },
    )
    assert response.status_code == 400
    assert "CCRRTT-17002E" in " ".join(response.json()["errors"]["to_model"])
    twice = api.post(
        f"/collections/{alpha.pk}/mappings/",
        {"repository_fields": ["description"], "model_fields": ["title"], "transform": "text_format"},
    )
    assert twice.status_code == 400 and "CCRRTT-17002E" in " ".join(twice.json()["errors"]["model_fields"])
    assert FieldMapping.objects.filter(collection=alpha).count() == 2


def test_an_import_of_a_mapping_with_a_field_mapped_twice_stops_with_17002E(administrator, alpha):
    line = {
        "repository_fields": ["summary"],
        "repository_field_types": {"summary": "string"},
        "model_fields": ["title"],
        "model_field_types": {"title": "string"},
        "direction": "both",
        "transform": "copy",
        "params": {},
    }
    again = {
        **line,
        "repository_fields": ["description"],
        "repository_field_types": {"description": "string"},
    }
    change = transfer.ExportedChange(
        "update", "mapping", alpha.name, before=None, after={"collection": alpha.name, "lines": [line, again]}
    )
    result = transfer.apply_changes([change], administrator)
    assert result.failed is change
    assert result.reason.startswith("CCRRTT-17002E") and "line 2" in result.reason
    assert FieldMapping.objects.filter(collection=alpha).count() == 2  # the mapping as it was


def test_a_stored_line_that_breaks_the_rules_is_a_blocker_of_the_integration(integration):
    alpha = integration.collection_a
    FieldMapping.objects.create(
        collection=alpha,
        repository_fields=["description"],
        repository_field_types={"description": "rich_text"},
        model_fields=["title"],
        model_field_types={"title": "string"},
        transform="text_format",
    )
    validation.validate()
    blocker = Blocker.objects.get(code="CCRRTT-17002E")
    assert "already mapped" in blocker.message and integration.pk in blocker.integration_ids
