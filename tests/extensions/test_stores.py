"""Key-value stores: the screens, import with clear refusals that change nothing, the 3,000-pair
limit, confidential values sealed and never shown or exported, the reset, and the store API."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from extensions import kvstores
from extensions.errors import ExtensionFailed
from extensions.hosts import HostApis
from extensions.models import MAX_PAIRS, KeyValuePair, KeyValueStore
from extensions.runtime import invoke

pytestmark = pytest.mark.django_db

DOC_JSON = """{
  "jsmith@email.com": "John Smith",
  "ljones@email.com": "Larry Jones",
  "mbrown@email.com": "Mary Brown"
}"""


@pytest.fixture
def plain(extensions_licensed):
    store = KeyValueStore.objects.create(name="Project to Product mapping", kind="plain")
    kvstores.replace_pairs(store, [("WEB", "Website"), ("API", "Platform")])
    return store


@pytest.fixture
def confidential(extensions_licensed, master_password):
    store = KeyValueStore.objects.create(name="EngOps Credentials", kind="confidential")
    kvstores.replace_pairs(store, [("Build Server API token", "s3cr3t-t0ken")])
    return store


def upload(client, store, name, content: bytes):
    return client.post(
        reverse("kv-store-import", args=[store.pk]), {"file": SimpleUploadedFile(name, content)}, follow=True
    )


def test_a_store_is_created_and_pairs_added_with_case_sensitive_keys(admin_client, extensions_licensed):
    admin_client.post(reverse("kv-store-new"), {"name": "Lookup", "kind": "plain"})
    store = KeyValueStore.objects.get(name="Lookup")
    admin_client.post(reverse("kv-store-edit", args=[store.pk]), {"key": "Key", "value": "upper"})
    admin_client.post(reverse("kv-store-edit", args=[store.pk]), {"key": "key", "value": "lower"})
    assert dict(store.pairs.values_list("key", "value")) == {"Key": "upper", "key": "lower"}
    admin_client.post(reverse("kv-store-edit", args=[store.pk]), {"key": "key", "value": "changed"})
    assert dict(store.pairs.values_list("key", "value")) == {"Key": "upper", "key": "changed"}


def test_the_documented_json_file_imports(admin_client, plain):
    page = upload(admin_client, plain, "people.json", DOC_JSON.encode()).content.decode()
    assert "3 pair(s) imported" in page and "Mary Brown" in page
    assert plain.pairs.count() == 5


def test_a_csv_file_imports_key_and_value_columns(admin_client, plain):
    upload(admin_client, plain, "more.csv", b'OPS,Operations\n"A,B","quoted, value"\n')
    assert dict(plain.pairs.values_list("key", "value"))["A,B"] == "quoted, value"


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("dup.json", b'{"a": "1", "a": "2"}', "appears more than once"),
        ("bad.json", b'{"a": ', "not valid JSON"),
        ("list.json", b'["a", "b"]', "one object"),
        ("number.json", b'{"a": 1}', "not a string"),
        ("dup.csv", b"a,1\na,2\n", "appears more than once"),
        ("three.csv", b"a,1,extra\n", "each line is key,value"),
        ("notes.txt", b"a=1", ".csv file"),
        ("latin.csv", "é,1".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_bad_file_is_refused_and_changes_nothing(admin_client, plain, name, content, reason):
    before = list(plain.pairs.values_list("key", "value"))
    page = upload(admin_client, plain, name, content).content.decode()
    assert "Nothing was imported" in page and reason in page
    assert list(plain.pairs.values_list("key", "value")) == before


def test_an_oversized_file_is_refused(admin_client, plain):
    page = upload(
        admin_client, plain, "big.csv", b"k,v\n" * (kvstores.MAX_IMPORT_BYTES // 4 + 1)
    ).content.decode()
    assert "larger than" in page


def test_a_store_holds_at_most_3000_pairs(admin_client, plain):
    content = "\n".join(f"k{i},v{i}" for i in range(MAX_PAIRS - 1)).encode()
    page = upload(admin_client, plain, "many.csv", content).content.decode()
    assert "at most 3,000" in page
    assert plain.pairs.count() == 2


def test_confidential_values_are_sealed_and_never_shown(admin_client, confidential):
    pair = confidential.pairs.get()
    assert pair.value == "" and pair.sealed is not None
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed FROM extensions_keyvaluepair WHERE id = %s", [pair.pk])
        assert "s3cr3t" not in cursor.fetchone()[0]
    page = admin_client.get(reverse("kv-store-edit", args=[confidential.pk])).content.decode()
    assert "Build Server API token" in page and "s3cr3t-t0ken" not in page and "stored encrypted" in page


def test_a_master_password_reset_erases_confidential_values_and_says_so(admin_client, confidential):
    response = admin_client.post(
        reverse("settings-master-password-reset"),
        {
            "new_password": "A whole new master password 2",
            "confirm": "A whole new master password 2",
            "new_password_again": "A whole new master password 2",
            "acknowledge": "on",
            "confirmation": "RESET",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "confidential key-value pairs" in page, page[-3000:]
    assert confidential.pairs.get().sealed is None
    edit = admin_client.get(reverse("kv-store-edit", args=[confidential.pk])).content.decode()
    assert "erased" in edit


def test_key_value_stores_are_refused_without_the_license(admin_client, licensed):
    page = admin_client.post(
        reverse("kv-store-new"), {"name": "S", "kind": "plain"}, follow=True
    ).content.decode()
    assert "CCRRTT-65001E" in page and not KeyValueStore.objects.exists()


# --- the store API, as the documentation uses it ----------------------------------------------------


def run(script: str):
    return invoke(
        f"function transform(context, input) {{ {script} }}", "transform", [{}, None], HostApis()
    ).value


def test_retrieve_value(confidential):
    assert (
        run("return store.retrieveValue('EngOps Credentials', 'Build Server API token');") == "s3cr3t-t0ken"
    )


def test_retrieve_pairs(plain):
    assert run("return store.retrievePairs('Project to Product mapping');") == {
        "WEB": "Website",
        "API": "Platform",
    }


def test_pairs_of_stores_join_with_object_assign(plain):
    other = KeyValueStore.objects.create(name="Value-Stream mapping")
    kvstores.replace_pairs(other, [("OPS", "Operations"), ("API", "Core")])
    merged = run(
        "var pairs = store.retrievePairs('Project to Product mapping');"
        "var morePairs = store.retrievePairs('Value-Stream mapping');"
        "var merged = Object.assign(pairs, morePairs); return merged;"
    )
    assert merged == {"WEB": "Website", "API": "Core", "OPS": "Operations"}


def test_a_missing_store_or_key_throws_not_found_exception(plain):
    caught = run(
        "var seen = [];"
        "try { store.retrieveValue('Nope', 'x'); } catch (e) { seen.push(e.name); }"
        "try { store.retrieveValue('Project to Product mapping', 'web'); } catch (e) { seen.push(e.name); }"
        "try { store.retrievePairs('Nope'); } catch (e) { seen.push(e instanceof NotFoundException); }"
        "return seen;"
    )
    assert caught == ["NotFoundException", "NotFoundException", True]


def test_an_uncaught_not_found_exception_is_17011E(plain):
    with pytest.raises(ExtensionFailed, match="NotFoundException"):
        run("return store.retrieveValue('Project to Product mapping', 'missing');")


def test_retrieve_pairs_is_refused_on_a_confidential_store(confidential):
    with pytest.raises(ExtensionFailed, match="confidential"):
        run("return store.retrievePairs('EngOps Credentials');")


def test_the_store_api_is_refused_without_the_license(licensed):
    KeyValueStore.objects.create(name="S")
    with pytest.raises(Exception) as failure:
        run("return store.retrieveValue('S', 'k');")
    assert getattr(failure.value, "code", "") == "CCRRTT-65001E"


# --- history and export/import ------------------------------------------------------------------


def test_stores_are_in_history_and_exports_leave_confidential_values_out(admin_client, confidential):
    from hub.models import ConfigurationChange
    from integrations import transfer

    admin_client.post(
        reverse("kv-store-edit", args=[confidential.pk]), {"key": "Deploy token", "value": "d3pl0y"}
    )
    change = ConfigurationChange.objects.filter(element_type="key-value store").latest("time")
    assert change.after == {
        "name": "EngOps Credentials",
        "kind": "confidential",
        "keys": ["Build Server API token", "Deploy token"],
    }
    exported = transfer.export(ConfigurationChange.objects.all())
    assert b"d3pl0y" not in exported and b"s3cr3t" not in exported


def test_an_imported_confidential_store_waits_for_its_values(confidential, administrator):
    from integrations import transfer

    change = transfer.ExportedChange(
        "create",
        "key-value store",
        "Imported secrets",
        None,
        {"name": "Imported secrets", "kind": "confidential", "keys": ["token"]},
    )
    result = transfer.apply_changes([change], administrator)
    assert result.failed is None, result.reason
    pair = KeyValuePair.objects.get(store__name="Imported secrets")
    assert pair.key == "token" and pair.sealed is None


def test_extensions_travel_by_name(administrator, extensions_licensed):
    from extensions.models import Extension
    from integrations import transfer

    data = {"name": "Shout", "type": "custom_data_transformation", "description": "", "script": "x"}
    result = transfer.apply_changes(
        [transfer.ExportedChange("create", "extension", "Shout", None, data)], administrator
    )
    assert result.failed is None, result.reason
    assert Extension.objects.get(name="Shout").script == "x"
    assert json.dumps(data)
