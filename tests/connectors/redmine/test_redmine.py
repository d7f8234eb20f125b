"""What only Redmine does, against a real Redmine 5 on loopback (one server per test session).

The shared contract kit (``tests/connectors/test_contract.py``) covers the behaviour every
connector shares; these tests cover custom fields, private notes, relations, workflow, the
creation marker field, non-administrator keys and Redmine's own way of failing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import uuid
from pathlib import Path

import pytest

from connectors import registry
from connectors.errors import (
    ArtifactNotFound,
    CredentialsRefused,
    InvalidSettings,
    OperationUnsupported,
    Unreachable,
    ValuesNotAccepted,
)
from connectors.types import FieldType, RepositorySettings, WebLink
from tests.connectors.peers import (
    MARKER_FIELD,
    MEMBER_EMAIL,
    MEMBER_LOGIN,
    MEMBER_PASSWORD,
    new_redmine_user,
)
from tests.peers.servers import free_port

BUG = "1"
_numbers = itertools.count(1)


@pytest.fixture
def redmine(redmine_peer_server):
    with registry.connect(redmine_peer_server.settings()) as connector:
        yield connector


@pytest.fixture
def project(redmine_peer_server):
    return redmine_peer_server.project_id


@pytest.fixture
def cf(redmine_peer_server):
    return redmine_peer_server.custom_fields


def make(redmine, project, **fields):
    return redmine.create_artifact(project, BUG, {"subject": f"Redmine test {next(_numbers)}", **fields})


def test_custom_field_formats_become_typed_fields(redmine, project, cf):
    schema = {f.id: f for f in redmine.field_schema(project, BUG)}
    expected = {
        "Severity": FieldType.SINGLE_SELECT,
        "Components": FieldType.MULTI_SELECT,
        "Customer ref": FieldType.STRING,
        "Affected users": FieldType.LONG,
        "Risk": FieldType.DOUBLE,
        "Promised on": FieldType.DATE,
        "Verified": FieldType.BOOLEAN,
        "Reviewer": FieldType.PERSON,
        "Reviewers": FieldType.PERSONS,
        "Runbook": FieldType.WEB_LINKS,
    }
    assert {name: schema[cf[name]].type for name in expected} == expected
    assert [o.id for o in schema[cf["Severity"]].options] == ["minor", "major", "critical"]
    assert schema[cf["Reviewers"]].person_target and schema[cf["Reviewers"]].multi
    assert [o.label for o in schema["status"].options][:2] == ["New", "In Progress"]
    assert (
        schema["estimated_hours"].type == FieldType.DURATION and schema["start_date"].type == FieldType.DATE
    )
    assert schema["author"].read_only and not schema["subject"].read_only
    assert "category" not in schema, "a project without categories offers nothing to choose"


def test_custom_field_values_are_written_and_read_as_their_types(redmine, project, cf, redmine_peer_server):
    values = {
        cf["Severity"]: "major",
        cf["Components"]: ["api", "db"],
        cf["Customer ref"]: "ACME-7",
        cf["Affected users"]: 120,
        cf["Risk"]: 0.25,
        cf["Promised on"]: dt.date(2027, 2, 28),
        cf["Verified"]: True,
        cf["Reviewer"]: redmine_peer_server.member_id,
        cf["Reviewers"]: ["1", redmine_peer_server.member_id],
        cf["Runbook"]: [WebLink("https://wiki.example.org/runbook")],
        "estimated_hours": dt.timedelta(hours=2, minutes=30),
        "due_date": dt.date(2027, 3, 1),
    }
    made = make(redmine, project, **values)
    read = redmine.read_artifact(made.id)
    assert {k: read.fields[k] for k in values} == values
    cleared = redmine.update_artifact(
        made.id, {cf["Verified"]: None, cf["Components"]: [], cf["Affected users"]: None}
    )
    assert cleared.fields[cf["Verified"]] is None and cleared.fields[cf["Components"]] == []
    assert cleared.fields[cf["Affected users"]] is None and cleared.fields[cf["Severity"]] == "major"


def test_a_value_outside_a_list_is_refused_naming_the_custom_field(redmine, project, cf):
    made = make(redmine, project)
    with pytest.raises(ValuesNotAccepted) as raised:
        redmine.update_artifact(made.id, {cf["Severity"]: "catastrophic"})
    assert raised.value.code == "CCRRTT-17003E"
    assert set(raised.value.fields) == {cf["Severity"]} and "Severity" in str(raised.value)


def test_unknown_field_is_refused_before_anything_is_sent(redmine, project):
    made = make(redmine, project)
    with pytest.raises(ValuesNotAccepted) as raised:
        redmine.update_artifact(made.id, {"severity_level": "high"})
    assert "severity_level" in raised.value.fields
    assert redmine.read_artifact(made.id).revision == made.revision


def test_private_notes_are_private_comments(redmine, project):
    made = make(redmine, project)
    public = redmine.add_comment(made.id, "Seen by everyone")
    private = redmine.add_comment(made.id, "Only the team", private=True)
    comments = {c.id: c for c in redmine.read_artifact(made.id).comments}
    assert not comments[public.id].private and comments[private.id].private
    assert comments[private.id].body == "Only the team" and comments[private.id].author == "1"


def test_field_changes_without_notes_are_not_comments(redmine, project):
    made = make(redmine, project)
    redmine.update_artifact(made.id, {"subject": "Renamed without a note"})
    assert redmine.comments(made.id) == []


def test_relations_are_relationships_seen_from_both_ends(redmine, project):
    blocker, blocked, other = make(redmine, project), make(redmine, project), make(redmine, project)
    redmine.update_artifact(blocker.id, {"relation_blocks": [blocked.id, other.id]})
    assert redmine.read_artifact(blocked.id).fields["relation_blocked"] == [blocker.id]
    kept = redmine.update_artifact(blocker.id, {"relation_blocks": [other.id]})
    assert kept.fields["relation_blocks"] == [other.id]
    assert redmine.read_artifact(blocked.id).fields["relation_blocked"] == []
    follows = make(redmine, project, relation_follows=[blocker.id])
    assert redmine.read_artifact(blocker.id).fields["relation_precedes"] == [follows.id]


def test_relation_to_a_missing_issue_is_refused_naming_the_relation(redmine, project):
    made = make(redmine, project)
    with pytest.raises(ValuesNotAccepted) as raised:
        redmine.update_artifact(made.id, {"relation_relates": ["999999"]})
    assert "relation_relates" in raised.value.fields


def test_transitions_come_from_the_workflow_and_exclude_the_current_status(redmine, project):
    made = make(redmine, project)
    offered = {t.to_status: t for t in redmine.transitions(made.id)}
    assert made.fields["status"] not in offered and "5" in offered  # New → Closed is allowed
    closed = redmine.perform_transition(made.id, "5")
    assert closed.fields["status"] == "5" and closed.fields["closed_on"] is not None
    with pytest.raises(ValuesNotAccepted) as raised:
        redmine.perform_transition(made.id, "5")  # already closed: not a transition any more
    assert "status" in raised.value.fields


def test_status_is_also_set_directly_because_redmine_needs_no_transition(redmine, project):
    assert not redmine.capabilities.transitions_required
    made = make(redmine, project)
    assert redmine.update_artifact(made.id, {"status": "2"}).fields["status"] == "2"


def test_an_update_redmine_silently_drops_is_reported(redmine_peer_server, project):
    """A Developer may not change an issue's tracker-level privacy; Redmine ignores it quietly."""
    with registry.connect(redmine_peer_server.settings()) as admin:
        made = make(admin, project)
    member = redmine_peer_server.settings(
        auth_method="basic", username=MEMBER_LOGIN, password=MEMBER_PASSWORD
    )
    with registry.connect(member) as connector, pytest.raises(ValuesNotAccepted) as raised:
        connector.update_artifact(made.id, {"is_private": True})
    assert set(raised.value.fields) == {"is_private"}


