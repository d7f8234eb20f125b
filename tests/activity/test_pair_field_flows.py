"""Pair details list every field of the integration's model and mark the source of one-way fields."""

from activity.models import ArtifactPair
from activity.pair_views import field_rows
from tests.hub.security_fixtures import isolated_security, master_password  # noqa: F401
from tests.integrations.factories import *  # noqa: F403 — the configuration fixtures


def test_one_way_fields_name_their_source_side_and_unsynchronized_fields_are_listed(integration):
    pair = ArtifactPair.objects.create(
        integration_id=integration.pk,
        integration_name=integration.name,
        a_artifact_id="1",
        b_artifact_id="9",
        a_snapshot={"title": "Crash", "priority": "high"},
        b_snapshot={"title": "Crash", "priority": "high"},
    )
    rows = {row["field"]: row for row in field_rows(pair)}
    assert rows["priority"]["one_way_from"] == "A"
    assert rows["title"]["one_way_from"] == ""
    assert rows["due"] == {"field": "due", "a": None, "b": None, "one_way_from": ""}


def test_the_details_page_greys_the_source_of_a_one_way_field(admin_client, integration):
    pair = ArtifactPair.objects.create(
        integration_id=integration.pk,
        a_artifact_id="1",
        b_artifact_id="9",
        a_snapshot={"priority": "high"},
        b_snapshot={"priority": "high"},
    )
    body = admin_client.get(f"/activity/pairs/{pair.pk}/").content.decode()
    assert body.count('class="one-way-source"') == 1
