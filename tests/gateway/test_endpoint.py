"""The endpoint, over real HTTP to the running server: a model-shaped payload is stored before the
202 and becomes an artifact in the target; every refusal has its status and catalog code, writes
nothing to the target, and shows on the Activity screen."""

from __future__ import annotations

import json

import pytest
import requests

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local.models import LocalItem
from integrations.gateway import work
from integrations.models import GatewayPayload
from tests.gateway.conftest import configure

pytestmark = pytest.mark.django_db(transaction=True)


def post(live_server, gateway, body, *, token=None, path="", **headers):
    url = f"{live_server.url}/api/v1/gateway/{gateway.collection.pk}/artifacts{path}"
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"Content-Type": "application/json", **headers}
    headers["Authorization"] = f"Bearer {token if token is not None else gateway.token}"
    return requests.post(url, data=data, headers=headers, timeout=10)


def drain():
    while work.process_due(worker="test"):
        pass


def test_a_model_shaped_payload_is_stored_before_the_answer_and_becomes_an_artifact(live_server, gateway):
    answer = post(live_server, gateway, {"title": "Build 41 failed", "priority": "High"})
    assert answer.status_code == 202
    stored = GatewayPayload.objects.get(pk=answer.json()["id"])
    assert stored.status == "received" and gateway.woken == [1]
    drain()
    item = LocalItem.objects.get(summary="Build 41 failed")
    assert item.project.key == "WEB" and item.priority == "high"
    activity = ArtifactActivity.objects.get(integration_id=gateway.integration.pk)
    assert activity.status == "completed" and activity.result == "created"
    assert (
        activity.source_collection_name == "CI builds" and activity.target_collection_name == "Beta defects"
    )
    pair = ArtifactPair.objects.get(integration_id=gateway.integration.pk)
    assert pair.b_formatted_id == item.formatted_id


def test_an_array_of_artifacts_makes_one_target_artifact_each(live_server, gateway):
    answer = post(live_server, gateway, [{"title": "One"}, {"title": "Two"}])
    assert answer.status_code == 202
    drain()
    assert sorted(LocalItem.objects.values_list("summary", flat=True)) == ["One", "Two"]


def test_processing_twice_writes_once(live_server, gateway):
    post(live_server, gateway, {"title": "Only once"})
    drain()
    drain()
    work.transform_received()
    assert LocalItem.objects.filter(summary="Only once").count() == 1


@pytest.mark.parametrize("token", ["wrong", ""], ids=["wrong-token", "no-token"])
def test_a_wrong_token_gets_a_bare_401_and_nothing_is_stored(live_server, gateway, token):
    answer = post(live_server, gateway, {"title": "Forged"}, token=token)
    assert (
        answer.status_code == 401 and answer.content == b"" and answer.headers["WWW-Authenticate"] == "Bearer"
    )
    assert not GatewayPayload.objects.exists()


def test_an_unknown_collection_looks_like_a_wrong_token(live_server, gateway):
    answer = requests.post(
        f"{live_server.url}/api/v1/gateway/999/artifacts",
        data="{}",
        headers={"Authorization": f"Bearer {gateway.token}"},
        timeout=10,
    )
    assert answer.status_code == 401 and answer.content == b""


