"""Every activity names where it went: the target project (for an update too, not only for a
creation) and the collection pair, and the Activity screen shows both."""

import pytest

from activity.models import ArtifactActivity
from tests.engine.sync import change, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_created_and_updated_activities_name_target_project_and_collection_pair(running, admin_client):
    item = new_item("alpha", "DEMO", "First")
    run(running)
    change(item, summary="Second")
    run(running)
    activities = ArtifactActivity.objects.filter(status="completed").order_by("id")
    assert [a.result for a in activities] == ["created", "updated"]
    pair_name = f"{running.collection_a.name} ↔ {running.collection_b.name}"
    for activity in activities:
        assert (activity.target_project, activity.collection_pair_name) == ("WEB", pair_name)
    body = admin_client.get("/activity/activities/completed/").content.decode()
    assert "Target project: WEB" in body and f"Collection pair: {pair_name}" in body
