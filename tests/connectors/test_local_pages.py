"""The local tracker's pages: viewers look, administrators change items through the same service
the connector uses."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from connectors.local import service
from connectors.local.models import LocalComment, LocalItem, Status


@pytest.fixture
def demo(db):
    project = service.create_project(service.tracker("alpha"), "DEMO", "Demo")
    item = service.create_item(project, "bug", {"summary": "Crash on <save>"})
    return project, item


def test_viewer_sees_items_escaped(viewer_client, demo):
    project, item = demo
    page = viewer_client.get(reverse("local_tracker:project", args=["alpha", "DEMO"]))
    assert page.status_code == 200
    assert "Crash on &lt;save&gt;" in page.content.decode()
    detail = viewer_client.get(reverse("local_tracker:item", args=["alpha", item.pk]))
    assert "DEMO-1" in detail.content.decode()


def test_pages_need_sign_in(client, demo):
    response = client.get(reverse("local_tracker:index"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_viewer_cannot_change_items(viewer_client, demo):
    _, item = demo
    response = viewer_client.post(
        reverse("local_tracker:item-comment", args=["alpha", item.pk]), {"body": "sneaky"}
    )
    assert response.status_code == 403
    assert not LocalComment.objects.exists()


def test_administrator_creates_an_item(admin_client, demo):
    response = admin_client.post(
        reverse("local_tracker:item-new", args=["alpha", "DEMO"]),
        {
            "type": "story",
            "summary": "New story",
            "priority": "high",
            "labels": ["docs"],
            "story_points": "5",
        },
    )
    item = LocalItem.objects.get(summary="New story")
    assert response.status_code == 302 and response["Location"].endswith(f"/items/{item.pk}/")
    assert (item.number, item.priority, item.labels, item.story_points) == (2, "high", ["docs"], 5)
    assert item.reporter.username == "ada"


def test_edit_changes_only_what_was_changed(admin_client, demo):
    _, item = demo
    form = admin_client.get(reverse("local_tracker:item-edit", args=["alpha", item.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, [], "")}
    data.update({"summary": "Crash on save", "revision": str(item.revision)})
    data.pop("labels", None)
    response = admin_client.post(reverse("local_tracker:item-edit", args=["alpha", item.pk]), data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.summary == "Crash on save" and item.revision == 2


def test_edit_over_a_newer_revision_is_refused_and_loses_nothing(admin_client, demo):
    _, item = demo
    service.update_item(item.pk, {"description": "changed by a sync"})
    response = admin_client.post(
        reverse("local_tracker:item-edit", args=["alpha", item.pk]),
        {"summary": "mine", "priority": "normal", "revision": "1"},
    )
    assert response.status_code == 200
    assert "CCRRTT-1112E" in response.content.decode()
    item.refresh_from_db()
    assert item.summary == "Crash on <save>" and item.description == "changed by a sync"


def test_resolving_needs_a_resolution(admin_client, demo):
    _, item = demo
    url = reverse("local_tracker:item-transition", args=["alpha", item.pk])
    refused = admin_client.post(url, {"transition": "resolve"}, follow=True)
    assert "CCRRTT-17003E" in refused.content.decode()
    admin_client.post(url, {"transition": "resolve", "resolution": "fixed"})
    item.refresh_from_db()
    assert (item.status, item.resolution) == (Status.RESOLVED, "fixed")


def test_comment_added_with_htmx_returns_the_list(admin_client, demo):
    _, item = demo
    response = admin_client.post(
        reverse("local_tracker:item-comment", args=["alpha", item.pk]),
        {"body": "Seen on <b>prod</b>", "private": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>" not in html and "Seen on &lt;b&gt;prod&lt;/b&gt;" in html and "private" in html
    comment = LocalComment.objects.get()
    assert comment.private and comment.author.username == "ada"


def test_administrator_creates_a_project(admin_client, db):
    response = admin_client.post(
        reverse("local_tracker:project-new", args=["gamma"]), {"key": "ops", "name": "Ops"}
    )
    assert response.status_code == 302
    again = admin_client.post(
        reverse("local_tracker:project-new", args=["gamma"]), {"key": "OPS", "name": "x"}
    )
    assert "already has a project" in again.content.decode()


def test_the_walk_through_trackers_are_offered_before_they_are_used(admin_client, db):
    from connectors.local.models import LocalTracker

    html = admin_client.get(reverse("local_tracker:index")).content.decode()
    for name in ("alpha", "beta"):
        assert reverse("local_tracker:project-new", args=[name]) in html
    assert not LocalTracker.objects.exists()  # offering them creates nothing


def test_item_list_queries_do_not_grow_with_items(admin_client, demo):
    project, _ = demo
    grace = project.tracker.users.create(username="grace")
    url = reverse("local_tracker:project", args=["alpha", "DEMO"])

    def queries_for_the_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    service.create_item(project, "task", {"summary": "Task 0", "assignee": str(grace.pk)})
    admin_client.get(url)  # the first request of a session may do one-off work (session, roles)
    with_two = queries_for_the_list()
    for n in range(1, 31):
        service.create_item(project, "task", {"summary": f"Task {n}", "assignee": str(grace.pk)})
    assert queries_for_the_list() == with_two
