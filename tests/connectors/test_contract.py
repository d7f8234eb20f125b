"""The contract every connector passes, run once per peer of ``contract.PEER_FACTORIES``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from connectors import registry
from connectors.errors import (
    ArtifactNotFound,
    ConnectorError,
    CreationUnsupported,
    CredentialsRefused,
    InsecureConnectionRefused,
    InvalidSettings,
    OperationUnsupported,
    ProjectNotFound,
    ProxyCredentialsRefused,
    RevisionConflict,
    Unreachable,
    ValuesNotAccepted,
)
from connectors.types import FieldType, RepositorySettings
from tests.connectors.contract import PEER_FACTORIES, Peer, unique
from tests.support.netservers import BasicAuthProxy, TlsRelay, free_port


@pytest.fixture(params=sorted(PEER_FACTORIES))
def peer(request, db) -> Peer:
    yield from PEER_FACTORIES[request.param](request)


@pytest.fixture
def connector(peer):
    with registry.connect(peer.settings) as connector:
        yield connector


@pytest.fixture
def created(peer, connector):
    if not connector.capabilities.create:
        pytest.fail(f"the contract needs a peer where {peer.name} can create artifacts")
    return connector.create_artifact(
        peer.project,
        peer.artifact_type,
        peer.create_fields(unique("Contract item"), **{peer.text_field: "first"}),
    )


def scan(connector, peer, since, page_size=100, between_pages=lambda page: None):
    """Every ChangedItem of one full scan, in order, calling ``between_pages`` after each page."""
    seen, cursor = [], None
    for _ in range(1000):
        page = connector.changed_since(peer.project, since, cursor=cursor, page_size=page_size)
        seen.extend(page.items)
        between_pages(page)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    pytest.fail("changed_since never reached its last page")


# --- connection and structure -----------------------------------------------------------------


def test_connection_names_the_user(connector):
    info = connector.test_connection()
    assert info.server and info.user


def test_project_list_contains_the_peer_project(peer, connector):
    assert peer.project in {p.id for p in connector.list_projects()}


def test_unknown_project_is_reported_with_its_code(connector):
    with pytest.raises(ProjectNotFound) as raised:
        connector.artifact_types("NOSUCHPROJECT")
    assert raised.value.code == "CCRRTT-1110E" and not raised.value.transient


def test_schema_describes_typed_fields_with_options(peer, connector):
    assert peer.artifact_type in {t.id for t in connector.artifact_types(peer.project)}
    schema = {f.id: f for f in connector.field_schema(peer.project, peer.artifact_type)}
    title = schema[peer.title_field]
    assert title.type == FieldType.STRING and title.required and not title.read_only
    assert schema[peer.text_field].type in (FieldType.STRING, FieldType.RICH_TEXT)
    for field in schema.values():
        assert isinstance(field.type, FieldType) and field.label
        if field.type in (FieldType.SINGLE_SELECT, FieldType.MULTI_SELECT):
            assert field.options, f"{field.id} has no options"
        if field.type in (FieldType.PERSON, FieldType.PERSONS):
            assert field.person_target


def test_wrong_credentials_are_refused(peer):
    wrong = dataclasses.replace(peer.settings, **peer.wrong_credentials)
    with pytest.raises(CredentialsRefused) as raised, registry.connect(wrong) as connector:
        connector.test_connection()
    assert raised.value.code == "CCRRTT-61101E" and not raised.value.transient
    for name in ("password", "token"):
        secret = peer.wrong_credentials.get(name)
        assert not secret or secret not in raised.value.message.replace("CCRRTT", "")


def _moved(settings: RepositorySettings, scheme: str, port: int) -> RepositorySettings:
    parts = urlsplit(settings.url)
    return dataclasses.replace(
        settings, url=urlunsplit(parts._replace(scheme=scheme, netloc=f"127.0.0.1:{port}"))
    )


def test_unreachable_host_is_transient(peer, connector):
    if not connector.network:
        with pytest.raises(InvalidSettings):
            registry.connect(dataclasses.replace(peer.settings, url="https://127.0.0.1:1/"))
        return
    scheme = urlsplit(peer.settings.url).scheme
    with (
        pytest.raises(Unreachable) as raised,
        registry.connect(_moved(peer.settings, scheme, free_port())) as moved,
    ):
        moved.test_connection()
    assert raised.value.code == "CCRRTT-1000E" and raised.value.transient


def test_proxy_must_accept_the_credentials(peer, connector):
    if not connector.network:
        assert "proxy_url" not in {f.name for f in registry.settings_fields(peer.settings.kind)}
        return
    proxy = BasicAuthProxy("hub", "proxy-secret")
    try:
        refused = dataclasses.replace(
            peer.settings, proxy_url=proxy.url, proxy_username="hub", proxy_password="wrong"
        )
        with pytest.raises(ProxyCredentialsRefused), registry.connect(refused) as through_proxy:
            through_proxy.test_connection()
        accepted = dataclasses.replace(refused, proxy_password="proxy-secret")
        with registry.connect(accepted) as through_proxy:
            assert through_proxy.test_connection().user
        assert len(proxy.requests) >= 2, "the connector went around the proxy"
    finally:
        proxy.close()


def test_untrusted_certificate_is_refused_unless_insecure_is_allowed(peer, connector, tmp_path):
    if not connector.network:
        assert "allow_insecure" not in {f.name for f in registry.settings_fields(peer.settings.kind)}
        return
    parts = urlsplit(peer.settings.url)
    relay = TlsRelay(parts.hostname, parts.port or 80, tmp_path)
    try:
        behind_tls = _moved(peer.settings, "https", relay.server.server_address[1])
        with pytest.raises(InsecureConnectionRefused) as raised, registry.connect(behind_tls) as secure:
            secure.test_connection()
        assert raised.value.code in ("CCRRTT-1113E", "CCRRTT-30014E")
        with registry.connect(dataclasses.replace(behind_tls, allow_insecure=True)) as insecure:
            assert insecure.test_connection().user
    finally:
        relay.close()


# --- artifacts --------------------------------------------------------------------------------


def test_created_artifact_reads_back_with_identity_and_revision(peer, connector, created):
    read = connector.read_artifact(created.id)
    assert read.id == created.id and read.formatted_id and read.url
    assert read.project == peer.project and read.type == peer.artifact_type
    assert read.fields[peer.title_field] == created.fields[peer.title_field]
    assert read.fields[peer.text_field] == "first"
    assert read.updated.tzinfo is not None and read.revision


def test_update_changes_only_the_given_fields(peer, connector, created):
    updated = connector.update_artifact(created.id, {peer.title_field: "Renamed"})
    assert updated.fields[peer.title_field] == "Renamed"
    assert updated.fields[peer.text_field] == "first"
    assert updated.revision != created.revision and updated.updated >= created.updated


def test_update_against_a_stale_revision_is_refused(peer, connector, created):
    peer.touch(created.id)
    if connector.capabilities.optimistic_concurrency:
        with pytest.raises(RevisionConflict) as raised:
            connector.update_artifact(
                created.id, {peer.title_field: "late"}, expected_revision=created.revision
            )
        assert raised.value.transient and raised.value.code == "CCRRTT-1112E"
        fresh = connector.read_artifact(created.id)
        assert fresh.fields[peer.title_field] != "late"
        # At the revision just read the write holds (the engine sends it with every write).
        updated = connector.update_artifact(
            created.id, {peer.title_field: "current"}, expected_revision=fresh.revision
        )
        assert updated.fields[peer.title_field] == "current"
    else:
        fresh = connector.read_artifact(created.id)
        assert connector.update_artifact(created.id, {peer.title_field: "late"}).revision != fresh.revision


def test_refused_values_name_the_field(peer, connector, created):
    with pytest.raises(ValuesNotAccepted) as raised:
        connector.update_artifact(created.id, dict(peer.invalid_update))
    assert raised.value.code == "CCRRTT-17003E"
    assert peer.invalid_field in raised.value.fields
    assert peer.invalid_field in str(raised.value)


def test_status_changes_only_through_transitions_when_the_tool_requires_them(peer, connector, created):
    if not connector.capabilities.transitions_required:
        assert connector.capabilities.transitions or connector.transitions(created.id) == []
        return
    status = created.fields[peer.status_field]
    with pytest.raises(ValuesNotAccepted) as raised:
        connector.update_artifact(created.id, {peer.status_field: "closed"})
    assert peer.status_field in raised.value.fields
    assert connector.read_artifact(created.id).fields[peer.status_field] == status


def test_transitions_move_the_status(peer, connector, created):
    if not connector.capabilities.transitions:
        with pytest.raises(OperationUnsupported):
            connector.perform_transition(created.id, "any")
        return
    available = connector.transitions(created.id)
    assert available, "a new artifact has somewhere to go"
    step = next(t for t in available if set(t.required_fields) <= set(peer.transition_values))
    if step.required_fields:
        with pytest.raises(ValuesNotAccepted):
            connector.perform_transition(created.id, step.id, {})
    values = {name: peer.transition_values[name] for name in step.required_fields}
    moved = connector.perform_transition(created.id, step.id, values)
    assert moved.fields[peer.status_field] == step.to_status
    assert moved.revision != created.revision


def test_deleted_artifact_is_detected(peer, connector, created):
    assert not connector.is_deleted(created.id)
    peer.delete(created.id)
    with pytest.raises(ArtifactNotFound):
        connector.read_artifact(created.id)
    assert connector.is_deleted(created.id)


def test_search_by_formatted_id(connector, created):
    if not connector.capabilities.search_by_formatted_id:
        with pytest.raises(OperationUnsupported):
            connector.search_by_formatted_id(created.formatted_id)
        return
    assert connector.search_by_formatted_id(created.formatted_id).id == created.id
    assert connector.search_by_formatted_id("NOSUCH-999999") is None


def test_creation_marker_finds_the_created_artifact(peer, connector):
    fields = peer.create_fields(unique("Marked"))
    if not connector.capabilities.creation_marker:
        with pytest.raises(OperationUnsupported):
            connector.find_by_marker(peer.project, peer.artifact_type, "hub-marker-1")
        return
    marker = unique("hub-marker").replace(" ", "-")
    made = connector.create_artifact(peer.project, peer.artifact_type, fields, marker=marker)
    assert connector.find_by_marker(peer.project, peer.artifact_type, marker).id == made.id
    assert connector.find_by_marker(peer.project, peer.artifact_type, marker + "-other") is None


def test_creation_refused_when_the_tool_cannot_create(peer, connector):
    if connector.capabilities.create:
        assert connector.create_artifact(peer.project, peer.artifact_type, peer.create_fields("made")).id
    else:
        with pytest.raises(CreationUnsupported):
            connector.create_artifact(peer.project, peer.artifact_type, peer.create_fields("made"))


# --- change detection -------------------------------------------------------------------------


def test_changes_come_in_update_order_with_the_server_clock(peer, connector):
    before = connector.test_connection().server_time or dt.datetime.now(dt.UTC)
    first = connector.create_artifact(peer.project, peer.artifact_type, peer.create_fields(unique("one")))
    second = connector.create_artifact(peer.project, peer.artifact_type, peer.create_fields(unique("two")))
    connector.update_artifact(first.id, {peer.text_field: "changed"})
    overlap = dt.timedelta(seconds=peer.clock_resolution_seconds)
    items = scan(connector, peer, before - overlap)
    ids = [item.id for item in items]
    assert second.id in ids and first.id in ids
    # first was updated after second was created (ties are possible on a one-second clock)
    assert max(i.updated for i in items if i.id == first.id) >= max(
        i.updated for i in items if i.id == second.id
    )
    assert [i.updated for i in items] == sorted(i.updated for i in items)
    assert all(i.updated.tzinfo is not None for i in items)


def test_item_updated_during_paging_is_not_lost(peer, connector):
    before = connector.test_connection().server_time or dt.datetime.now(dt.UTC)
    made = [
        connector.create_artifact(peer.project, peer.artifact_type, peer.create_fields(unique("paged")))
        for _ in range(4)
    ]
    touched = []

    def touch_the_first_seen(page):
        if not touched and page.items:
            touched.append(page.items[0].id)
            peer.touch(page.items[0].id)

    since = before - dt.timedelta(seconds=peer.clock_resolution_seconds)
    items = scan(connector, peer, since, page_size=1, between_pages=touch_the_first_seen)
    ids = [item.id for item in items]
    assert {m.id for m in made} <= set(ids), "an artifact was skipped because another moved while paging"
    assert ids.count(touched[0]) >= 1
    # The touched artifact's new state is seen in this scan or the next one from the watermark.
    watermark = max(item.updated for item in items)
    again = scan(connector, peer, watermark)
    fresh = connector.read_artifact(touched[0])
    assert any(i.id == touched[0] and i.updated >= fresh.updated for i in items + again)


def test_update_within_the_watermark_second_is_seen(peer, connector, created):
    """An update in the same clock tick as the watermark, after it, must not be missed."""
    other = connector.create_artifact(
        peer.project, peer.artifact_type, peer.create_fields(unique("same second"))
    )
    deadline = time.monotonic() + 180
    while True:
        watermark = connector.update_artifact(created.id, {peer.text_field: unique("mark")}).updated
        connector.update_artifact(other.id, {peer.text_field: unique("later")})
        if peer.same_second:
            peer.same_second(created.id, other.id)
        changed = connector.read_artifact(other.id)
        if changed.updated.replace(microsecond=0) == watermark.replace(microsecond=0):
            break
        if time.monotonic() > deadline:
            pytest.fail("could not make two updates within one second")
    assert changed.updated >= watermark
    ids = [item.id for item in scan(connector, peer, watermark)]
    assert other.id in ids


def test_overlap_window_reaches_back(peer, connector):
    early = connector.create_artifact(peer.project, peer.artifact_type, peer.create_fields(unique("early")))
    later = early.updated + dt.timedelta(seconds=30)
    assert early.id not in [i.id for i in scan(connector, peer, later)]
    reaching_back = connector.changed_since(peer.project, later, overlap=dt.timedelta(minutes=1))
    assert early.id in [i.id for i in reaching_back.items]


# --- comments ---------------------------------------------------------------------------------


def test_comments_are_added_and_listed(connector, created):
    if not connector.capabilities.comments:
        with pytest.raises(OperationUnsupported):
            connector.add_comment(created.id, "hello")
        return
    public = connector.add_comment(created.id, "A public note")
    listed = {c.id: c for c in connector.comments(created.id)}
    assert listed[public.id].body == "A public note" and not listed[public.id].private
    assert public.id in {c.id for c in connector.read_artifact(created.id).comments}


def test_private_comments_where_the_tool_has_them(connector, created):
    if not connector.capabilities.private_comments:
        with pytest.raises(ConnectorError):
            connector.add_comment(created.id, "secret", private=True)
        return
    private = connector.add_comment(created.id, "Only for the team", private=True)
    listed = {c.id: c for c in connector.comments(created.id)}
    assert listed[private.id].private and listed[private.id].body == "Only for the team"


def test_a_comment_counts_as_a_change(peer, connector, created):
    if not connector.capabilities.comments:
        return
    connector.add_comment(created.id, "moves the clock")
    after = connector.read_artifact(created.id)
    assert after.updated >= created.updated and after.revision != created.revision


# --- attachments ------------------------------------------------------------------------------


def test_attachments_upload_list_and_download(connector, created):
    if not connector.capabilities.attachments:
        with pytest.raises(OperationUnsupported):
            connector.attachments(created.id)
        return
    content = b"line of log\n" * 20000  # 240 kB, in several chunks
    chunks = [content[i : i + 65536] for i in range(0, len(content), 65536)]
    meta = connector.upload_attachment(created.id, "build.log", iter(chunks), content_type="text/plain")
    assert meta.filename == "build.log" and meta.size == len(content)
    assert meta.id in {a.id for a in connector.attachments(created.id)}
    assert b"".join(connector.download_attachment(created.id, meta.id)) == content


def test_attachment_size_limit_on_upload_and_download(connector, created):
    if not connector.capabilities.attachments:
        return
    with pytest.raises(ValuesNotAccepted) as raised:
        connector.upload_attachment(created.id, "big.bin", iter([b"x" * 600, b"y" * 600]), max_bytes=1000)
    assert "big.bin" in raised.value.fields
    assert "big.bin" not in {a.filename for a in connector.attachments(created.id)}
    meta = connector.upload_attachment(created.id, "small.txt", [b"0123456789"])
    with pytest.raises(ValuesNotAccepted) as raised:
        b"".join(connector.download_attachment(created.id, meta.id, max_bytes=5))
    assert "small.txt" in raised.value.fields


# --- persons ----------------------------------------------------------------------------------


def test_persons_are_found_by_field_and_read(peer, connector):
    if not connector.capabilities.persons:
        assert connector.person_search_fields() == []
        return
    assert "username" in connector.person_search_fields()
    [found] = connector.find_persons("username", peer.person_username)
    assert found.username == peer.person_username
    assert connector.read_person(found.id) == found
    assert connector.find_persons("username", "nobody-of-that-name") == []
    if found.email and "email" in connector.person_search_fields():
        assert [p.id for p in connector.find_persons("email", found.email.upper())] == [found.id]
