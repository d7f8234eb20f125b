"""Sortable list screens: ?sort=<column> (or -<column>, descending) orders the integrations,
repositories, collections and Activity lists on the server, by whitelisted columns only; the
headers say which order is current (aria-sort) and link to the other one."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from activity.models import ArtifactActivity
from hub.sorting import Column, Sorting
from integrations.models import Integration, Repository

pytestmark = pytest.mark.django_db

COLUMNS = (Column("name", "Name", ("name",)), Column("created", "Created", ("created",)))


def order_of(page: str, names) -> list[str]:
    """``names`` sorted by where they first appear in ``page``."""
    return sorted(names, key=page.index)


def test_an_unknown_or_injected_sort_value_falls_back_to_the_default():
    for value in ("password", "-name;drop", "--name", "<script>"):
        sorting = Sorting(QueryDict(f"sort={value}"), COLUMNS, default="name")
        assert (sorting.key, sorting.descending, sorting.value) == ("name", False, "")
        assert sorting.order_by() == ["name", "pk"]


def test_headers_toggle_the_current_column_and_keep_the_other_parameters():
    headers = Sorting(QueryDict("q=x&sort=name&page=3"), COLUMNS, default="created").headers()
    assert (headers["name"].state, headers["name"].url) == ("ascending", "?q=x&sort=-name")
    assert (headers["created"].state, headers["created"].url) == ("none", "?q=x&sort=created")
    descending = Sorting(QueryDict("sort=-name"), COLUMNS, default="created").headers()["name"]
    assert (descending.state, descending.url) == ("descending", "?sort=name")


def test_repositories_sort_by_label_both_ways(admin_client, master_password):
    for label in ("Bravo", "Alpha", "Charlie"):
        Repository.objects.create(label=label, kind="local", url=f"local://{label.lower()}")
    url = reverse("repositories")
    page = admin_client.get(url).content.decode()
    assert order_of(page, ["Bravo", "Alpha", "Charlie"]) == ["Alpha", "Bravo", "Charlie"]
    page = admin_client.get(url, {"sort": "-label"}).content.decode()
    assert order_of(page, ["Bravo", "Alpha", "Charlie"]) == ["Charlie", "Bravo", "Alpha"]
    assert 'aria-sort="descending"' in page and 'href="?sort=label"' in page


def test_a_sort_value_from_the_request_is_never_echoed(admin_client, master_password):
    page = admin_client.get(reverse("repositories"), {"sort": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)" not in page and "alert(1)" not in page


def test_collections_sort_by_repository(admin_client, collections):
    url = reverse("collections")
    page = admin_client.get(url, {"sort": "-repository"}).content.decode()
    assert order_of(page, ["Alpha defects", "Beta defects"]) == ["Beta defects", "Alpha defects"]
    page = admin_client.get(url, {"sort": "repository"}).content.decode()
    assert order_of(page, ["Alpha defects", "Beta defects"]) == ["Alpha defects", "Beta defects"]


def test_integrations_sort_by_name(admin_client, integration):
    Integration.objects.create(name="Zulu sync", collection_a=integration.collection_a)
    url = reverse("integrations")
    page = admin_client.get(url, {"sort": "-name"}).content.decode()
    assert order_of(page, ["Alpha ↔ Beta", "Zulu sync"]) == ["Zulu sync", "Alpha ↔ Beta"]
    assert 'data-testid="sort-name"' in page and 'aria-sort="descending"' in page


def test_the_activity_list_sorts_by_artifact_and_keeps_the_filters(admin_client):
    for formatted in ("DEMO-2", "DEMO-1", "DEMO-3"):
        ArtifactActivity.objects.create(
            integration_id=1,
            integration_name="Sync",
            source_side="A",
            artifact_id=formatted,
            formatted_id=formatted,
            status="failed",
            code="CCRRTT-1000E",
            message="down",
        )
    url = reverse("activity-list", args=["activities", "failed"])
    page = admin_client.get(url, {"sort": "artifact", "q": "DEMO"}).content.decode()
    assert order_of(page, ["DEMO-2", "DEMO-1", "DEMO-3"]) == ["DEMO-1", "DEMO-2", "DEMO-3"]
    assert "q=DEMO&amp;sort=-artifact" in page  # the header's link keeps the filter
    page = admin_client.get(url, {"sort": "-artifact"}).content.decode()
    assert order_of(page, ["DEMO-2", "DEMO-1", "DEMO-3"]) == ["DEMO-3", "DEMO-2", "DEMO-1"]
