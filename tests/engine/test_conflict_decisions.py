"""Every conflict decision is recorded on its activity — which fields, both values, which side won —
for every strategy, and can be found in Activity (filter, CSV) and in the pair's details."""

import csv
import io

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from tests.engine.sync import change, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)


def edited_on_both_sides(integration, strategy):
    """Pair an item, change its title in alpha and beta, synchronize."""
    from connectors.local.models import LocalItem

    integration.conflict_strategy = strategy
    integration.save()
    item = new_item("alpha", "DEMO", "Original")
    run(integration)
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    change(item, summary="from alpha")
    change(LocalItem.objects.get(pk=int(pair.b_artifact_id)), summary="from beta")
    run(integration)
    return pair


@pytest.mark.parametrize(("strategy", "winner"), [("a_wins", "A"), ("b_wins", "B"), ("error", "")])
def test_the_decision_names_the_field_both_values_and_the_winner(running, strategy, winner):
    edited_on_both_sides(running, strategy)
    # With Error upon conflict both sides' activities fail, and each records the same decision.
    decided = ArtifactActivity.objects.exclude(conflict="")
    assert decided.exists()
    for activity in decided:
        assert activity.conflicts == [
            {"field": "title", "a": "from alpha", "b": "from beta", "winner": winner, "strategy": strategy}
        ]
        assert activity.conflict == (winner or "none")


def test_a_wins_leaves_a_trace_of_the_value_it_overwrote_on_b(running, admin_client):
    edited_on_both_sides(running, "a_wins")
    body = admin_client.get("/activity/activities/completed/?conflict=A").content.decode()
    assert "Conflict: A won" in body and "from beta" in body


def test_activity_filters_by_conflict_and_its_winner(running, admin_client):
    edited_on_both_sides(running, "b_wins")
    new_item("alpha", "DEMO", "No conflict here")
    run(running)
    completed = ArtifactActivity.objects.filter(status="completed")
    with_conflict = completed.exclude(conflict="").get()

    def listed(query):
        body = admin_client.get(f"/activity/activities/completed/?{query}").content.decode()
        return {a.pk for a in completed if f'id="activities-{a.pk}"' in body}

    assert listed("conflict=any") == listed("conflict=B") == {with_conflict.pk}
    assert listed("conflict=A") == set()
    assert len(listed("")) == completed.count() > 1


def test_the_csv_download_carries_the_decisions(running, admin_client):
    edited_on_both_sides(running, "a_wins")
    response = admin_client.get("/activity/activities/completed/download/?conflict=any")
    [row] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert '"winner": "A"' in row["Conflict decisions"] and "from beta" in row["Conflict decisions"]


def test_pair_details_show_the_decisions_projects_and_collection_pair(running, admin_client):
    pair = edited_on_both_sides(running, "error")
    body = admin_client.get(f"/activity/pairs/{pair.pk}/").content.decode()
    assert "Conflict decisions" in body
    assert "from alpha" in body and "from beta" in body and "No side won" in body
    assert "DEMO" in body and "WEB" in body
    collection_pair = ArtifactActivity.objects.exclude(collection_pair_name="").first().collection_pair_name
    assert collection_pair in body
