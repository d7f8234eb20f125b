"""The value map offers the repository's and the model's options to pick from (their ids and
labels), says its format where values are free text, and what is picked is saved as the map."""

import pytest
from django.urls import reverse

from integrations.models import FieldMapping


@pytest.fixture
def alpha(collections):
    collection = collections[0]
    collection.mappings.filter(model_fields=["priority"]).delete()
    return collection


def chosen(client, collection, **params) -> str:
    response = client.get(reverse("mapping-transforms", args=[collection.pk]), params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_choosing_two_select_fields_offers_their_options_to_map(admin_client, alpha):
    html = chosen(admin_client, alpha, repository_fields="priority", model_fields="priority")
    assert 'hx-swap-oob="true"' in html and 'data-testid="value-map-to-model"' in html
    # each repository option (the local tracker's priorities) becomes a model option picked by label
    assert '<option value="urgent = high">High (high)</option>' in html
    assert '<option value="high = low">Low (low)</option>' in html
    assert (
        'data-testid="value-map-to-repository"' in html
        and '<option value="low = normal">Normal (normal)' in html
    )


def test_a_text_field_mapped_to_a_select_says_the_format_and_the_options(admin_client, alpha):
    html = chosen(admin_client, alpha, repository_fields="summary", model_fields="priority")
    assert "One line per value: repository value = model option id" in html
    assert "high (High), low (Low)" in html


def test_the_picked_values_are_saved_as_the_map(admin_client, alpha):
    response = admin_client.post(
        reverse("collection-mapping", args=[alpha.pk]),
        {
            "repository_fields": ["priority"],
            "model_fields": ["priority"],
            "direction": "both",
            "transform": "value_map",
            "to_model": ["urgent = high", "high = high", "", "low = low"],
            "to_model_default": "low",
            "to_repository": ["high = urgent", "low = low"],
            "to_repository_default": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    line = FieldMapping.objects.get(collection=alpha, model_fields=["priority"])
    assert line.params["to_model"] == {"urgent": "high", "high": "high", "low": "low"}
    assert line.params["to_repository"] == {"high": "urgent", "low": "low"}


def test_editing_a_line_shows_what_it_maps_now(admin_client, collections):
    line = FieldMapping.objects.get(collection=collections[0], model_fields=["priority"])
    html = admin_client.get(reverse("mapping-edit", args=[collections[0].pk, line.pk])).content.decode()
    assert '<option value="high = high" selected>' in html
