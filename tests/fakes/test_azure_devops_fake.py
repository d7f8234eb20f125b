"""The Azure DevOps fake kept honest: Microsoft's ``azure-devops`` Python client (code nobody here
wrote) discovers its routes on the fake, then creates, reads, updates, queries, comments on,
attaches to and pages through work items without an error; and the fake's rules that clients rarely
meet: the 200-id batch limit, WIQL's day precision, the 412 of a stale ``test /rev``, deletes in the
reporting feed, throttling that delays before it blocks."""

from __future__ import annotations

import io
import os
import tempfile

import httpx
import pytest

# The client caches discovered routes in the user's home unless told otherwise, at import time.
os.environ.setdefault("AZURE_DEVOPS_CACHE_DIR", tempfile.mkdtemp(prefix="hub-azure-devops-cache-"))

from azure.devops.connection import Connection  # noqa: E402
from azure.devops.exceptions import AzureDevOpsServiceError  # noqa: E402
from azure.devops.v7_1.work_item_tracking.models import (  # noqa: E402
    CommentCreate,
    TeamContext,
    Wiql,
    WorkItemBatchGetRequest,
)
from msrest.authentication import BasicAuthentication  # noqa: E402

from tests.fakes.azure_devops import AzureDevOpsFake  # noqa: E402


@pytest.fixture
def fake():
    with AzureDevOpsFake() as server:
        server.add_project("Fabrikam")
        yield server


@pytest.fixture
def wit(fake):
    connection = Connection(base_url=fake.url, creds=BasicAuthentication("", fake.token))
    return connection.clients_v7_1.get_work_item_tracking_client()


def patch(**fields):
    return [{"op": "add", "path": f"/fields/{name}", "value": value} for name, value in fields.items()]


def rest(fake) -> httpx.Client:
    return httpx.Client(base_url=fake.url, auth=("", fake.token), params={"api-version": "7.1"})


def test_the_client_creates_reads_and_updates_a_work_item(wit):
    made = wit.create_work_item(patch(**{"System.Title": "Crash on save"}), "Fabrikam", "Bug")
    assert made.rev == 1 and made.fields["System.State"] == "New"
    wit.update_work_item(
        [{"op": "test", "path": "/rev", "value": 1}, *patch(**{"System.AreaPath": "Fabrikam\\Backend"})],
        made.id,
    )
    read = wit.get_work_item(made.id)
    assert (read.rev, read.fields["System.AreaPath"]) == (2, "Fabrikam\\Backend")
    assert read.fields["System.TeamProject"] == "Fabrikam"


def test_a_stale_revision_refuses_the_whole_patch_with_412(wit, fake):
    made = wit.create_work_item(patch(**{"System.Title": "Before"}), "Fabrikam", "Bug")
    fake.touch(made.id, **{"System.Title": "Changed by someone else"})
    stale = [{"op": "test", "path": "/rev", "value": 1}, *patch(**{"System.Title": "Mine"})]
    with pytest.raises(AzureDevOpsServiceError) as refused:
        wit.update_work_item(stale, made.id)
    assert fake.seen("PATCH")[-1].status == 412 and "TF26071" in refused.value.message
    assert wit.get_work_item(made.id).fields["System.Title"] == "Changed by someone else"


def test_the_client_queries_by_wiql_and_reads_in_batches_of_at_most_200(wit, fake):
    for n in range(205):
        fake.new_item("Fabrikam", "Task", f"Task {n}")
    query = Wiql(
        query="SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project "
        "AND [System.ChangedDate] >= '2000-01-01' ORDER BY [System.Id] ASC"
    )
    ids = [
        row.id for row in wit.query_by_wiql(query, team_context=TeamContext(project="Fabrikam")).work_items
    ]
    assert len(ids) == 205
    first = wit.get_work_items_batch(WorkItemBatchGetRequest(ids=ids[:200], fields=["System.Title"]))
    assert len(first) == 200 and first[0].fields == {"System.Title": "Task 0"}
    with pytest.raises(AzureDevOpsServiceError) as refused:
        wit.get_work_items_batch(WorkItemBatchGetRequest(ids=ids))
    assert "VS403474" in str(refused.value)


