"""What only Roundup does, against a real Roundup tracker (classic template) on loopback.

The shared contract kit covers what every connector does; these tests cover ETags, the CSRF
headers, retired issues, messages and files, the user's timezone in filters, and Roundup's errors.
"""

from __future__ import annotations

import datetime as dt
import itertools

import httpx
import pytest

from connectors import registry
from connectors.errors import (
    ArtifactNotFound,
    CredentialsRefused,
    InvalidSettings,
    OperationUnsupported,
    ProjectNotFound,
    RevisionConflict,
    Unreachable,
    ValuesNotAccepted,
)
from connectors.types import FieldType, RepositorySettings
from tests.connectors.peers import ensure_roundup_user as ensure_user
from tests.connectors.peers import roundup_rest, roundup_settings
from tests.peers.servers import free_port

ISSUE = "issue"
_numbers = itertools.count(1)


@pytest.fixture
def roundup(roundup_peer_server):
    with registry.connect(roundup_settings(roundup_peer_server)) as connector:
        yield connector


@pytest.fixture
def tracker(roundup):
    return roundup.list_projects()[0].id


@pytest.fixture
def rest(roundup_peer_server):
    """Out-of-band hands: the administrator acting on the tracker directly, not through Hub."""
    with roundup_rest(roundup_peer_server) as client:
        yield client


def make(roundup, tracker, **fields):
    return roundup.create_artifact(tracker, ISSUE, {"title": f"Roundup test {next(_numbers)}", **fields})


def test_one_tracker_is_one_project_with_issues(roundup, tracker, roundup_peer_server):
    assert tracker == roundup_peer_server.info["tracker_name"]
    assert [t.id for t in roundup.artifact_types(tracker)] == [ISSUE]
    with pytest.raises(ProjectNotFound):
        roundup.artifact_types("other")


def test_schema_lists_the_classic_issue_properties(roundup, tracker, rest):
    rest.post("data/keyword", json={"name": "regression"}).raise_for_status()
    schema = {f.id: f for f in roundup.field_schema(tracker, ISSUE)}
    assert schema["title"].required and schema["title"].type == FieldType.STRING
    assert [o.label for o in schema["status"].options][:3] == ["unread", "deferred", "chatting"]
    assert "regression" in [o.label for o in schema["keyword"].options]
    assert schema["nosy"].type == FieldType.PERSONS and schema["nosy"].person_target
    assert (
        schema["superseder"].type == FieldType.RELATIONSHIPS
        and schema["superseder"].relationship_target == ISSUE
    )
    assert schema["activity"].read_only and schema["activity"].type == FieldType.DATE_TIME


def test_issue_properties_are_written_and_read(roundup, tracker, rest):
    grace = ensure_user(rest, "grace", address="grace@example.org", realname="Grace Hopper")
    keyword = rest.post("data/keyword", json={"name": f"kw{next(_numbers)}"}).json()["data"]["id"]
    older = make(roundup, tracker)
    values = {"status": "2", "priority": "1", "assignedto": grace, "nosy": ["1", grace], "keyword": [keyword]}
    made = make(roundup, tracker, superseder=[older.id], **values)
    assert {k: made.fields[k] for k in values} == values and made.fields["superseder"] == [older.id]
    assert made.formatted_id == f"issue{made.id}" and made.url.endswith(f"/issue{made.id}")
    cleared = roundup.update_artifact(made.id, {"assignedto": None, "nosy": []})
    assert cleared.fields["assignedto"] is None and cleared.fields["nosy"] == []
    assert cleared.fields["keyword"] == [keyword], "fields not given stay as they were"


def test_update_with_a_stale_etag_is_a_revision_conflict(roundup, tracker, rest):
    made = make(roundup, tracker)
    current = rest.get(f"data/issue/{made.id}").headers["ETag"]
    rest.patch(f"data/issue/{made.id}", json={"title": "changed by someone"}, headers={"If-Match": current})
    with pytest.raises(RevisionConflict) as raised:
        roundup.update_artifact(made.id, {"title": "Hub's late change"}, expected_revision=made.revision)
    assert raised.value.code == "CCRRTT-1112E" and raised.value.transient
    assert roundup.read_artifact(made.id).fields["title"] == "changed by someone"


def test_update_with_the_current_revision_succeeds_and_changes_it(roundup, tracker):
    made = make(roundup, tracker)
    updated = roundup.update_artifact(made.id, {"title": "Renamed"}, expected_revision=made.revision)
    assert updated.fields["title"] == "Renamed" and updated.revision != made.revision


def test_writes_send_the_headers_roundup_csrf_protection_requires(roundup, tracker, roundup_peer_server):
    bare = {"Authorization": roundup_peer_server.api_headers()["Authorization"], "Accept": "application/json"}
    refused = httpx.post(
        f"{roundup_peer_server.url}rest/data/issue", json={"title": "no headers"}, headers=bare
    )
    assert refused.status_code == 400
    assert make(roundup, tracker, priority="3").fields["priority"] == "3"


def test_refused_value_names_the_property(roundup, tracker):
    made = make(roundup, tracker)
    with pytest.raises(ValuesNotAccepted) as raised:
        roundup.update_artifact(made.id, {"status": "nonsense"})
    assert raised.value.code == "CCRRTT-17003E" and set(raised.value.fields) == {"status"}


def test_read_only_and_unknown_properties_are_refused_before_sending(roundup, tracker):
    made = make(roundup, tracker)
    for fields, name in (
        ({"activity": dt.datetime.now(dt.UTC)}, "activity"),
        ({"severity": "high"}, "severity"),
    ):
        with pytest.raises(ValuesNotAccepted) as raised:
            roundup.update_artifact(made.id, fields)
        assert name in raised.value.fields


