"""Fuzz of the Gateway's artifact endpoint (Hypothesis, bounded: tests/support/fuzz.py). A valid
model-shaped payload, damaged at random — values of the wrong type or awkward text, keys dropped or
added, bytes cut or flipped — is taken (202) or refused with its code (4xx), never a 5xx; what was
taken is processed to an artifact or refused with a code, and processing never raises."""

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from integrations.gateway import work
from integrations.models import GatewayPayload
from tests.support import fuzz

pytestmark = pytest.mark.django_db

VALID = {"title": "Build 41 failed", "priority": "High", "key": "build-41"}


@st.composite
def bodies(draw):
    how = draw(st.sampled_from(("edited", "edited", "list", "bytes", "any")))
    if how == "edited":
        return json.dumps(fuzz.edited(draw(st.data()), VALID)).encode()
    if how == "list":  # several artifacts in one payload
        return json.dumps(fuzz.edited(draw(st.data()), [VALID, {**VALID, "key": "build-42"}])).encode()
    if how == "bytes":
        return fuzz.damaged_bytes(draw(st.data()), json.dumps(VALID).encode())
    return json.dumps(draw(fuzz.json_values)).encode()


@given(body=bodies())
@example(body=json.dumps(VALID).encode())  # the path of a payload taken, every run
@example(body=b"[" * 100_000 + b"]" * 100_000)
@example(body=b'{"title": NaN}')
@example(body=b'{"title": "\\ud800"}')
@fuzz.bounded()
@fuzz.time_capped()
def test_any_payload_is_taken_or_refused_with_its_code_never_a_server_error(client, gateway, body):
    url = f"/api/v1/gateway/{gateway.collection.pk}/artifacts"
    with fuzz.rolled_back():
        answer = client.post(
            url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {gateway.token}"
        )
        assert answer.status_code < 500, answer.content[:300]
        if answer.status_code != 202:
            assert 400 <= answer.status_code < 500 and answer.json()["code"].startswith("CCRRTT-")
            return
        while work.process_due(worker="fuzz"):
            pass
        payload = GatewayPayload.objects.get(pk=answer.json()["id"])
        assert payload.status != GatewayPayload.Status.RECEIVED, "taken but never processed"