def test_wiql_compares_dates_by_day_unless_time_precision_is_asked_for(fake):
    fake.new_item("Fabrikam", "Bug", "Today")
    with rest(fake) as client:
        timed = "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= '2020-01-31T13:45:00Z'"
        refused = client.post("/Fabrikam/_apis/wit/wiql", json={"query": timed})
        assert refused.status_code == 400 and "VS402625" in refused.json()["message"]
        precise = client.post(
            "/Fabrikam/_apis/wit/wiql", json={"query": timed}, params={"timePrecision": "true"}
        )
        assert [w["id"] for w in precise.json()["workItems"]] == [1]


def test_the_client_comments_and_pages_through_comments(wit, fake):
    made = wit.create_work_item(patch(**{"System.Title": "Discussed"}), "Fabrikam", "Bug")
    for n in range(5):
        wit.add_comment(CommentCreate(text=f"comment {n}"), "Fabrikam", made.id)
    first = wit.get_comments("Fabrikam", made.id, top=2)
    assert [c.text for c in first.comments] == ["comment 0", "comment 1"] and first.total_count == 5
    rest_of_them = wit.get_comments("Fabrikam", made.id, top=10, continuation_token=first.continuation_token)
    assert [c.text for c in rest_of_them.comments] == ["comment 2", "comment 3", "comment 4"]
    assert wit.get_work_item(made.id).rev == 6  # each comment is a revision


def test_the_client_uploads_an_attachment_and_links_it(wit, fake):
    made = wit.create_work_item(patch(**{"System.Title": "With a log"}), "Fabrikam", "Bug")
    stored = wit.create_attachment(io.BytesIO(b"log bytes"), project="Fabrikam", file_name="trace.log")
    link = {"op": "add", "path": "/relations/-", "value": {"rel": "AttachedFile", "url": stored.url}}
    wit.update_work_item([link], made.id)
    [relation] = wit.get_work_item(made.id, expand="Relations").relations
    assert relation.attributes["name"] == "trace.log" and relation.attributes["resourceSize"] == 9
    assert b"".join(wit.get_attachment_content(stored.id)) == b"log bytes"


def test_the_client_pages_the_reporting_feed_and_it_reports_deletes(wit, fake):
    """The client and the contract disagree here: its generated ``ReportingWorkItemRevisionsBatch``
    declares no attributes, so it drops the whole answer. The published contract (``{values,
    nextLink, continuationToken, isLastBatch}``) decides; the pages are read through the client's
    own transport and route discovery, as its method sends them."""
    items = [fake.new_item("Fabrikam", "Bug", f"Bug {n}") for n in range(5)]
    fake.touch(items[0].id, **{"System.Title": "Bug 0 again"})
    fake.delete_item(items[1].id)
    assert wit.read_reporting_revisions_get(project="Fabrikam", include_deleted=True).values is None
    seen, token = [], None
    while True:
        parameters = {
            "includeDeleted": "true",
            "$maxPageSize": 2,
            **({"continuationToken": token} if token else {}),
        }
        batch = wit._send(
            http_method="GET",
            location_id="f828fe59-dd87-495d-a17c-7a8d6211ca6c",
            version="7.1-preview.2",
            route_values={"project": "Fabrikam"},
            query_parameters=parameters,
        ).json()
        seen += [(v["id"], v["rev"], bool(v["fields"].get("System.IsDeleted"))) for v in batch["values"]]
        token = batch["continuationToken"]
        if batch["isLastBatch"]:
            break
    assert (items[0].id, 2, False) in seen and (items[0].id, 1, False) in seen  # every revision
    assert (items[1].id, 1, True) in seen  # the delete, which no other read shows
    with rest(fake) as client:
        assert client.get(f"/_apis/wit/workItems/{items[1].id}").status_code == 404
        after = client.get(
            "/Fabrikam/_apis/wit/reporting/workItemRevisions", params={"continuationToken": token}
        )
        assert after.json()["values"] == []  # the watermark: nothing new since


def test_throttling_delays_first_then_blocks_with_retry_after(fake):
    fake.throttle(delay_after=1, blocked=1, delay=0.05)
    with rest(fake) as client:
        assert "X-RateLimit-Delay" not in client.get("/_apis/projects").headers
        delayed = client.get("/_apis/projects")
        assert delayed.status_code == 200 and float(delayed.headers["X-RateLimit-Delay"]) == 0.05
        blocked = client.get("/_apis/projects")
        assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "1"
        assert "TF400733" in blocked.json()["message"]
        assert client.get("/_apis/projects").status_code == 200


def test_a_wrong_token_is_401(fake):
    with httpx.Client(base_url=fake.url, auth=("", "not-the-token")) as client:
        assert client.get("/_apis/projects").status_code == 401
