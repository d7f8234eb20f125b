"""CCRRTT-0002E: with ``hub.activity.maxErrors`` failed activities, change detection of every
integration pauses behind a global blocker, while the work already recorded (retries included) goes
on; once fewer failures remain, the next detection clears the blocker and finds what changed."""

import pytest

from activity import error_cap
from activity.blockers import blocks_integration
from activity.models import ArtifactActivity, Blocker
from hub import gates
from integrations.engine import detection
from tests.engine.sync import new_item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cap_of_two(settings):
    settings.HUB = type(settings.HUB)(
        home=settings.HUB.home,
        values={**settings.HUB.values, "hub.activity.maxErrors": 2},
        sources=settings.HUB.sources,
    )


def failed(integration, count: int) -> None:
    for number in range(count):
        ArtifactActivity.objects.create(
            integration_id=integration.pk,
            integration_name=integration.name,
            source_side="A",
            artifact_id=f"gone-{number}",
            status=ArtifactActivity.Status.FAILED,
            code="CCRRTT-1000E",
            message="alpha stopped answering",
        )


def test_the_cap_on_failures_pauses_detection_with_0002E_until_fewer_remain(running, cap_of_two):
    failed(running, 2)
    new_item("alpha", "DEMO", "Waits for the pause to end")
    assert detection.detect(running.pk) == 0
    blocker = Blocker.objects.get(code="CCRRTT-0002E")
    assert blocker.impact == Blocker.Impact.ALL and blocker.key == error_cap.KEY
    assert "2 activities have failed" in blocker.message and "at most 2" in blocker.message
    assert "change detection is paused" in blocker.message
    assert not ArtifactActivity.objects.filter(status="pending").exists()
    # Processing (retries of the failures) is not stopped: that is what brings the number down.
    assert gates.integration_work_allowed() == (True, "")
    assert not blocks_integration(running.pk)

    ArtifactActivity.objects.filter(artifact_id="gone-0").delete()
    assert detection.detect(running.pk) == 1
    assert not Blocker.objects.filter(code="CCRRTT-0002E").exists()


def test_no_cap_when_the_maximum_is_zero(running, settings):
    settings.HUB = type(settings.HUB)(
        home=settings.HUB.home,
        values={**settings.HUB.values, "hub.activity.maxErrors": 0},
        sources=settings.HUB.sources,
    )
    failed(running, 3)
    new_item("alpha", "DEMO", "Found")
    assert detection.detect(running.pk) == 1
    assert not Blocker.objects.filter(code="CCRRTT-0002E").exists()


def test_the_0002E_blocker_is_shown_on_every_console_page_and_in_the_api(running, cap_of_two, admin_client):
    failed(running, 2)
    error_cap.check()
    page = admin_client.get("/activity/").content.decode()
    assert "CCRRTT-0002E" in page and "change detection is paused" in page
    answer = admin_client.get("/api/v1/blockers/").json()
    rows = answer["results"] if isinstance(answer, dict) else answer
    assert [row["code"] for row in rows] == ["CCRRTT-0002E"]
