"""Fuzz of Apply New License (Hypothesis, bounded: tests/support/fuzz.py). Damaged text, and
licenses whose body holds odd values but carries a valid signature of a trusted key (so the body's
checks are reached), are applied or refused with the reason — never a 5xx — and a refused one
leaves the license in force as it was."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import example, given
from hypothesis import strategies as st

from hub import licensing
from tests.hub.security_fixtures import license_body
from tests.support import fuzz

pytestmark = pytest.mark.django_db


def signed(body, key) -> str:
    """What licensing.sign writes, but for any body: sign refuses to sign what Hub would refuse."""
    signature = base64.b64encode(key.sign(licensing.canonical(body))).decode("ascii")
    document = {"format": licensing.FORMAT, "key": licensing.key_id_of(key.public_key()), "license": body}
    return json.dumps(document | {"signature": signature})


@st.composite
def license_texts(draw, signing_key):
    how = draw(st.sampled_from(("signed body", "signed body", "damaged text", "document", "any text")))
    if how == "signed body":
        return signed(fuzz.edited(draw(st.data()), license_body()), signing_key)
    valid = licensing.sign(license_body(), signing_key)
    if how == "damaged text":
        return fuzz.damaged_bytes(draw(st.data()), valid.encode()).decode("utf-8", "replace")
    if how == "document":
        return json.dumps(fuzz.edited(draw(st.data()), json.loads(valid)))
    return draw(st.text(max_size=300) | st.sampled_from(fuzz.AWKWARD_TEXT))


def apply_license(client, text: str, as_file: bool):
    if as_file:
        return client.post(
            "/settings/license/apply/", {"upload": SimpleUploadedFile("l.license", text.encode())}
        )
    return client.post("/settings/license/apply/", {"text": text})


def test_any_license_text_is_applied_or_refused_never_a_server_error(admin_client, licensed, signing_key):
    @given(text=license_texts(signing_key), as_file=st.booleans())
    @example(text="[" * 100_000 + "]" * 100_000, as_file=True)
    @fuzz.bounded()
    @fuzz.time_capped()
    def check(text, as_file):
        with fuzz.rolled_back():
            before = licensing.current()
            response = apply_license(admin_client, text, as_file)
            assert response.status_code in (302, 400), response.status_code
            if response.status_code == 400:
                assert response.context["form"].errors
                assert licensing.current() == before

    check()