def test_a_refused_value_is_named_as_the_user_sees_it_not_by_redmines_ids(redmine_peer_server, project):
    """Issue #20: 17003E said "Redmine kept '1' instead of '5'". It now names the field and both
    values as Redmine shows them (a status's name, with its id)."""
    with registry.connect(redmine_peer_server.settings()) as admin:
        made = make(admin, project)
        statuses = {str(s["id"]): s["name"] for s in admin.api.get("/issue_statuses.json")["issue_statuses"]}
    member = redmine_peer_server.settings(
        auth_method="basic", username=MEMBER_LOGIN, password=MEMBER_PASSWORD
    )
    refused = None
    with registry.connect(member) as connector:
        allowed = {t.to_status for t in connector.transitions(made.id)}
        # a status the Developer's workflow does not lead to from New
        refused = next(s for s in statuses if s not in allowed and s != made.fields["status"])
        with pytest.raises(ValuesNotAccepted) as raised:
            connector.update_artifact(made.id, {"status": refused})
    message = str(raised.value)
    assert raised.value.code == "CCRRTT-17003E" and set(raised.value.fields) == {"status"}
    assert f"Redmine kept “{statuses['1']}” (id 1) instead of “{statuses[refused]}” (id {refused})" in message
    assert "'1'" not in message


