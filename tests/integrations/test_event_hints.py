"""Event hints: a tool's webhook delivery, checked against the repository's secret, queues detection of
just the artifact it names; a forged, unsigned or unreadable one writes nothing. The endpoint takes
no session and no CSRF token (the tool has neither) — an exemption kept explicit and tested here,
while every other change still needs both. The repository screen turns hints on and shows the URL
and the secret to register."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from activity.models import ArtifactActivity
from integrations.engine import hints
from integrations.models import Repository
from tests.engine.cloud import TOOLS, integration_with
from tests.engine.sync import run
from tests.fakes.github import webhook_headers

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "a-webhook-secret-of-the-test"


@pytest.fixture
def tool():
    made = TOOLS["github"]()
    yield made
    made.close()


@pytest.fixture
def hinted(trackers, master_password, licensed, tool, monkeypatch):
    woken = []
    monkeypatch.setattr(hints, "wake", lambda: woken.append(1))
    integration = integration_with(tool)
    repository = integration.collection_b.repository
    repository.event_hints, repository.event_hint_secret = True, SECRET
    repository.save()
    integration.woken = woken
    return integration


def deliver(tool, issue_id: str, *, secret: str = SECRET, event: str = "issues", client=None):
    """The fake's documented payload for ``issue_id``, posted without session or CSRF token."""
    repository = Repository.objects.get(kind=tool.name)
    number = int(issue_id.rsplit("#", 1)[1])
    body = tool.fake.payload(event, "edited", tool.repo, tool.repo.issues[number])
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in webhook_headers(event, body, secret).items()
    }
    headers.pop("HTTP_CONTENT_TYPE")
    client = client or Client(enforce_csrf_checks=True)
    return client.post(
        reverse("event-hint", args=[repository.pk]), data=body, content_type="application/json", **headers
    )


def waiting(issue_id: str):
    return ArtifactActivity.objects.filter(artifact_id=issue_id, status="pending")


def test_a_signed_delivery_queues_just_that_artifact_without_session_or_csrf(hinted, tool):
    first, second = tool.create("First"), tool.create("Second")
    answer = deliver(tool, second)
    assert answer.status_code == 202 and answer.json() == {"artifacts": 1, "queued": 1}
    assert waiting(second).count() == 1 and not waiting(first).exists()
    assert waiting(second).get().source_side == "B" and hinted.woken == [1]


def test_the_hinted_artifact_reaches_its_twin_without_a_poll(hinted, tool):
    from connectors.local.models import LocalItem
    from integrations.engine import processing

    run(hinted)
    remote = tool.create("Before")
    tool.change(remote, title="Changed, then hinted")
    deliver(tool, remote)
    while processing.process_batch(limit=100, worker="test"):
        pass  # no detection ran: only the hint's activity was there to process
    assert LocalItem.objects.get(summary="Changed, then hinted")


@pytest.mark.parametrize("secret", ["not-the-secret", ""], ids=["forged", "unsigned"])
def test_a_delivery_not_signed_with_the_secret_is_refused_and_writes_nothing(hinted, tool, secret):
    remote = tool.create("Target of a forgery")
    answer = deliver(tool, remote, secret=secret or "x")
    if not secret:  # no signature header at all
        repository = Repository.objects.get(kind=tool.name)
        answer = Client(enforce_csrf_checks=True).post(
            reverse("event-hint", args=[repository.pk]),
            data=b'{"issue": {"number": 1}}',
            content_type="application/json",
            HTTP_X_GITHUB_EVENT="issues",
        )
    assert answer.status_code == 401 and answer.json()["error"] == "CCRRTT-61101E"
    assert not ArtifactActivity.objects.exists() and hinted.woken == []


@pytest.mark.parametrize("body", [b"not json", b"[" * 100_000 + b"]" * 100_000], ids=["not-json", "deep"])
def test_an_unreadable_signed_delivery_is_a_400(hinted, tool, body):
    repository = Repository.objects.get(kind=tool.name)
    headers = webhook_headers("issues", body, SECRET)
    answer = Client(enforce_csrf_checks=True).post(
        reverse("event-hint", args=[repository.pk]),
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_HUB_SIGNATURE_256=headers["X-Hub-Signature-256"],
    )
    assert answer.status_code == 400 and not ArtifactActivity.objects.exists()


def test_an_artifact_of_a_project_outside_the_collection_is_not_queued(hinted, tool):
    other = tool.fake.add_repo("octo/elsewhere")
    foreign = tool.fake.new_issue(other, "Not ours")
    repository = Repository.objects.get(kind=tool.name)
    body = tool.fake.payload("issues", "opened", other, foreign)
    headers = webhook_headers("issues", body, SECRET)
    answer = Client().post(
        reverse("event-hint", args=[repository.pk]),
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_HUB_SIGNATURE_256=headers["X-Hub-Signature-256"],
    )
    assert answer.json() == {"artifacts": 1, "queued": 0} and not ArtifactActivity.objects.exists()


def test_hints_turned_off_answer_404_like_an_unknown_hook(hinted, tool):
    remote = tool.create("Anything")
    Repository.objects.filter(kind=tool.name).update(event_hints=False)
    assert deliver(tool, remote).status_code == 404
    assert Client().post("/hooks/999999/", data=b"{}", content_type="application/json").status_code == 404
    assert not ArtifactActivity.objects.exists()


def test_a_missed_delivery_loses_nothing_polling_finds_the_change(hinted, tool):
    from connectors.local.models import LocalItem

    run(hinted)
    tool.create("Never hinted")
    run(hinted)
    assert LocalItem.objects.filter(summary="Never hinted").exists()


def test_other_changes_still_need_the_csrf_token(hinted, administrator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    repository = Repository.objects.get(kind="github")
    assert client.post(reverse("repository-toggle", args=[repository.pk])).status_code == 403
    assert (
        client.post(
            reverse("repository-event-hints", args=[repository.pk]), {"action": "disable"}
        ).status_code
        == 403
    )


# --- the repository screen ----------------------------------------------------------------------


def test_an_administrator_turns_hints_on_and_sees_the_url_and_secret_once(
    trackers, master_password, tool, admin_client
):
    repository = tool.repository()
    page = admin_client.get(reverse("repository-edit", args=[repository.pk])).content.decode()
    assert 'data-testid="event-hints"' in page and "Turn on" in page
    assert 'data-testid="connector-help"' in page
    answer = admin_client.post(reverse("repository-event-hints", args=[repository.pk]), {"action": "enable"})
    repository.refresh_from_db()
    from integrations.secrets import unseal

    secret = unseal(repository.event_hint_secret)
    assert repository.event_hints and len(secret) >= 32
    shown = answer.content.decode()
    assert f"/hooks/{repository.pk}/" in shown and secret in shown
    page = admin_client.get(reverse("repository-edit", args=[repository.pk])).content.decode()
    assert f"/hooks/{repository.pk}/" in page and secret not in page  # not on the page itself
    renewed = admin_client.post(
        reverse("repository-event-hints", args=[repository.pk]), {"action": "new_secret"}
    )
    repository.refresh_from_db()
    assert unseal(repository.event_hint_secret) != secret
    assert unseal(repository.event_hint_secret) in renewed.content.decode()


def test_a_viewer_cannot_turn_hints_on(trackers, master_password, tool, viewer_client):
    repository = tool.repository()
    answer = viewer_client.post(reverse("repository-event-hints", args=[repository.pk]), {"action": "enable"})
    assert answer.status_code == 403
    repository.refresh_from_db()
    assert not repository.event_hints
