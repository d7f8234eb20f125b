"""The local tracker beyond the shared contract: independent trackers side by side, its settings,
its registry entry, values of every field type, and the benchmark loader."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command

from connectors import registry
from connectors.errors import CredentialsRefused, InvalidSettings, ValuesNotAccepted
from connectors.local import service
from connectors.local.models import LocalItem, LocalUser
from connectors.types import FieldType, RepositorySettings, WebLink


def local(url: str, **more):
    return registry.connect(RepositorySettings(kind="local", url=url, **more))


@pytest.fixture
def alpha(db):
    service.create_project(service.tracker("alpha"), "DEMO", "Demo")
    return local("local://alpha")


def test_two_trackers_are_independent(alpha):
    service.create_project(service.tracker("beta"), "DEMO", "Demo in beta")
    beta = local("local://beta")
    made = alpha.create_artifact("DEMO", "bug", {"summary": "only in alpha"})
    assert made.formatted_id == "DEMO-1"
    assert beta.changed_since("DEMO", None).items == []
    assert beta.is_deleted(made.id)
    assert beta.search_by_formatted_id("DEMO-1") is None


@pytest.mark.parametrize("url", ["http://alpha", "local://Alpha Tracker", "alpha"])
def test_a_url_that_names_no_tracker_is_invalid(db, url):
    with pytest.raises(InvalidSettings) as raised:
        local(url)
    assert raised.value.code == "CCRRTT-61103E"


def test_acting_as_an_unknown_user_is_refused(alpha):
    with pytest.raises(CredentialsRefused):
        local("local://alpha", username="mallory").test_connection()
    assert local("local://alpha").test_connection().user == "hub"


def test_registry_lists_the_local_kind_without_network_settings(db):
    assert registry.kinds()["local"].label == "Local tracker"
    names = [field.name for field in registry.settings_fields("local")]
    assert names[0] == "url" and "events_per_minute" in names and "proxy_url" not in names
    with pytest.raises(InvalidSettings):
        registry.connector_class("no-such-kind")


def test_every_field_type_round_trips(alpha):
    tracker = service.tracker("alpha")
    grace = LocalUser.objects.create(tracker=tracker, username="grace")
    linus = LocalUser.objects.create(tracker=tracker, username="linus")
    epic = alpha.create_artifact("DEMO", "epic", {"summary": "Epic"})
    other = alpha.create_artifact("DEMO", "task", {"summary": "Other"})
    values = {
        "summary": "Everything",
        "description": "Line one\nline <b>two</b>",
        "priority": "high",
        "labels": ["security", "backend"],
        "customer_visible": True,
        "story_points": 8,
        "estimate_hours": 2.5,
        "due_date": dt.date(2026, 12, 24),
        "review_at": dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        "time_spent": dt.timedelta(hours=3, minutes=15),
        "assignee": str(grace.pk),
        "watchers": [str(linus.pk), str(grace.pk)],
        "parent": epic.id,
        "related": [other.id],
        "web_links": [WebLink("https://example.org/spec", "Spec")],
    }
    made = alpha.create_artifact("DEMO", "story", values)
    expected = {**values, "labels": ["backend", "security"], "watchers": sorted(values["watchers"], key=int)}
    assert {k: made.fields[k] for k in values} == expected
    steps = [{"step": "Open", "expected_result": "Shows", "actual_result": ""}]
    case = alpha.create_artifact("DEMO", "test_case", {"summary": "Case", "test_steps": steps})
    assert alpha.read_artifact(case.id).fields["test_steps"] == steps
    # Test steps are a test case's; time entries are offered for mapping, never a field value.
    schema = {f.id: f.type for f in alpha.field_schema("DEMO", "story")}
    schema |= {f.id: f.type for f in alpha.field_schema("DEMO", "test_case")}
    assert set(FieldType) <= set(schema.values())
    assert "time_entries" not in made.fields
    # The batch reads build artifacts from plain rows, the single read from model instances:
    # every field type reads the same both ways (comments and attachments too).
    alpha.add_comment(made.id, "a comment")
    ids = [made.id, case.id, epic.id]
    one_by_one = {i: alpha.read_artifact(i) for i in ids}
    assert alpha.read_artifacts(ids) == one_by_one
    without_discussion = alpha.read_field_values(ids)
    fields_of = {i: a.fields for i, a in one_by_one.items()}
    assert {i: a.fields for i, a in without_discussion.items()} == fields_of
    assert without_discussion[made.id].comments is None and one_by_one[made.id].comments


def test_story_points_exist_only_on_stories_and_epics(alpha):
    assert "story_points" not in {f.id for f in alpha.field_schema("DEMO", "bug")}
    with pytest.raises(ValuesNotAccepted) as raised:
        alpha.create_artifact("DEMO", "bug", {"summary": "x", "story_points": 3})
    assert "story_points" in raised.value.fields


def test_all_refused_values_are_named_at_once(alpha):
    made = alpha.create_artifact("DEMO", "bug", {"summary": "x"})
    with pytest.raises(ValuesNotAccepted) as raised:
        alpha.update_artifact(
            made.id,
            {
                "priority": "whenever",
                "assignee": "999999",
                "due_date": "tomorrow",
                "web_links": [{"url": "javascript:x"}],
            },
        )
    assert set(raised.value.fields) == {"priority", "assignee", "due_date", "web_links"}
    assert alpha.read_artifact(made.id).revision == made.revision


def test_refused_upload_keeps_no_file(alpha, settings):
    made = alpha.create_artifact("DEMO", "bug", {"summary": "x"})
    with pytest.raises(ValuesNotAccepted):
        alpha.upload_attachment(made.id, "big.bin", [b"x" * 2048], max_bytes=1024)
    directory = service.attachments_dir(service.tracker("alpha"))
    assert not directory.exists() or list(directory.iterdir()) == []


def test_loader_creates_items_that_change_detection_pages_through(db, capsys):
    call_command("load_local_items", tracker="bench", project="LOAD", count=250)
    assert re.search(r"Loaded 250 items into LOAD of local://bench in [\d.]+ s", capsys.readouterr().out)
    connector = local("local://bench")
    seen, cursor = [], None
    while True:
        page = connector.changed_since("LOAD", None, cursor=cursor, page_size=100)
        seen += [item.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 250 == LocalItem.objects.filter(project__key="LOAD").count()


def test_an_empty_update_makes_no_new_revision(alpha):
    made = alpha.create_artifact("DEMO", "bug", {"summary": "x"})
    again = alpha.update_artifact(made.id, {})
    assert (again.revision, again.updated) == (made.revision, made.updated)


def test_lists_of_persons_and_items_refuse_blanks_and_self(alpha):
    made = alpha.create_artifact("DEMO", "bug", {"summary": "x"})
    with pytest.raises(ValuesNotAccepted) as raised:
        alpha.update_artifact(made.id, {"watchers": [None], "related": [made.id], "parent": made.id})
    assert set(raised.value.fields) == {"watchers", "related", "parent"}


def test_several_items_are_created_together_or_not_at_all(alpha):
    ann = LocalUser.objects.create(tracker=alpha.tracker, username="ann", display_name="Ann")
    made = alpha.create_artifacts(
        "DEMO", "bug", [({"summary": "one", "watchers": [str(ann.pk)]}, "m-1"), ({"summary": "two"}, "m-2")]
    )
    assert [a.formatted_id for a in made] == ["DEMO-1", "DEMO-2"]
    # What create returns is what a fresh read gives.
    assert made == [alpha.read_artifact(a.id) for a in made]
    assert alpha.find_by_marker("DEMO", "bug", "m-2").id == made[1].id
    with pytest.raises(ValuesNotAccepted):
        alpha.create_artifacts("DEMO", "bug", [({"summary": "three"}, ""), ({"summary": ""}, "")])
    assert LocalItem.objects.count() == 2  # the refused batch left nothing behind
    assert alpha.create_artifact("DEMO", "bug", {"summary": "next"}).formatted_id == "DEMO-3"


def test_reading_several_items_leaves_out_the_missing(alpha):
    first, second = (alpha.create_artifact("DEMO", "bug", {"summary": s}) for s in ("a", "b"))
    found = alpha.read_artifacts([first.id, "999999", second.id])
    assert found == {first.id: alpha.read_artifact(first.id), second.id: alpha.read_artifact(second.id)}


def test_a_listing_page_starts_at_its_cursor_with_ties_on_the_updated_time(db):
    """Items made together share one ``updated``: pages split such a run by id, none is lost or
    repeated, and each page's query bounds ``updated`` from below (the range an index scan of
    (project, updated, id) starts from, not the project's first item)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tracker = service.tracker("ties")
    project = service.create_project(tracker, "TIE", "Ties")
    for start in range(0, 30, 10):  # three runs of ten items with one updated time each
        service.create_items(
            project, "bug", [({"summary": f"Item {n}"}, "") for n in range(start, start + 10)]
        )
    connector = local("local://ties")
    seen, cursor, queries = [], None, []
    while True:
        with CaptureQueriesContext(connection) as captured:
            page = connector.changed_since("TIE", None, cursor=cursor, page_size=7)
        if cursor is not None:
            queries += [q["sql"] for q in captured.captured_queries if "connectors_localitem" in q["sql"]]
        seen += [item.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    made = sorted(LocalItem.objects.filter(project=project).values_list("updated", "pk"))
    assert seen == [str(pk) for _, pk in made] and len(set(seen)) == 30
    bound = f"{connection.ops.quote_name('updated')} >= "
    assert queries and all(bound in sql for sql in queries)
