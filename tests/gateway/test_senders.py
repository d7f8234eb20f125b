"""Many senders at once, and malformed requests of every kind: every accepted payload is processed
exactly once, every refusal carries its code, and nothing answers 5xx or is half written."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activity.models import ArtifactActivity
from connectors.local.models import LocalItem
from integrations.models import GatewayPayload
from tests.gateway.test_endpoint import drain, post

pytestmark = pytest.mark.django_db(transaction=True)
SENDERS = 20


@pytest.mark.skipif(
    os.environ.get("HUB_TEST_DB", "sqlite") == "sqlite",
    reason="concurrent writers need a server database (the suite's SQLite database is in memory)",
)
def test_twenty_senders_at_once_each_get_202_and_each_payload_is_processed_once(live_server, gateway):
    def send(number: int):
        with requests.Session() as session:
            return [
                session.post(
                    f"{live_server.url}/api/v1/gateway/{gateway.collection.pk}/artifacts",
                    data=json.dumps({"title": f"Sender {number} payload {n}"}),
                    headers={"Authorization": f"Bearer {gateway.token}"},
                    timeout=30,
                ).status_code
                for n in range(3)
            ]

    with ThreadPoolExecutor(SENDERS) as pool:
        answers = [code for codes in pool.map(send, range(SENDERS)) for code in codes]
    assert answers == [202] * SENDERS * 3
    drain()
    summaries = list(LocalItem.objects.values_list("summary", flat=True))
    assert len(summaries) == len(set(summaries)) == SENDERS * 3
    assert ArtifactActivity.objects.filter(status="completed").count() == SENDERS * 3


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(st.sampled_from(["title", "priority", "due", "key", "other"]), JSON, max_size=4).map(
        lambda value: json.dumps(value).encode()
    ),
)
HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "X-GitHub-Event", "X-Custom", "Accept"]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
    max_size=3,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    body=BODIES,
    headers=HEADERS,
    query=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
)
def test_malformed_requests_get_coded_refusals_never_a_5xx(live_server, gateway, body, headers, query):
    answer = post(live_server, gateway, body, path="?" + query.replace("#", ""), **headers)
    assert answer.status_code in (202, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["code"] in ("CCRRTT-30004E", "CCRRTT-30002E")
        assert GatewayPayload.objects.filter(status="refused").exists()
    else:
        assert GatewayPayload.objects.filter(pk=answer.json()["id"], status="received").exists()


def test_after_fuzzing_every_stored_payload_settles(live_server, gateway):
    for body in (b"\xff\xfe", b"[]", b'{"title": "\\ud800"}', b"[1, 2]", b'{"title": "ok"}', b"null"):
        assert post(live_server, gateway, body).status_code in (202, 400)
    drain()
    assert not GatewayPayload.objects.filter(status="received").exists()
    assert not ArtifactActivity.objects.filter(status__in=["pending", "processing"]).exists()
    assert LocalItem.objects.filter(summary="ok").count() == 1


def test_a_busy_database_asks_senders_to_retry_instead_of_failing(live_server, gateway):
    """On the in-memory SQLite database of the suite, concurrent writers meet table locks: the answer
    is 503 with Retry-After, never a 500, and every 202 is stored."""

    def send(number: int):
        answer = post(live_server, gateway, {"title": f"Busy {number}"})
        return answer.status_code, answer.headers.get("Retry-After")

    with ThreadPoolExecutor(SENDERS) as pool:
        answers = list(pool.map(send, range(SENDERS * 2)))
    assert {status for status, _ in answers} <= {202, 503}
    assert all(retry == "1" for status, retry in answers if status == 503)
    assert GatewayPayload.objects.count() == sum(1 for status, _ in answers if status == 202)