def test_messages_are_comments_and_none_is_private(roundup, tracker):
    made = make(roundup, tracker)
    comment = roundup.add_comment(made.id, "First message\nwith two lines")
    assert comment.body == "First message\nwith two lines" and comment.author == "1" and comment.created
    assert [c.id for c in roundup.read_artifact(made.id).comments] == [comment.id]
    with pytest.raises(OperationUnsupported):
        roundup.add_comment(made.id, "secret", private=True)
    assert not roundup.capabilities.private_comments


def test_files_are_attachments_with_their_size_and_type(roundup, tracker):
    made = make(roundup, tracker)
    content = b"\x00\x01binary\xff" * 5000
    meta = roundup.upload_attachment(made.id, "dump.bin", [content[:7000], content[7000:]])
    assert (meta.filename, meta.size, meta.content_type) == (
        "dump.bin",
        len(content),
        "application/octet-stream",
    )
    assert roundup.read_artifact(made.id).attachments == [meta]
    assert b"".join(roundup.download_attachment(made.id, meta.id)) == content
    with pytest.raises(ValuesNotAccepted) as raised:
        roundup.download_attachment(made.id, meta.id, max_bytes=100)
    assert "dump.bin" in raised.value.fields


def test_a_file_of_another_issue_is_not_downloaded(roundup, tracker):
    one, other = make(roundup, tracker), make(roundup, tracker)
    meta = roundup.upload_attachment(one.id, "one.txt", [b"one"])
    with pytest.raises(ValuesNotAccepted):
        roundup.download_attachment(other.id, meta.id)


def test_retired_issue_is_deleted_and_leaves_change_detection(roundup, tracker, rest):
    made = make(roundup, tracker)
    etag = rest.get(f"data/issue/{made.id}").headers["ETag"]
    rest.delete(f"data/issue/{made.id}", headers={"If-Match": etag}).raise_for_status()
    assert rest.get(f"data/issue/{made.id}").status_code == 200, "Roundup still shows a retired issue by URL"
    assert roundup.is_deleted(made.id)
    with pytest.raises(ArtifactNotFound):
        roundup.update_artifact(made.id, {"title": "too late"})
    since = made.updated - dt.timedelta(seconds=1)
    assert made.id not in {i.id for i in roundup.changed_since(tracker, since).items}


def test_issue_changed_between_page_reads_is_not_lost(roundup, tracker):
    start = make(roundup, tracker).updated
    made = [make(roundup, tracker) for _ in range(5)]
    page = roundup.changed_since(tracker, start, page_size=2)
    touched = page.items[0].id
    roundup.add_comment(touched, "changed while Hub was paging")
    seen = list(page.items)
    for _ in range(20):
        if not page.next_cursor:
            break
        page = roundup.changed_since(tracker, start, page_size=2, cursor=page.next_cursor)
        seen.extend(page.items)
    assert page.next_cursor is None
    assert {m.id for m in made} <= {i.id for i in seen}
    assert [i.id for i in seen].count(touched) == 2


def test_change_detection_reads_dates_in_the_users_timezone(roundup_peer_server, rest, tracker):
    """Roundup reads a filter's dates in the user's timezone; answers are UTC."""
    # Named zones need pytz on the tracker's side; an hour offset works everywhere: UTC+14.
    ensure_user(rest, "kiri", timezone="14", address="kiri@example.org")
    settings = roundup_settings(roundup_peer_server, username="kiri", password="Pw-kiri")
    with registry.connect(settings) as connector:
        made = make(connector, tracker)
        just_after = made.updated + dt.timedelta(seconds=1)
        assert made.id in {i.id for i in connector.changed_since(tracker, made.updated).items}
        assert made.id not in {i.id for i in connector.changed_since(tracker, just_after).items}


def test_persons_are_users_found_by_username_email_and_name(roundup, rest):
    grace = ensure_user(rest, "grace", address="grace@example.org", realname="Grace Hopper")
    [found] = roundup.find_persons("email", "GRACE@example.org")
    assert found.id == grace and found.username == "grace" and found.display_name == "Grace Hopper"
    assert (
        roundup.find_persons("username", "grace")
        == [found]
        == roundup.find_persons("display_name", "grace hopper")
    )
    assert roundup.find_persons("username", "grac") == [] and roundup.find_persons("id", grace) == [found]


def test_wrong_password_is_refused_with_the_credentials_code(roundup_peer_server):
    settings = roundup_settings(roundup_peer_server, password="not-the-password")
    with registry.connect(settings) as connector, pytest.raises(CredentialsRefused) as raised:
        connector.test_connection()
    assert raised.value.code == "CCRRTT-61101E" and "not-the-password" not in str(raised.value)


def test_unreachable_tracker_is_transient_with_its_code():
    url = f"http://127.0.0.1:{free_port()}/tracker/"
    settings = RepositorySettings(kind="roundup", url=url, username="u", password="p", timeout=5)
    with registry.connect(settings) as connector, pytest.raises(Unreachable) as raised:
        connector.read_artifact("1")
    assert raised.value.code == "CCRRTT-1000E" and raised.value.transient


def test_settings_need_a_user_name():
    with pytest.raises(InvalidSettings):
        registry.connect(RepositorySettings(kind="roundup", url="http://127.0.0.1:1/tracker/"))


def test_status_changes_directly_without_transitions(roundup, tracker):
    assert not roundup.capabilities.transitions and not roundup.capabilities.transitions_required
    made = make(roundup, tracker)
    assert roundup.transitions(made.id) == []
    assert roundup.update_artifact(made.id, {"status": "8"}).fields["status"] == "8"
