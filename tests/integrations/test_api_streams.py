"""The API sets and reads what the Gateway and Enterprise Data Stream screens set (issue 15): a
gateway collection's model, payload transformation and Relationship Field Configuration, its token
made or rotated and answered once; a SQL collection's model, Test connection and Create table; a
Gateway or EDS integration's collections, more sources, key identifier and twinless update. Each is
judged by the screen's form, so the API refuses with the screen's codes; secrets are never read."""

from __future__ import annotations

import pytest

from hub import api_tokens
from integrations.models import GatewayCollection, Integration, ModelField, SqlCollection
from integrations.secrets import fingerprint
from tests.extensions.conftest import ALL_FEATURES, make_extension  # noqa: F401 - fixtures
from tests.hub.security_fixtures import (  # noqa: F401
    isolated_security,
    issue,
    licensed,
    master_password,
    signing_key,
)
from tests.integrations.factories import *  # noqa: F403
from tests.integrations.factories import mapped_collection
from tests.integrations.test_api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(administrator, trackers, master_password):  # noqa: F811
    return Api(api_tokens.create_token(administrator, "tests")[1])


@pytest.fixture
def all_licensed(db, issue):  # noqa: F811
    from hub import licensing

    return licensing.apply(issue(features=ALL_FEATURES))


@pytest.fixture
def linked(model):
    ModelField.objects.create(model=model, key="parent", label="Parent", type="relationship", position=5)
    return model


