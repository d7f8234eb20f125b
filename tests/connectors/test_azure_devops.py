"""What the contract kit does not reach in the Azure DevOps connector, against its fake: deletes
reported by the revisions feed, WIQL asked by day, batches of at most 200 ids, the creation marker
kept as a tag through later writes, area and iteration paths, the server's X-RateLimit-Delay and
429, identities on their own host, and service-hook deliveries."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from connectors import registry
from connectors.azure_devops.connector import AzureDevOpsConnector, identity_base
from connectors.errors import CredentialsRefused, RevisionConflict, ValuesNotAccepted
from connectors.types import RepositorySettings
from tests.fakes.azure_devops import AzureDevOpsFake, webhook_headers


@pytest.fixture
def fake():
    with AzureDevOpsFake() as server:
        server.add_project("Fabrikam")
        server.add_identity("Grace Hopper", "grace@example.org")
        yield server


@pytest.fixture
def connector(fake, db):
    settings = RepositorySettings(kind="azure_devops", url=fake.url, token=fake.token, timeout=5)
    with registry.connect(settings) as made:
        yield made


def scan(connector, since, **kwargs):
    items, cursor = [], None
    while True:
        page = connector.changed_since("Fabrikam", since, cursor=cursor, **kwargs)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


def test_a_deleted_work_item_is_reported_by_the_feed(fake, connector):
    kept = connector.create_artifact("Fabrikam", "Bug", {"System.Title": "Kept"})
    gone = connector.create_artifact("Fabrikam", "Bug", {"System.Title": "Gone"})
    watermark = gone.updated
    fake.delete_item(int(gone.id))
    seen = {item.id: item.revision for item in scan(connector, watermark)}
    assert seen[gone.id].endswith("-deleted") and kept.id not in seen
    assert connector.is_deleted(gone.id)


def test_without_the_feed_wiql_asks_by_day_and_reads_exact_times_in_batches(fake, connector):
    fake.reporting = False
    early = connector.create_artifact("Fabrikam", "Bug", {"System.Title": "Early"})
    later = connector.create_artifact("Fabrikam", "Bug", {"System.Title": "Later"})
    fake.reset_requests()
    ids = [item.id for item in scan(connector, later.updated)]
    assert ids == [later.id] and early.id not in ids  # the day brings both; the exact time keeps one
    [wiql] = fake.seen("POST", "/Fabrikam/_apis/wit/wiql")
    assert wiql.query.get("timePrecision") is None  # day precision: the literal is a date only


def test_reads_go_in_batches_of_at_most_200_ids(fake, connector):
    made = [str(fake.new_item("Fabrikam", "Task", f"Task {n}").id) for n in range(450)]
    fake.reset_requests()
    found = connector.read_artifacts([*made, "99999"])
    assert set(found) == set(made)  # the missing one is left out (errorPolicy Omit)
    assert len(fake.seen("POST", "/_apis/wit/workitemsbatch")) == 3


def test_the_creation_marker_is_a_tag_that_later_writes_keep(fake, connector):
    made = connector.create_artifact(
        "Fabrikam", "Bug", {"System.Title": "Marked", "System.Tags": "ui"}, marker="hub-abc123"
    )
    assert made.fields["System.Tags"] == "ui"  # the marker is not shown as a value
    connector.update_artifact(made.id, {"System.Tags": "ui; backend"})
    assert fake.items[int(made.id)].fields["System.Tags"] == "ui; backend; hub-abc123"
    assert connector.find_by_marker("Fabrikam", "Bug", "hub-abc123").id == made.id
    assert connector.find_by_marker("Fabrikam", "Task", "hub-abc123") is None


def test_area_and_iteration_paths_are_options_and_a_wrong_one_names_the_field(connector):
    schema = {f.id: f for f in connector.field_schema("Fabrikam", "Bug")}
    assert [o.id for o in schema["System.AreaPath"].options] == [
        "Fabrikam",
        "Fabrikam\\Backend",
        "Fabrikam\\Frontend",
    ]
    assert "Fabrikam\\Sprint 2" in [o.id for o in schema["System.IterationPath"].options]
    made = connector.create_artifact(
        "Fabrikam", "Bug", {"System.Title": "Placed", "System.IterationPath": "Fabrikam\\Sprint 2"}
    )
    assert made.fields["System.IterationPath"] == "Fabrikam\\Sprint 2"
    with pytest.raises(ValuesNotAccepted) as refused:
        connector.update_artifact(made.id, {"System.AreaPath": "Fabrikam\\Nowhere"})
    assert "System.AreaPath" in refused.value.fields


def test_a_stale_revision_is_refused_whole(fake, connector):
    made = connector.create_artifact("Fabrikam", "Bug", {"System.Title": "One"})
    fake.touch(int(made.id), **{"System.Title": "Two"})
    with pytest.raises(RevisionConflict):
        connector.update_artifact(
            made.id, {"System.Title": "Three", "System.State": "Active"}, expected_revision=made.revision
        )
    assert fake.items[int(made.id)].fields["System.State"] == "New"  # no operation of it applied


def test_the_servers_delay_spaces_the_next_request_and_a_short_429_is_waited_out(fake, connector):
    fake.throttle(delay_after=0, blocked=1, delay=0.3)
    connector.list_projects()  # delayed, and the answer says by how much
    assert connector._pause == pytest.approx(0.3)  # the gap Hub leaves before its next request
    connector.list_projects()  # Hub waits that long first; then blocked once, Retry-After 1 s
    seen = fake.seen("GET", "/_apis/projects")
    assert [s.status for s in seen] == [200, 429, 200]
    assert connector.list_projects()[0].id == "Fabrikam"


def test_identities_are_asked_where_azure_devops_serves_them(fake, connector):
    assert identity_base("https://dev.azure.com/contoso") == "https://vssps.dev.azure.com/contoso/"
    assert identity_base("https://contoso.visualstudio.com") == "https://contoso.vssps.visualstudio.com/"
    assert identity_base("https://tfs.example.org/tfs/Main") == "https://tfs.example.org/tfs/Main/"
    [grace] = connector.find_persons("email", "GRACE@example.org")
    made = connector.create_artifact(
        "Fabrikam", "Bug", {"System.Title": "Hers", "System.AssignedTo": grace.id}
    )
    assert made.fields["System.AssignedTo"] == grace.id
    assert fake.identities[fake.items[int(made.id)].fields["System.AssignedTo"]].unique_name == grace.username


def test_a_service_hook_delivery_names_the_work_item(fake):
    item = fake.new_item("Fabrikam", "Bug", "Hooked")
    fake.touch(item.id, **{"System.Title": "Hooked again"})
    body = fake.payload("workitem.updated", item)
    headers = {k.lower(): v for k, v in webhook_headers("the-secret").items()}
    [hint] = AzureDevOpsConnector.event_hints_from(headers, body, "the-secret")
    assert (hint.project, hint.artifact_id, hint.artifact_type) == ("Fabrikam", str(item.id), "Bug")
    created = json.loads(fake.payload("workitem.created", item))
    assert created["resource"]["id"] == item.id
    forged = {"authorization": "Basic " + base64.b64encode(b"hub:guessed").decode()}
    with pytest.raises(CredentialsRefused):
        AzureDevOpsConnector.event_hints_from(forged, body, "the-secret")
    with pytest.raises(ValuesNotAccepted):
        AzureDevOpsConnector.event_hints_from(headers, b"not json", "the-secret")


def test_comments_count_as_revisions_and_cannot_be_private(connector):
    made = connector.create_artifact("Fabrikam", "Bug", {"System.Title": "Talked about"})
    connector.add_comment(made.id, "<p>First</p>")
    read = connector.read_artifact(made.id)
    assert [c.body for c in read.comments] == ["<p>First</p>"] and read.revision == "2"
    assert read.updated > made.updated - dt.timedelta(seconds=1)


@pytest.mark.parametrize(("reporting", "requests"), [(True, 1), (False, 2)], ids=["feed", "wiql"])
def test_an_idle_poll_costs_one_request_and_an_unknown_project_is_named(fake, connector, reporting, requests):
    """The feed: one request from the watermark. WIQL by day: the query, and one batch reading the
    exact times of what that day changed."""
    from connectors.errors import ProjectNotFound

    fake.reporting = reporting
    made = connector.create_artifact("Fabrikam", "Bug", {"System.Title": "Seen"})
    scan(connector, made.updated)
    fake.reset_requests()
    assert scan(connector, made.updated + dt.timedelta(seconds=5)) == []
    assert len(fake.requests) == requests
    with pytest.raises(ProjectNotFound):
        connector.changed_since("Nowhere", None)
