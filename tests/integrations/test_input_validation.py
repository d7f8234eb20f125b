"""Bad input gets a clear refusal — never a 500 — and every path that stores configuration (screens,
API, import) runs the same validators: the models' own ``clean()`` and field rules."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hub import api_tokens
from integrations import transfer
from integrations.models import Integration, Model, ModelField, Repository, Route, SqlCollection
from integrations.transfer import ExportedChange
from settings_app.models import SmtpSettings
from tests.integrations.test_api import Api, build


@pytest.fixture
def api(administrator, trackers, master_password):
    return Api(api_tokens.create_token(administrator, "validation")[1])


def refused(response, field: str) -> str:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert field in body["errors"], body
    return " ".join(body["errors"][field])


# --- URLs: one validator for every URL field ---------------------------------------------------


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "ftp://files.example", "http://", "5", "http://a b/"]
)
def test_a_repository_url_must_be_http_https_or_local(api, url):
    response = api.post("/repositories/", {"label": "R", "kind": "local", "url": url})
    refused(response, "url")
    assert not Repository.objects.exists()


def test_the_local_trackers_url_is_accepted(api):
    response = api.post("/repositories/", {"label": "R", "kind": "local", "url": "local://alpha"})
    assert response.status_code == 201


def test_credentials_in_a_repository_url_are_refused_with_a_pointer_to_the_credential_fields(api):
    response = api.post("/repositories/", {"label": "R", "kind": "local", "url": "http://user:canary@host/"})
    assert "password" in refused(response, "url")
    assert "canary" not in response.content.decode()
    assert not Repository.objects.exists()


def test_credentials_in_a_repository_url_are_refused_on_the_screen_too(admin_client, master_password):
    response = admin_client.post(
        reverse("repository-create"),
        {"kind": "local", "label": "R", "url": "http://user:canary@host/", "events_per_minute": "0"},
    )
    assert response.status_code == 200 and "Leave the user name and password out" in response.content.decode()
    assert not Repository.objects.exists()


def test_credentials_in_a_proxy_url_are_refused(api):
    from tests.integrations import probe  # noqa: F401 - registers the probe kind, which has a proxy

    response = api.post(
        "/repositories/",
        {
            "label": "P",
            "kind": "probe",
            "url": "http://x.example",
            "use_proxy": True,
            "proxy_url": "http://u:canary@proxy.example:3128",
        },
    )
    assert "proxy password" in refused(response, "proxy_url")


def test_a_password_in_a_database_url_is_refused(api):
    response = api.post(
        "/sql-collections/", {"name": "S", "database_url": "postgres://hub:canary@db/x", "table": "t"}
    )
    refused(response, "database_url")
    assert not SqlCollection.objects.exists()


def test_credentials_in_the_mail_servers_host_are_refused(db):
    with pytest.raises(ValidationError) as refusal:
        SmtpSettings(host="user:canary@smtp.example").full_clean()
    assert "host" in refusal.value.message_dict


# --- values the API refused only by crashing, or not at all --------------------------------------


def test_model_field_ids_are_lower_case_identifiers(api):
    response = api.post(
        "/models/",
        {"name": "M", "model_fields": [{"id": "<img src=x onerror=alert(26)>", "label": "X"}]},
    )
    refused(response, "model_fields.0.id")
    assert not ModelField.objects.exists()


@pytest.mark.parametrize(
    "options",
    [[{"id": ["a"], "label": "A"}], [{"id": "a", "label": {"x": 1}}], [{"id": "a"}, {"id": "a"}], ["a"], "a"],
)
def test_option_ids_and_labels_are_texts(api, options):
    response = api.post(
        "/models/",
        {"name": "M", "model_fields": [{"id": "p", "label": "P", "options": options}]},
    )
    refused(response, "model_fields.0.options")


def test_a_model_name_over_200_characters_is_refused(api):
    refused(api.post("/models/", {"name": "x" * 1_000_000}), "name")


def test_patching_a_model_field_without_its_id_is_refused_not_a_server_error(api):
    model = api.post("/models/", {"name": "M", "model_fields": [{"id": "a", "label": "A"}]}).json()
    response = api.patch(f"/models/{model['id']}/", {"model_fields": [{"label": "No id"}]})
    refused(response, "model_fields.0.id")
    assert list(ModelField.objects.values_list("key", flat=True)) == ["a"]


def test_mapping_params_given_as_a_list_are_refused_not_a_server_error(api):
    build(api)
    collection = api.get("/collections/").json()[0]["id"]
    response = api.post(
        f"/collections/{collection}/mappings/",
        {"repository_fields": ["summary"], "model_fields": ["title"], "params": ["to_model"]},
    )
    refused(response, "params")


def test_mapping_value_maps_given_as_lists_are_refused(api):
    build(api)
    collection = api.get("/collections/").json()[0]["id"]
    response = api.post(
        f"/collections/{collection}/mappings/",
        {"repository_fields": ["summary"], "model_fields": ["title"], "params": {"to_model": ["x"]}},
    )
    refused(response, "params")


def test_a_select_of_containers_is_mapped_with_its_container_type(api):
    """The ``container_ref`` transform (Redmine's Target version as a Container field) needs the
    type of its containers: refused without it, stored with it (docs/containers.md)."""
    from integrations.models import FieldMapping, RepositoryCollection

    build(api)
    collection = api.get("/collections/").json()[0]["id"]
    model = RepositoryCollection.objects.get(pk=collection).model
    ModelField.objects.create(model=model, key="release", label="Release", type="container", position=20)
    line = {"repository_fields": ["parent"], "model_fields": ["release"], "transform": "container_ref"}
    assert "type of the containers" in refused(
        api.post(f"/collections/{collection}/mappings/", line), "container_type"
    )
    response = api.post(
        f"/collections/{collection}/mappings/", {**line, "params": {"container_type": "version"}}
    )
    assert response.status_code == 201, response.content[:300]
    assert FieldMapping.objects.get(pk=response.json()["id"]).params == {"container_type": "version"}


# --- constraint violations ---------------------------------------------------------------------


ROUTE = {"project_a": "DEMO", "project_b": "WEB", "direction": "both", "condition": None}


@pytest.mark.parametrize("method", ["post", "patch", "put"])
def test_duplicate_routes_are_refused_not_a_server_error(api, method):
    integration = build(api)
    before = list(Route.objects.values_list("project_a", "project_b"))
    path = f"/api/v1/integrations/{integration['id']}/"
    if method == "post":
        body = {"name": "Second", "collection_a": "Alpha defects", "collection_b": "Beta defects"}
        response = api.post("/integrations/", {**body, "routes": [ROUTE, ROUTE]})
    elif method == "patch":
        response = api.patch(f"/integrations/{integration['id']}/", {"routes": [ROUTE, ROUTE]})
    else:
        body = {**api.get(f"/integrations/{integration['id']}/").json(), "routes": [ROUTE, ROUTE]}
        response = api.client.put(path, body, content_type="application/json", **api.headers)
    assert "route 1" in refused(response, "routes").lower()
    assert list(Route.objects.values_list("project_a", "project_b")) == before


def test_an_invalid_cron_is_refused_by_the_api(api):
    integration = build(api)
    refused(api.patch(f"/integrations/{integration['id']}/", {"detection_cron": "#3"}), "detection_cron")
    path = f"/integrations/{integration['id']}/"
    refused(api.patch(path, {"full_scan_cron": "61 * * * *"}), "full_scan_cron")
    assert Integration.objects.get().detection_cron == ""


def test_an_invalid_cron_is_refused_by_the_screen(admin_client, api):
    integration = build(api)
    response = admin_client.post(
        reverse("integration-edit", args=[integration["id"]]),
        {"name": integration["name"], "style": "work_item_sync", "detection_cron": "#3"},
    )
    assert response.status_code == 200 and "cron" in response.content.decode()
    assert Integration.objects.get().detection_cron == ""


def test_a_stored_invalid_cron_does_not_break_run_rename_or_delete(api):
    integration = build(api)
    Integration.objects.filter(pk=integration["id"]).update(detection_cron="#3")  # stored before validation
    assert api.post(f"/integrations/{integration['id']}/run/").status_code == 200
    assert api.post(f"/integrations/{integration['id']}/stop/").status_code == 200
    Integration.objects.filter(pk=integration["id"]).update(detection_cron="")
    assert api.patch(f"/integrations/{integration['id']}/", {"name": "Renamed"}).status_code == 200


# --- import runs the same validators and keeps nothing of a refused change ------------------------


def _import(*changes: ExportedChange, user):
    return transfer.apply_changes(list(changes), user)


def test_import_refuses_a_repository_of_an_unknown_kind_with_a_non_url(administrator, master_password):
    change = ExportedChange(
        "create", "repository", "Bad", None, {"label": "Bad", "kind": "nonexistent", "url": 5}
    )
    result = _import(change, user=administrator)
    assert result.failed is change and "CCRRTT-30003E" in result.reason and "url" in result.reason
    assert not Repository.objects.exists()


def test_import_refuses_a_model_name_of_a_million_characters(administrator):
    change = ExportedChange("create", "model", "x", None, {"name": "x" * 1_000_000, "fields": []})
    result = _import(change, user=administrator)
    assert result.failed is change and "name" in result.reason
    assert not Model.objects.exists()


def test_a_refused_field_rolls_its_whole_change_back(administrator):
    fields = [{"key": "good", "label": "Good"}, {"key": "<img>", "label": "Bad"}]
    change = ExportedChange("create", "model", "M", None, {"name": "M", "fields": fields})
    result = _import(change, user=administrator)
    assert result.failed is change
    assert not Model.objects.exists() and not ModelField.objects.exists()


def test_import_refuses_an_invalid_cron(administrator, master_password, trackers):
    change = ExportedChange("create", "integration", "I", None, {"name": "I", "detection_cron": "#3"})
    result = _import(change, user=administrator)
    assert result.failed is change and "detection_cron" in result.reason
    assert not Integration.objects.exists()


def test_import_refuses_credentials_in_a_url(administrator, master_password):
    after = {"label": "R", "kind": "local", "url": "http://u:canary@h.example/"}
    result = _import(ExportedChange("create", "repository", "R", None, after), user=administrator)
    assert "Leave the user name and password out" in result.reason and "canary" not in result.reason
    assert not Repository.objects.exists()


def test_import_stops_at_the_first_refusal_and_applies_nothing_after_it(administrator, master_password):
    good = ExportedChange("create", "model", "A", None, {"name": "A", "fields": []})
    bad = ExportedChange("create", "model", "B", None, {"name": "", "fields": []})
    later = ExportedChange("create", "model", "C", None, {"name": "C", "fields": []})
    result = _import(good, bad, later, user=administrator)
    assert result.failed is bad and result.remaining == [bad, later]
    assert list(Model.objects.values_list("name", flat=True)) == ["A"]


@pytest.mark.parametrize("timeout", [0, 601, 2**31])
def test_a_connection_timeout_is_from_1_to_600_seconds(api, timeout):
    response = api.post(
        "/repositories/", {"label": "R", "kind": "local", "url": "local://alpha", "timeout": timeout}
    )
    refused(response, "timeout")