def test_a_gateway_collection_needs_a_repository_for_each_relationship_field(api, repositories, linked):
    refused = api.post("/gateway-collections/", {"name": "CI", "model": "Defect"})
    assert refused.status_code == 400
    assert (
        refused.json()["code"] == "CCRRTT-20004E" and "relationship_repositories" in refused.json()["errors"]
    )
    unknown = api.post(
        "/gateway-collections/",
        {"name": "CI", "model": "Defect", "relationship_repositories": {"title": repositories[0].pk}},
    )
    assert unknown.status_code == 400 and "no Relationship(s) field" in unknown.text
    created = api.post(
        "/gateway-collections/",
        {"name": "CI", "model": "Defect", "relationship_repositories": {"parent": repositories[1].pk}},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert len(body["token"]) > 20 and body["relationship_repositories"] == {"parent": repositories[1].pk}
    read = api.get(f"/gateway-collections/{body['id']}/").json()
    assert "token" not in read and read["has_token"] is True and read["extension"] is None
    assert read["relationship_repositories"] == {"parent": repositories[1].pk}
    assert GatewayCollection.objects.get().relationship_repositories == {"parent": repositories[1].pk}
    # A PATCH of the name keeps the configuration.
    assert api.patch(f"/gateway-collections/{body['id']}/", {"name": "CI builds"}).status_code == 200
    assert GatewayCollection.objects.get().relationship_repositories == {"parent": repositories[1].pk}


def test_a_payload_transformation_is_set_by_name_and_needs_the_license(
    api,
    model,
    make_extension,  # noqa: F811
    licensed,  # noqa: F811
):
    make_extension("GitHub issues", "function transformPayload(p) { return [p]; }", "payload_transformation")
    make_extension("Other", "function transform(v) { return v; }")
    body = {"name": "GitHub", "model": "Defect", "extension": "GitHub issues"}
    refused = api.post("/gateway-collections/", body)
    assert refused.status_code == 400 and refused.json()["code"] == "CCRRTT-20006E", refused.json()
    wrong_type = api.post("/gateway-collections/", {**body, "extension": "Other"})
    assert wrong_type.status_code == 400 and "extension" in wrong_type.json()["errors"]


def test_with_the_license_the_transformation_is_kept(api, model, make_extension, all_licensed):  # noqa: F811
    make_extension("GitHub issues", "function transformPayload(p) { return [p]; }", "payload_transformation")
    created = api.post(
        "/gateway-collections/", {"name": "GitHub", "model": "Defect", "extension": "GitHub issues"}
    )
    assert created.status_code == 201, created.json()
    assert api.get(f"/gateway-collections/{created.json()['id']}/").json()["extension"] == "GitHub issues"


def test_rotating_the_token_answers_the_new_one_once_and_the_old_one_stops(api, model):
    created = api.post("/gateway-collections/", {"name": "CI", "model": "Defect"}).json()
    rotated = api.post(f"/gateway-collections/{created['id']}/rotate-token/")
    assert rotated.status_code == 200
    token = rotated.json()["token"]
    assert token != created["token"]
    stored = GatewayCollection.objects.get()
    assert stored.token_hash == fingerprint(token) != fingerprint(created["token"])
    assert "token" not in api.get(f"/gateway-collections/{created['id']}/").json()


def test_a_sql_collection_has_its_model_and_never_shows_its_password(api, model, tmp_path):
    url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    body = {"name": "Reporting", "database_url": url, "table": "defects", "model": "Defect", "password": "pw"}
    created = api.post("/sql-collections/", body)
    assert created.status_code == 201, created.json()
    read = api.get(f"/sql-collections/{created.json()['id']}/").json()
    assert read["model"] == "Defect" and read["password"] is True and "pw" not in str(read)


def test_hubs_own_database_is_refused_with_30015E(api, model, settings):
    own = settings.DATABASES["default"]
    if "sqlite" in own["ENGINE"]:
        if str(own["NAME"]).startswith(("file:", ":memory:")) or "mode=memory" in str(own["NAME"]):
            pytest.skip("the suite's SQLite database is in memory: it has no URL")
        url = f"sqlite:///{own['NAME']}"
    else:
        scheme = "postgres" if "postgresql" in own["ENGINE"] else "mysql"
        where = f"{own.get('HOST') or 'localhost'}:{own.get('PORT')}"
        url = f"{scheme}://{own.get('USER') or 'root'}@{where}/{own['NAME']}"
    body = {"name": "Own", "database_url": url, "table": "t", "model": "Defect"}
    refused = api.post("/sql-collections/", body)
    assert refused.status_code == 400 and refused.json()["code"] == "CCRRTT-30015E", refused.json()


def test_test_connection_and_create_table_through_the_api(api, model, tmp_path):
    url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    body = {"name": "Reporting", "database_url": url, "table": "defects", "model": "Defect"}
    collection = api.post("/sql-collections/", body).json()
    base = f"/sql-collections/{collection['id']}"
    missing = api.post(f"{base}/test-connection/").json()
    assert missing["ok"] is False and missing["code"], missing
    proposed = api.get(f"{base}/table/").json()
    assert proposed["ddl"].upper().startswith("CREATE TABLE") and proposed["digest"]
    stale = api.post(f"{base}/table/", {"confirm": "not the digest"})
    assert stale.status_code == 409 and stale.json()["code"] == "CCRRTT-30002E"
    done = api.post(f"{base}/table/", {"confirm": proposed["digest"]}).json()
    assert done["ok"] is True, done
    assert api.post(f"{base}/test-connection/").json()["ok"] is True


def test_a_table_without_a_model_is_a_conflict_with_10006E(api, tmp_path):
    url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    collection = api.post("/sql-collections/", {"name": "R", "database_url": url, "table": "t"}).json()
    answer = api.get(f"/sql-collections/{collection['id']}/table/")
    assert answer.status_code == 409 and answer.json()["code"] == "CCRRTT-10006E"


@pytest.fixture
def reporting(model, tmp_path):
    return SqlCollection.objects.create(
        name="Reporting", database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}", table="defects", model=model
    )


