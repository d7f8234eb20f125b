"""Event hints from Azure DevOps: a service hook's Web Hooks delivery carries Basic credentials with
the repository's secret as password. The fake's documented ``workitem.updated`` payload, posted
to Hub's hook URL without session or CSRF token, queues just that work item; a delivery with other
credentials is refused and writes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from activity.models import ArtifactActivity
from integrations.engine import hints
from tests.engine.cloud import TOOLS, integration_with
from tests.fakes.azure_devops import webhook_headers

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "a-service-hook-secret-of-the-test"


@pytest.fixture
def tool():
    made = TOOLS["azure_devops"]()
    yield made
    made.close()


@pytest.fixture
def hinted(trackers, master_password, licensed, tool, monkeypatch):
    monkeypatch.setattr(hints, "wake", lambda: None)
    integration = integration_with(tool)
    repository = integration.collection_b.repository
    repository.event_hints, repository.event_hint_secret = True, SECRET
    repository.save()
    return integration


def deliver(tool, hinted, work_item: str, secret: str):
    body = tool.fake.payload("workitem.updated", tool.fake.items[int(work_item)])
    authorization = webhook_headers(secret)["Authorization"]
    return Client(enforce_csrf_checks=True).post(
        reverse("event-hint", args=[hinted.collection_b.repository.pk]),
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
    )


def test_a_delivery_with_the_secret_queues_just_that_work_item(hinted, tool):
    first, second = tool.create("First"), tool.create("Second")
    tool.change(second, title="Second, changed")
    answer = deliver(tool, hinted, second, SECRET)
    assert answer.status_code == 202 and answer.json() == {"artifacts": 1, "queued": 1}
    waiting = ArtifactActivity.objects.filter(status="pending")
    assert [a.artifact_id for a in waiting] == [second] and waiting.get().source_side == "B"
    assert not ArtifactActivity.objects.filter(artifact_id=first).exists()


def test_a_delivery_with_other_credentials_is_refused_and_writes_nothing(hinted, tool):
    work_item = tool.create("Hinted")
    answer = deliver(tool, hinted, work_item, "guessed")
    assert answer.status_code == 401 and "CCRRTT-61101E" in answer.content.decode()
    assert not ArtifactActivity.objects.exists()