def test_issue_updated_between_page_reads_is_not_lost_and_comes_again(redmine, project):
    start = make(redmine, project).updated
    made = [make(redmine, project) for _ in range(5)]
    page = redmine.changed_since(project, start, page_size=2)
    touched = page.items[0].id
    redmine.update_artifact(touched, {"description": "changed while Hub was paging"})
    seen = list(page.items)
    for _ in range(20):
        if not page.next_cursor:
            break
        page = redmine.changed_since(project, start, page_size=2, cursor=page.next_cursor)
        seen.extend(page.items)
    assert page.next_cursor is None
    ids = [item.id for item in seen]
    assert {m.id for m in made} <= set(ids)
    again = [item for item in seen if item.id == touched]
    assert len(again) == 2 and again[1].updated == max(item.updated for item in seen)


def test_many_issues_in_one_second_page_without_loss_or_repeat(redmine, project, redmine_peer_server):
    """More issues share the cursor's second than one page holds: the pages still cover them all."""
    made = [make(redmine, project) for _ in range(6)]
    stamp = "2030-01-01T00:00:00Z"
    ids = ",".join(m.id for m in made)
    # Give all six the same updated_on, as a bulk edit in one second would.
    db_file = Path(redmine_peer_server.server.info["instance_dir"]) / "db" / "redmine.sqlite3"
    with sqlite3.connect(db_file) as db:
        db.execute(f"UPDATE issues SET updated_on = '2030-01-01 00:00:00' WHERE id IN ({ids})")  # noqa: S608
    since = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    seen, cursor = [], None
    for _ in range(20):
        page = redmine.changed_since(project, since, page_size=2, cursor=cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert cursor is None
    assert sorted(i.id for i in seen) == sorted(m.id for m in made)
    assert {i.revision for i in seen} == {stamp}


def test_tracker_filter_limits_change_detection(redmine, project):
    start = make(redmine, project).updated
    feature = redmine.create_artifact(project, "2", {"subject": "A feature"})
    bugs_only = redmine.changed_since(project, start, artifact_types=[BUG])
    features = redmine.changed_since(project, start, artifact_types=["2"])
    assert feature.id not in {i.id for i in bugs_only.items}
    assert feature.id in {i.id for i in features.items}


def test_deleted_issue_is_detected_by_404(redmine, project, redmine_peer_server):
    made = make(redmine, project)
    with redmine_peer_server.rest() as rest:
        rest.delete(f"/issues/{made.id}.json").raise_for_status()
    assert redmine.is_deleted(made.id)
    with pytest.raises(ArtifactNotFound) as raised:
        redmine.read_artifact(made.id)
    assert raised.value.code == "CCRRTT-30006E"
    assert redmine.search_by_formatted_id(f"#{made.id}") is None


def test_creation_marker_lives_in_the_configured_custom_field(redmine_peer_server, project, cf):
    settings = redmine_peer_server.settings(extra={"marker_field": MARKER_FIELD})
    with registry.connect(settings) as connector:
        assert connector.capabilities.creation_marker
        made = connector.create_artifact(project, BUG, {"subject": "Marked"}, marker="hub-7f3a")
        assert made.fields[cf[MARKER_FIELD]] == "hub-7f3a"
        assert connector.find_by_marker(project, BUG, "hub-7f3a").id == made.id
        assert connector.find_by_marker(project, BUG, "hub-7f3") is None


def test_without_a_marker_field_there_is_no_creation_marker(redmine, project):
    assert not redmine.capabilities.creation_marker
    with pytest.raises(OperationUnsupported):
        redmine.find_by_marker(project, BUG, "hub-1")


def test_a_marker_field_that_does_not_exist_is_a_settings_error(redmine_peer_server, project):
    settings = redmine_peer_server.settings(extra={"marker_field": "No such field"})
    with registry.connect(settings) as connector, pytest.raises(InvalidSettings) as raised:
        connector.find_by_marker(project, BUG, "hub-1")
    assert raised.value.code == "CCRRTT-61103E" and "No such field" in str(raised.value)


def test_persons_are_found_by_login_email_and_name(redmine, redmine_peer_server):
    [grace] = redmine.find_persons("username", MEMBER_LOGIN.upper())
    assert grace.id == redmine_peer_server.member_id and grace.email == MEMBER_EMAIL
    assert redmine.find_persons("email", MEMBER_EMAIL.lower()) == [grace]
    assert redmine.find_persons("display_name", "grace hopper") == [grace]
    assert redmine.find_persons("id", grace.id) == [grace] == [redmine.read_person(grace.id)]
    assert redmine.find_persons("username", "gra") == []


def test_a_locked_user_is_found_as_not_active(redmine, redmine_peer_server):
    """Redmine keeps a locked account (status 3) and lists it; ``Person.active`` says so, which
    person reconciliation extensions see as ``repositoryPerson.active`` (inventory 2.51)."""
    login = f"locked-{uuid.uuid4().hex[:8]}"
    with redmine_peer_server.rest() as rest:
        user_id = new_redmine_user(rest, login, "Lock", "Ed", f"{login}@example.org", "Locked-User-1906")
        [before] = redmine.find_persons("username", login)
        rest.put(f"/users/{user_id}.json", json={"user": {"status": 3}}).raise_for_status()
    [locked] = redmine.find_persons("username", login)
    assert (before.id, before.active) == (user_id, True)
    assert (locked.id, locked.active) == (user_id, False) and not redmine.read_person(user_id).active
    [grace] = redmine.find_persons("username", MEMBER_LOGIN)
    assert grace.active


def test_basic_authentication_of_a_member_without_administrator_rights(redmine_peer_server, project, cf):
    """A non-administrator cannot list users nor read custom field definitions: persons come from
    project memberships (by name), custom field values stay text."""
    member = redmine_peer_server.settings(
        auth_method="basic", username=MEMBER_LOGIN, password=MEMBER_PASSWORD
    )
    with registry.connect(member) as connector:
        assert connector.test_connection().user == MEMBER_LOGIN
        made = connector.create_artifact(project, BUG, {"subject": "By Grace", cf["Severity"]: "minor"})
        assert made.fields["author"] == redmine_peer_server.member_id
        assert made.fields[cf["Severity"]] == "minor"
        [grace] = connector.find_persons("display_name", "Grace Hopper")
        assert grace.id == redmine_peer_server.member_id
        assert connector.find_persons("username", MEMBER_LOGIN) == []


def test_wrong_api_key_is_refused_with_the_credentials_code(redmine_peer_server):
    settings = redmine_peer_server.settings(token="0" * 40)
    with registry.connect(settings) as connector, pytest.raises(CredentialsRefused) as raised:
        connector.list_projects()
    assert raised.value.code == "CCRRTT-61101E" and not raised.value.transient
    assert "0" * 40 not in str(raised.value)


def test_wrong_password_is_refused_with_the_credentials_code(redmine_peer_server):
    settings = redmine_peer_server.settings(
        auth_method="basic", username="admin", password="not-the-password"
    )
    with registry.connect(settings) as connector, pytest.raises(CredentialsRefused):
        connector.list_projects()


def test_unreachable_server_is_transient_with_its_code():
    settings = RepositorySettings(kind="redmine", url=f"http://127.0.0.1:{free_port()}", token="k", timeout=5)
    with registry.connect(settings) as connector, pytest.raises(Unreachable) as raised:
        connector.test_connection()
    assert raised.value.code == "CCRRTT-1000E" and raised.value.transient


def test_settings_without_a_key_are_refused_before_any_request():
    with pytest.raises(InvalidSettings):
        registry.connect(RepositorySettings(kind="redmine", url="http://127.0.0.1:1"))


def test_attachment_is_uploaded_downloaded_and_listed_with_its_size(redmine, project):
    made = make(redmine, project)
    meta = redmine.upload_attachment(made.id, "trace.txt", [b"abc" * 1000, b"def"], content_type="text/plain")
    assert (meta.filename, meta.size, meta.content_type) == ("trace.txt", 3003, "text/plain")
    assert b"".join(redmine.download_attachment(made.id, meta.id)) == b"abc" * 1000 + b"def"
    assert redmine.read_artifact(made.id).attachments == [meta]
    assert redmine.comments(made.id) == [], "an upload is not a comment"


def test_registry_knows_redmine_with_its_settings_fields():
    names = [f.name for f in registry.settings_fields("redmine")]
    assert names[:3] == ["url", "auth_method", "token"] and "marker_field" in names and "proxy_url" in names
    assert registry.kinds()["redmine"].label == "Redmine"


def test_a_file_over_redmines_own_limit_is_refused_naming_it(redmine, project):
    """Redmine's default attachment limit is 5 MB; Hub's own limit (50 MB by default) lets it through."""
    made = make(redmine, project)
    with pytest.raises(ValuesNotAccepted) as raised:
        redmine.upload_attachment(made.id, "huge.bin", [b"x" * (6 * 1024 * 1024)])
    assert (
        "huge.bin" in raised.value.fields and "maximum allowed file size" in raised.value.fields["huge.bin"]
    )
    assert redmine.attachments(made.id) == []


def _requests_of(connector) -> list[str]:
    sent: list[str] = []
    connector.api.http.client.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    return sent


def test_connectors_with_the_same_credentials_check_them_and_read_custom_fields_once(redmine_peer_server):
    """The engine makes a connector per batch and per detection; asking Redmine who Hub is, which
    custom fields it has and what a project is each time cost three requests per batch (issue #20:
    requests per issue)."""
    with registry.connect(redmine_peer_server.settings()) as first:
        project = first.list_projects()[0].id
        assert first.custom_fields
        types = first.artifact_types(project)
    with registry.connect(redmine_peer_server.settings()) as second:
        sent = _requests_of(second)
        second.list_projects()
        assert second.custom_fields == first.custom_fields
        assert second.current_user["login"] == "admin"
        assert second.artifact_types(project) == types
    assert sent == ["/projects.json"]
    # other credentials are checked on their own: a wrong key is refused, not taken for the admin
    other = redmine_peer_server.settings(token="0" * 40)
    with registry.connect(other) as connector, pytest.raises(CredentialsRefused):
        connector.list_projects()


def test_field_values_of_many_issues_are_read_one_list_request_per_hundred(redmine, project, cf):
    """The Enterprise Data Stream reads field values alone: ``issue_id=1,2,3`` lists up to 100
    issues a request, closed ones and relations included, where reading each issue cost one request
    (issue #19: requests per synchronized issue)."""
    first = make(redmine, project, **{cf["Severity"]: "major"})
    second = make(redmine, project, relation_relates=[first.id])
    closed = make(redmine, project)
    redmine.update_artifact(closed.id, {"status": "5"})  # Closed: the list's default leaves it out
    made = [first, second, closed]
    absent = [str(900_000 + n) for n in range(150 - len(made))]  # no such issues: 150 ids, 2 pages
    sent = _requests_of(redmine)
    found = redmine.read_field_values([m.id for m in made] + absent)
    assert sent == ["/issues.json", "/issues.json"]
    assert sorted(found) == sorted(m.id for m in made)
    for artifact in made:
        whole = redmine.read_artifact(artifact.id)
        assert found[artifact.id].fields == whole.fields
        assert found[artifact.id].comments is None and found[artifact.id].attachments is None
    assert found[second.id].fields["relation_relates"] == [first.id]
    assert found[closed.id].fields["status"] == "5"


def test_the_read_back_of_an_update_says_what_the_write_replaced(redmine, redmine_peer_server, project, cf):
    """Redmine cannot refuse a write to an issue changed since Hub read it; its journal of Hub's
    write names each value the write replaced (``Artifact.replaced``), so the engine can tell a
    change made in between from its own read (issue #20)."""
    made = make(redmine, project, priority="2", **{cf["Customer ref"]: "ACME-1"})
    someone = redmine_peer_server.rest()
    changed = {"subject": "Changed meanwhile", "priority_id": 3, "custom_fields": []}
    changed["custom_fields"].append({"id": int(cf["Customer ref"].removeprefix("cf_")), "value": "ACME-2"})
    someone.put(f"/issues/{made.id}.json", json={"issue": changed}).raise_for_status()
    someone.close()
    written = redmine.update_artifact(
        made.id, {"subject": "Hub's title", "priority": "1", cf["Customer ref"]: "ACME-3"}
    )
    assert written.replaced == {"subject": "Changed meanwhile", "priority": "3", cf["Customer ref"]: "ACME-2"}
    again = redmine.update_artifact(made.id, {"subject": "Hub's title again"})
    assert again.replaced == {"subject": "Hub's title"}
