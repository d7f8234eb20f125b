"""The door's cost: an accepted payload is its insert and little else, because what the door knows
of a collection (token, model fields, availability) is kept a second per process; a change of the
configuration is seen at once, not a second later."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.gateway import intake
from integrations.models import GatewayPayload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_door():
    intake.forget()
    yield
    intake.forget()


def post(client, gateway, body):
    return client.post(
        f"/api/v1/gateway/{gateway.collection.pk}/artifacts",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {gateway.token}"},
    )


def test_an_accepted_payload_costs_its_insert_once_the_door_knows_the_collection(client, gateway):
    assert post(client, gateway, {"title": "First"}).status_code == 202
    with CaptureQueriesContext(connection) as queries:
        answer = post(client, gateway, {"title": "Second"})
    assert answer.status_code == 202
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum(s.upper().startswith("INSERT") for s in statements) == 1
    # The insert, and at most the rate-limit count when its tenth of a second is over.
    assert len(statements) <= 2, statements
    assert GatewayPayload.objects.filter(body__contains="Second").exists()


def test_the_first_payload_of_a_collection_is_bounded_too(client, gateway, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert post(client, gateway, {"title": "First"}).status_code == 202


def test_stopping_the_integration_closes_the_door_at_once(client, gateway):
    assert post(client, gateway, {"title": "Open"}).status_code == 202
    gateway.integration.running = False
    gateway.integration.save()
    answer = post(client, gateway, {"title": "Closed"})
    assert answer.status_code == 503 and answer.json()["code"] == "CCRRTT-20000E"
    gateway.integration.running = True
    gateway.integration.save()
    assert post(client, gateway, {"title": "Open again"}).status_code == 202


def test_a_new_token_is_honoured_at_once(client, gateway):
    from integrations.services import new_gateway_token

    assert post(client, gateway, {"title": "Old token"}).status_code == 202
    gateway.token = new_gateway_token(gateway.collection)
    gateway.collection.save()
    assert post(client, gateway, {"title": "New token"}).status_code == 202


def test_a_blocker_closes_the_door_at_once(client, gateway):
    from activity.blockers import clear_blocker, raise_blocker
    from activity.models import Blocker

    assert post(client, gateway, {"title": "Open"}).status_code == 202
    raise_blocker("test:all", "CCRRTT-1401E", "Everything stops.", impact=Blocker.Impact.ALL)
    assert post(client, gateway, {"title": "Blocked"}).status_code == 503
    clear_blocker("test:all")
    assert post(client, gateway, {"title": "Unblocked"}).status_code == 202


def test_a_change_another_process_made_is_seen_once_the_second_is_over(client, gateway, monkeypatch):
    from integrations.models import Integration

    assert post(client, gateway, {"title": "Open"}).status_code == 202
    # QuerySet.update sends no signal: like another process's change, this one is seen only when
    # the door's knowledge expires.
    Integration.objects.filter(pk=gateway.integration.pk).update(running=False)
    assert post(client, gateway, {"title": "Still known"}).status_code == 202
    for known in intake._doors.values():
        known.known_until = 0.0  # the second is over
    assert post(client, gateway, {"title": "Now closed"}).status_code == 503


def test_an_unexpected_failure_is_a_json_500_with_30000E_and_stores_nothing(client, gateway, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(intake.shapes, "problems_of", broken)
    answer = post(client, gateway, {"title": "Unlucky"})
    assert answer.status_code == 500 and answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "CCRRTT-30000E" and "fire" not in answer.json()["message"]
    assert not GatewayPayload.objects.exists()


def test_the_broker_message_is_sent_off_the_request_thread(monkeypatch):
    import threading
    import time

    from integrations.engine import hints

    senders = []
    monkeypatch.setattr(hints, "wake", lambda: senders.append(threading.current_thread().name))
    monkeypatch.setattr(intake, "_last_wake", [0.0])
    intake.wake()
    deadline = time.monotonic() + 5
    while not senders and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for the wake-up thread, with a deadline
    assert senders == ["gateway-wake"]
