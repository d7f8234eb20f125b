"""Commit artifacts (11.15) and relationship references (11.06). With a ``commit_message`` model
field, the target collection's mapping from that String field to a Relationship(s) field (the
``formatted_ids`` transform) decides which work items a commit links to: each formatted id the
message names is looked up in the target repository; one that names nothing fails the activity with
1408E and creates nothing. A payload's relationship naming a formatted id is looked up in the
repository the Relationship Field Configuration names."""

from __future__ import annotations

import pytest

from activity.models import ArtifactActivity
from connectors.local import service
from connectors.local.models import LocalItem, LocalProject
from integrations import validation
from integrations.engine import mapping
from integrations.models import FieldMapping, ModelField
from tests.gateway.test_endpoint import drain, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def commits(gateway):
    ModelField.objects.create(
        model=gateway.collection.model,
        key="commit_message",
        label="Commit message",
        type="string",
        position=4,
    )
    tracker = service.tracker("beta")
    project = LocalProject.objects.get(tracker=tracker, key="WEB")
    gateway.item = service.create_item(
        project, "bug", {"summary": "Login hangs"}, reporter=service.hub_user(tracker)
    )
    return gateway


def link_commits(target) -> FieldMapping:
    return FieldMapping.objects.create(
        collection=target,
        repository_fields=["related"],
        repository_field_types={"related": "relationships"},
        model_fields=["commit_message"],
        model_field_types={"commit_message": "string"},
        direction="to_repository",
        transform="formatted_ids",
    )


def test_formatted_ids_are_found_in_a_commit_message_in_order_and_once():
    assert mapping.formatted_ids_in("Fix WEB-1 and WEB-12 (see WEB-1); not web-3 nor WEB-") == [
        "WEB-1",
        "WEB-12",
    ]


def test_commit_artifacts_without_the_link_mapping_are_67001E(commits):
    assert "CCRRTT-67001E" in {p.code for p in validation.problems()}
    link_commits(commits.target)
    assert "CCRRTT-67001E" not in {p.code for p in validation.problems()}


def test_the_commit_message_links_the_commit_to_the_item_it_names(live_server, commits):
    link_commits(commits.target)
    message = f"Fix the login timeout ({commits.item.formatted_id})"
    assert (
        post(live_server, commits, {"title": "Commit 1a2b3c4", "commit_message": message}).status_code == 202
    )
    drain()
    commit = LocalItem.objects.get(summary="Commit 1a2b3c4")
    assert list(commit.related.all()) == [commits.item]


def test_a_message_naming_no_item_fails_with_1408E_and_creates_nothing(live_server, commits):
    link_commits(commits.target)
    post(live_server, commits, {"title": "Commit 5d6e7f8", "commit_message": "Refactor (WEB-999)"})
    drain()
    activity = ArtifactActivity.objects.get(integration_id=commits.integration.pk)
    assert activity.status == "failed" and activity.code == "CCRRTT-1408E" and "WEB-999" in activity.message
    assert not LocalItem.objects.filter(summary="Commit 5d6e7f8").exists()


def test_a_relationship_naming_a_formatted_id_is_looked_up_in_the_configured_repository(
    live_server, commits, repositories
):
    ModelField.objects.create(
        model=commits.collection.model, key="fixes", label="Fixes", type="relationship", position=5
    )
    commits.collection.relationship_repositories = {"fixes": repositories[1].pk}
    commits.collection.save()
    link_commits(commits.target)
    FieldMapping.objects.create(
        collection=commits.target,
        repository_fields=["parent"],
        repository_field_types={"parent": "relationship"},
        model_fields=["fixes"],
        model_field_types={"fixes": "relationship"},
        direction="to_repository",
    )
    body = {
        "title": "Commit 9f8e7d6",
        "commit_message": "no ids here",
        "fixes": {"id": commits.item.formatted_id},
    }
    assert post(live_server, commits, body).status_code == 202
    drain()
    assert LocalItem.objects.get(summary="Commit 9f8e7d6").parent == commits.item