def test_an_eds_integration_through_the_api(api, repositories, model, reporting, licensed):  # noqa: F811
    mapped_collection("Alpha defects", repositories[0], "DEMO", model)
    mapped_collection("Beta defects", repositories[1], "WEB", model)
    eds = {"name": "Stream", "style": "enterprise_data_stream", "collection_a": "Alpha defects"}
    missing = api.post("/integrations/", eds)
    assert missing.status_code == 400 and missing.json()["code"] == "CCRRTT-10004E", missing.json()
    created = api.post(
        "/integrations/", {**eds, "sql_collection": "Reporting", "more_sources": ["Beta defects"]}
    )
    assert created.status_code == 201, created.json()
    read = api.get(f"/integrations/{created.json()['id']}/").json()
    assert read["sql_collection"] == "Reporting" and read["more_sources"] == ["Beta defects"]
    assert read["collection_b"] is None and read["blockers"] == []
    assert list(Integration.objects.get().more_sources.values_list("name", flat=True)) == ["Beta defects"]
    # The same repository into the same table from a second integration: the screen's 10008E.
    mapped_collection("Alpha operations", repositories[0], "OPS", model)
    shared = api.post(
        "/integrations/",
        {**eds, "name": "Second", "collection_a": "Alpha operations", "sql_collection": "Reporting"},
    )
    assert shared.status_code == 400 and shared.json()["code"] == "CCRRTT-10008E", shared.json()
    # A PATCH is judged whole, as stored plus what it changes.
    patched = api.patch(f"/integrations/{read['id']}/", {"more_sources": []})
    assert patched.status_code == 200 and patched.json()["more_sources"] == []
    other_style = api.patch(f"/integrations/{read['id']}/", {"style": "work_item_sync"})
    assert other_style.status_code == 400
    assert api.patch(f"/integrations/{read['id']}/", {"collection_b": "Beta defects"}).status_code == 400


def gateway_to_beta(api, repositories, model) -> dict:
    """A gateway collection "CI" and a mapped "Beta defects": the body of a Gateway integration."""
    mapped_collection("Beta defects", repositories[1], "WEB", model)
    api.post("/gateway-collections/", {"name": "CI", "model": "Defect"})
    return {
        "name": "CI → Beta",
        "style": "gateway",
        "gateway_collection": "CI",
        "collection_b": "Beta defects",
    }


def test_a_gateway_integration_through_the_api(api, repositories, model, licensed):  # noqa: F811
    body = gateway_to_beta(api, repositories, model)
    twinless = api.post("/integrations/", {**body, "twinless_update": True})
    assert twinless.status_code == 400 and twinless.json()["code"] == "CCRRTT-1410E", twinless.json()
    created = api.post("/integrations/", {**body, "twinless_update": True, "key_identifier": "title"})
    assert created.status_code == 201, created.json()
    read = api.get(f"/integrations/{created.json()['id']}/").json()
    assert read["gateway_collection"] == "CI" and read["twinless_update"] is True
    assert read["key_identifier"] == "title" and read["sql_collection"] is None
    unknown_key = api.patch(f"/integrations/{read['id']}/", {"key_identifier": "nothing"})
    assert unknown_key.status_code == 400 and unknown_key.json()["code"] == "CCRRTT-1416E", unknown_key.json()


def test_a_work_item_sync_has_no_stream_settings(api, repositories, model):
    mapped_collection("Alpha defects", repositories[0], "DEMO", model)
    mapped_collection("Beta defects", repositories[1], "WEB", model)
    answer = api.post(
        "/integrations/",
        {
            "name": "Sync",
            "collection_a": "Alpha defects",
            "collection_b": "Beta defects",
            "twinless_update": True,
        },
    )
    assert answer.status_code == 400 and "twinless_update" in answer.json()["errors"]


def test_preview_of_a_stream_integration_is_a_conflict_not_a_server_error(api, repositories, model):
    """Found by the API contract run once it had a Gateway integration to try: a 500 before."""
    body = gateway_to_beta(api, repositories, model)
    integration = api.post("/integrations/", body).json()
    answer = api.get(f"/integrations/{integration['id']}/preview/")
    assert answer.status_code == 409 and "no second tool" in answer.json()["message"]
