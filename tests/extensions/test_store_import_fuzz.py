"""Fuzz of the key-value store import (Hypothesis, bounded: tests/support/fuzz.py). CSV and JSON
files — well-formed, damaged or nonsense — are imported whole or refused with a message, never a
5xx, and a refused file changes nothing in the store."""

import csv
import io
import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from extensions import kvstores
from extensions.models import KeyValueStore
from tests.support import fuzz

pytestmark = pytest.mark.django_db

texts = st.text(max_size=40) | st.sampled_from(fuzz.AWKWARD_TEXT)


@pytest.fixture
def store(extensions_licensed):
    store = KeyValueStore.objects.create(name="Lookup", kind="plain")
    kvstores.replace_pairs(store, [("WEB", "Website"), ("API", "Platform")])
    return store


def as_csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


@st.composite
def store_files(draw):
    how = draw(st.sampled_from(("csv", "json", "damaged", "bytes")))
    if how == "csv":
        rows = draw(st.lists(st.lists(texts, min_size=1, max_size=3), max_size=6))
        return draw(st.sampled_from(("a.csv", "A.CSV"))), as_csv(rows)
    document = draw(st.dictionaries(texts, texts, max_size=6))
    content = json.dumps(document).encode()
    if how == "json":  # texts, or values of any JSON type somewhere
        edited = fuzz.edited(draw(st.data()), document) if draw(st.booleans()) else document
        return "a.json", json.dumps(edited).encode()
    if how == "damaged":
        return draw(st.sampled_from(("a.json", "a.csv"))), fuzz.damaged_bytes(draw(st.data()), content)
    return draw(st.sampled_from(("a.json", "a.csv", "a.txt", "a"))), draw(st.binary(max_size=200))


@given(upload=store_files())
@example(upload=("deep.json", b"[" * 100_000 + b"]" * 100_000))
@example(upload=("deep.json", b'{"k": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
@example(upload=("nan.json", b'{"k": NaN}'))
@fuzz.bounded()
@fuzz.time_capped()
def test_any_file_is_imported_whole_or_refused_and_then_changes_nothing(admin_client, store, upload):
    name, content = upload
    with fuzz.rolled_back():
        before = dict(store.pairs.values_list("key", "value"))
        response = admin_client.post(
            reverse("kv-store-import", args=[store.pk]),
            {"file": SimpleUploadedFile(name, content)},
            follow=True,
        )
        assert response.redirect_chain and response.status_code == 200, response.status_code
        messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]  # this import's
        after = dict(store.pairs.values_list("key", "value"))
        if any(level == "error" for level, _ in messages):
            assert after == before, messages
        else:
            assert any("imported" in text for _, text in messages), messages
            assert after == before | dict(kvstores.parse(name, content))