def test_a_body_that_is_not_json_is_30004E_and_shows_escaped_on_the_activity_screen(
    live_server, gateway, admin_client
):
    answer = post(live_server, gateway, b"<script>alert(1)</script> not json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "CCRRTT-30004E"
    refusal = ArtifactActivity.objects.get(integration_id=gateway.integration.pk)
    assert refusal.status == "ignored" and refusal.code == "CCRRTT-30004E"
    assert "<script>alert(1)</script>" in refusal.message
    page = admin_client.get("/activity/activities/ignored/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    drain()
    assert not LocalItem.objects.exists()


def test_a_body_with_a_nul_byte_is_30004E_not_a_server_error(live_server, gateway):
    """PostgreSQL's text holds no NUL: the refusal keeps the body with the replacement mark instead
    (found by test_senders.py's fuzzing on PostgreSQL, 2026-12-03)."""
    answer = post(live_server, gateway, b"\xde\x00 not json")
    assert answer.status_code == 400 and answer.json()["code"] == "CCRRTT-30004E"
    refusal = ArtifactActivity.objects.get(integration_id=gateway.integration.pk)
    assert (
        refusal.code == "CCRRTT-30004E"
        and "\x00" not in refusal.message
        and "\ufffd not json" in refusal.message
    )


def test_a_field_key_with_a_nul_character_is_30002E_not_a_server_error(live_server, gateway):
    """The refusal's message quotes the key (found by test_senders.py's fuzzing on PostgreSQL,
    2026-12-04)."""
    answer = post(live_server, gateway, b'{"\\u0000": 1}')
    assert answer.status_code == 400 and answer.json()["code"] == "CCRRTT-30002E"
    refusal = ArtifactActivity.objects.get(integration_id=gateway.integration.pk)
    assert "\x00" not in refusal.message and "“\ufffd” is not a field of the model." in refusal.message


def test_a_body_nested_100000_deep_is_30004E_not_a_server_error(live_server, gateway):
    answer = post(live_server, gateway, b"[" * 100_000 + b"]" * 100_000)
    assert answer.status_code == 400
    refusal = answer.json()
    assert refusal["code"] == "CCRRTT-30004E" and "nested deeper than 64 levels" in refusal["message"]
    drain()
    assert not LocalItem.objects.exists()


def test_a_payload_that_does_not_fit_the_model_is_refused_naming_each_field(live_server, gateway):
    answer = post(live_server, gateway, {"title": 42, "colour": "red", "priority": "Urgent"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "CCRRTT-30002E"
    text = " ".join(body["fields"])
    assert "colour" in text and "Title" in text and "Urgent" in text
    assert GatewayPayload.objects.get().status == "refused"


def test_a_payload_over_the_size_limit_is_413(live_server, gateway, settings):
    configure(settings, **{"hub.gateway.maxPayloadSize": 1})
    answer = post(live_server, gateway, {"title": "x" * (1024 * 1024 + 10)})
    assert answer.status_code == 413 and answer.json()["code"] == "CCRRTT-30002E"
    assert GatewayPayload.objects.get().status == "refused"


def test_a_flood_gets_429_with_retry_after(live_server, gateway, settings):
    configure(settings, **{"hub.gateway.rateLimit": 3})
    answers = [post(live_server, gateway, {"title": f"Flood {n}"}) for n in range(8)]
    limited = [a for a in answers if a.status_code == 429]
    assert [a.status_code for a in answers[:3]] == [202, 202, 202] and limited
    assert limited[0].headers["Retry-After"] == "1" and limited[0].json()["code"] == "CCRRTT-30002E"
    assert GatewayPayload.objects.count() == len(answers) - len(limited)


def test_without_a_running_integration_the_endpoint_answers_503_and_stores_nothing(live_server, gateway):
    gateway.integration.running = False
    gateway.integration.save()
    answer = post(live_server, gateway, {"title": "Nobody listens"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.json()["code"] == "CCRRTT-20000E"
    assert not GatewayPayload.objects.exists()


def test_in_safe_mode_the_endpoint_answers_503(live_server, gateway, settings):
    settings.SAFE_MODE = True
    answer = post(live_server, gateway, {"title": "Safe mode"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]


def test_at_the_cap_on_failed_activities_the_endpoint_answers_503_0002E_and_stored_work_goes_on(
    live_server, gateway, settings
):
    post(live_server, gateway, {"title": "Before the cap"})
    configure(settings, **{"hub.activity.maxErrors": "1"})
    ArtifactActivity.objects.create(
        integration_id=gateway.integration.pk, artifact_id="x", status=ArtifactActivity.Status.FAILED
    )
    drain()  # the write round notices the cap, and still writes what was received before it
    assert LocalItem.objects.filter(summary="Before the cap").exists()
    answer = post(live_server, gateway, {"title": "After the cap"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.json()["code"] == "CCRRTT-0002E" and "hub.activity.maxErrors" in answer.json()["message"]
    assert not GatewayPayload.objects.filter(body__contains="After the cap").exists()


def test_a_blocked_gateway_integration_keeps_its_payloads_until_the_blocker_clears(live_server, gateway):
    from activity.blockers import clear_blocker, raise_blocker
    from activity.models import Blocker

    raise_blocker(
        "test:config",
        "CCRRTT-1401E",
        "A route is missing.",
        impact=Blocker.Impact.AFFECTED,
        integration_ids=[gateway.integration.pk],
    )
    assert post(live_server, gateway, {"title": "Held"}).status_code == 202  # stored, not refused
    drain()
    assert not LocalItem.objects.filter(summary="Held").exists()
    activity = ArtifactActivity.objects.get(integration_id=gateway.integration.pk)
    assert activity.status == ArtifactActivity.Status.PENDING
    clear_blocker("test:config")
    drain()
    assert LocalItem.objects.filter(summary="Held").count() == 1


def test_only_post_is_answered(live_server, gateway):
    answer = requests.get(
        f"{live_server.url}/api/v1/gateway/{gateway.collection.pk}/artifacts",
        headers={"Authorization": f"Bearer {gateway.token}"},
        timeout=10,
    )
    assert answer.status_code == 405
