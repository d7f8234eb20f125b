"""Settings → Extensions: writing, compiling, copying, deleting, the schema panel, the test bench,
and the mapping screen offering extensions only where their types fit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from extensions.models import Extension
from integrations.models import FieldMapping
from integrations.snapshots import ElementType

pytestmark = pytest.mark.django_db

SHOUT = """var inputTypes = 'String';
var outputTypes = 'String';
function transform(context, input) {
  console.log('shouting ' + input);
  return input.toUpperCase();
}
"""


def save(client, pk=None, **data):
    url = reverse("extension-edit", args=[pk]) if pk else reverse("extension-new")
    values = {"name": "Shout", "type": "custom_data_transformation", "description": "", "script": SHOUT}
    values.update(data)
    return client.post(url, values)


def test_settings_lists_extensions_and_stores(admin_client):
    page = admin_client.get(reverse("settings-general")).content.decode()
    assert reverse("extensions") in page  # the Extensions tab
    page = admin_client.get(reverse("extensions")).content.decode()
    assert reverse("kv-stores") in page


def test_a_valid_extension_is_compiled_and_saved(admin_client, extensions_licensed):
    response = save(admin_client)
    extension = Extension.objects.get(name="Shout")
    assert response.status_code == 302 and response.url == reverse("extension-edit", args=[extension.pk])
    assert "compiled" in admin_client.get(response.url).content.decode()


def test_a_syntax_error_is_shown_with_its_line_and_nothing_is_saved(admin_client, extensions_licensed):
    broken = (
        "var inputTypes = 'String';\nvar outputTypes = 'String';\n"
        "function transform(c, i) {\n  return i +;\n}"
    )
    response = save(admin_client, script=broken)
    page = response.content.decode()
    assert response.status_code == 200
    assert "CCRRTT-17011E" in page and "line 4" in page
    assert 'data-error-line="4"' in page
    assert not Extension.objects.exists()


def test_a_script_without_the_entry_points_of_its_type_is_refused(admin_client, extensions_licensed):
    page = save(admin_client, type="person_reconciliation").content.decode()
    assert "mapPersonFromRepository" in page and "mapPersonToRepository" in page
    assert not Extension.objects.exists()


def test_undeclared_types_are_refused(admin_client, extensions_licensed):
    page = save(admin_client, script="function transform(c, i) { return i; }").content.decode()
    assert "inputTypes" in page
    assert not Extension.objects.exists()


def test_an_unknown_declared_type_is_refused(admin_client, extensions_licensed):
    script = "var inputTypes = 'Strnig'; var outputTypes = 'String'; function transform(c, i) { return i; }"
    page = save(admin_client, script=script).content.decode()
    assert "Strnig" in page and "not a field type" in page


def test_a_legacy_for_each_is_accepted_with_a_notice(admin_client, extensions_licensed):
    script = (
        "function transitionArtifact(context, transitions) {\n"
        "  for each (var t in transitions) { if (t.label === 'Close') return t; }\n}"
    )
    response = save(admin_client, name="Closer", type="state_transition", script=script)
    page = admin_client.get(response.url).content.decode()
    assert "rewrote 1 legacy" in page
    assert Extension.objects.get(name="Closer").script == script  # kept as written


def test_an_unlicensed_extension_type_is_refused_with_65001E(admin_client, licensed):
    page = save(admin_client).content.decode()
    assert "CCRRTT-65001E" in page
    assert not Extension.objects.exists()


def test_copy_makes_a_new_extension_with_the_same_script(admin_client, make_extension):
    original = make_extension("Shout", SHOUT)
    response = admin_client.post(reverse("extension-copy", args=[original.pk]))
    copy = Extension.objects.get(name="Copy of Shout")
    assert copy.script == SHOUT and response.url == reverse("extension-edit", args=[copy.pk])


def test_an_extension_in_use_cannot_be_deleted_and_the_refusal_names_its_users(
    admin_client, make_extension, integration
):
    extension = make_extension("Shout", SHOUT)
    line = FieldMapping.objects.filter(collection=integration.collection_b).first()
    line.transform, line.params = "extension", {"to_repository_extension": "Shout"}
    line.save()
    response = admin_client.post(reverse("extension-delete", args=[extension.pk]), follow=True)
    page = response.content.decode()
    assert "in use" in page and "Beta defects" in page and "Alpha ↔ Beta" in page
    assert Extension.objects.filter(pk=extension.pk).exists()
    edit = admin_client.get(reverse("extension-edit", args=[extension.pk])).content.decode()
    assert "Associated Elements (2)" in edit


def test_an_unused_extension_is_deleted_and_recorded(admin_client, make_extension):
    from hub.models import ConfigurationChange

    extension = make_extension("Shout", SHOUT)
    admin_client.post(reverse("extension-delete", args=[extension.pk]))
    assert not Extension.objects.exists()
    assert ConfigurationChange.objects.filter(element_type=ElementType.EXTENSION, action="delete").exists()


def test_the_schema_panel_shows_a_models_fields_and_the_comment_and_person_shapes(admin_client, model):
    page = admin_client.get(reverse("extension-schema"), {"source": f"model:{model.pk}"}).content.decode()
    assert "priority" in page and "High, Low" in page
    assert "comment-content" in page and "display-name" in page


def test_the_schema_panel_shows_a_collections_live_fields(admin_client, collections):
    source = f"collection:{collections[0].pk}"
    page = admin_client.get(reverse("extension-schema"), {"source": source}).content.decode()
    assert "summary" in page and "person-email" in page


def test_the_bench_runs_on_pasted_arguments(admin_client, extensions_licensed, make_extension):
    extension = make_extension("Shout", SHOUT)
    page = admin_client.post(
        reverse("extension-bench", args=[extension.pk]),
        {"source": "json", "arguments": '[{}, "quiet"]'},
    ).content.decode()
    assert "&quot;QUIET&quot;" in page and "shouting quiet" in page and " ms" in page


def test_the_bench_runs_on_a_real_artifact_and_shows_host_calls(
    admin_client, extensions_licensed, make_extension, collections
):
    from tests.engine.sync import new_item

    item = new_item("alpha", "DEMO", "Login fails")
    script = """var inputTypes = 'String'; var outputTypes = 'String';
    function transform(context, input) {
      var person = persons.searchPerson('person-username', 'hub');
      return input + ' / ' + person['person-username'] + ' / ' + context.sourceArtifact.summary;
    }"""
    extension = make_extension("Who", script)
    page = admin_client.post(
        reverse("extension-bench", args=[extension.pk]),
        {"source": "artifact", "collection": collections[0].pk, "artifact": str(item.pk)},
    ).content.decode()
    assert "Login fails / hub / Login fails" in page
    assert "persons.searchPerson" in page


def test_the_bench_shows_a_throw_as_17011E(admin_client, extensions_licensed, make_extension):
    extension = make_extension(
        "Thrower",
        "var inputTypes='String'; var outputTypes='String';function transform(c, i) { throw 'nope'; }",
    )
    page = admin_client.post(
        reverse("extension-bench", args=[extension.pk]), {"source": "json", "arguments": "[{}, 1]"}
    ).content.decode()
    assert "CCRRTT-17011E" in page and "nope" in page


def test_viewers_cannot_change_extensions(viewer_client, make_extension):
    extension = make_extension("Shout", SHOUT)
    assert viewer_client.post(reverse("extension-delete", args=[extension.pk])).status_code == 403
    assert viewer_client.get(reverse("extensions")).status_code == 200


# --- the mapping screen --------------------------------------------------------------------------


def test_the_mapping_screen_offers_an_extension_only_where_its_types_fit(
    admin_client, collections, make_extension
):
    make_extension("Shout", SHOUT)
    make_extension(
        "Long", "var inputTypes='Long'; var outputTypes='String'; function transform(c, i) { return '' + i; }"
    )
    url = reverse("mapping-transforms", args=[collections[0].pk])
    fitting = admin_client.get(
        url, {"repository_fields": ["summary"], "model_fields": ["title"]}
    ).content.decode()
    assert "Custom data transformation (extension)" in fitting
    assert ">Shout<" in fitting and ">Long<" not in fitting
    other = admin_client.get(
        url, {"repository_fields": ["priority"], "model_fields": ["title"]}
    ).content.decode()
    assert "Custom data transformation (extension)" not in other and ">Shout<" not in other


def test_a_mapping_line_with_a_fitting_extension_is_saved(admin_client, collections, make_extension):
    make_extension("Shout", SHOUT)
    collection = collections[0]
    response = admin_client.post(
        reverse("collection-mapping", args=[collection.pk]),
        {
            "repository_fields": ["summary"],
            "model_fields": ["title"],
            "direction": "to_model",
            "transform": "extension",
            "to_model_extension": "Shout",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    line = collection.mappings.get(transform="extension")
    assert line.params["to_model_extension"] == "Shout"
    assert line.params["repository_fields_info"]["summary"]["label"] == "Summary"


def test_a_mapping_line_with_an_extension_that_does_not_fit_is_refused(
    admin_client, collections, make_extension
):
    make_extension(
        "Long", "var inputTypes='Long'; var outputTypes='String'; function transform(c, i) { return '' + i; }"
    )
    response = admin_client.post(
        reverse("collection-mapping", args=[collections[0].pk]),
        {
            "repository_fields": ["summary"],
            "model_fields": ["title"],
            "direction": "to_model",
            "transform": "extension",
            "to_model_extension": "Long",
        },
    )
    assert response.status_code == 200
    assert "CCRRTT-17002E" in response.content.decode()


def test_the_list_offers_exactly_the_four_types(admin_client):
    page = admin_client.get(reverse("extensions")).content.decode()
    offered = [part.split('"')[0] for part in page.split('data-testid="new-')[1:]]
    assert offered == [
        "custom_data_transformation",
        "payload_transformation",
        "person_reconciliation",
        "state_transition",
    ]


def test_the_mapping_screen_warns_of_a_lossy_transformation_from_collection_to_model(
    admin_client, collections, make_extension
):
    make_extension(
        "Concatenate",
        "var inputTypes = ['String', 'Rich Text']; var outputTypes = 'String';"
        "function transform(c, i) { return i[0] + ' ' + i[1]; }",
    )
    url = reverse("mapping-transforms", args=[collections[0].pk])
    page = admin_client.get(
        url, {"repository_fields": ["summary", "description"], "model_fields": ["title"]}
    ).content.decode()
    assert ">Concatenate<" in page
    assert 'data-testid="lossy-warning"' in page and "gives back less than it takes" in page
