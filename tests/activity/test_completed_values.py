"""A completed activity keeps only what changed, compactly (integrations.engine.processing.kept_values:
``[new]`` or ``[original, new]`` per field, JSON without spaces), and the Activity screen shows it as
it showed the full form: an absent original is an empty cell. Rows completed before keep their
``{"original": …, "new": …}`` and show the same."""

import re

import pytest
from django.db import connection

from activity.models import ArtifactActivity
from integrations.engine.processing import kept_values
from tests.activity import factories

pytestmark = pytest.mark.django_db


def test_a_creation_keeps_the_new_values_without_an_original():
    kept = kept_values({"title": {"original": None, "new": "Crash"}, "details": {"original": "", "new": "x"}})
    assert kept == {"title": ["Crash"], "details": ["", "x"]}


def test_an_update_keeps_original_and_new():
    assert kept_values({"title": {"original": "Old", "new": "New"}}) == {"title": ["Old", "New"]}


def test_list_values_stay_whole_in_either_form():
    kept = kept_values(
        {"labels": {"original": None, "new": ["a", "b"]}, "tags": {"original": ["x"], "new": []}}
    )
    row = ArtifactActivity(changed_fields=kept)
    assert row.changed_values() == [("labels", None, ["a", "b"]), ("tags", ["x"], [])]


def test_rows_completed_before_read_as_they_did():
    before = {"title": {"new": "Crash"}, "details": {"original": "o", "new": "n"}}
    row = ArtifactActivity(changed_fields=before)
    assert row.changed_values() == [("title", None, "Crash"), ("details", "o", "n")]


def stored_text(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(ArtifactActivity._meta.db_table)
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def test_the_json_columns_are_written_without_spaces():
    [row] = factories.activities(
        1,
        "completed",
        changed_fields=kept_values({"title": {"original": "Old", "new": "New"}}),
        conflicts=[{"field": "title", "a": "x", "b": "y", "winner": "A", "strategy": "A wins"}],
    )
    if connection.vendor == "postgresql":
        pytest.skip("jsonb keeps no text; PostgreSQL prints it with its own spaces")
    assert stored_text(row.pk, "changed_fields") == '{"title":["Old","New"]}'
    decisions = '[{"field":"title","a":"x","b":"y","winner":"A","strategy":"A wins"}]'
    assert stored_text(row.pk, "conflicts") == decisions


def value_rows(html: str, field: str) -> list[list[str]]:
    """The Original and New cells of every row of ``field`` in the values tables."""
    return [
        re.findall(r"<td>(.*?)</td>", row) for row in re.findall(rf"<tr><td>{field}</td>(.*?)</tr>", html)
    ]


def test_the_completed_tab_shows_a_created_activity_with_an_empty_original(admin_client):
    created = kept_values({"Summary": {"original": None, "new": "Crash"}})
    factories.activities(1, "completed", result="created", changed_fields=created)
    factories.activities(1, "completed", start=1)  # an update: Summary Old → New
    before = {"Summary": {"original": "Was", "new": "Is"}}  # kept as it was before the compact form
    factories.activities(1, "completed", start=2, changed_fields=before)
    html = admin_client.get("/activity/activities/completed/").content.decode()
    assert sorted(value_rows(html, "Summary")) == [["", "Crash"], ["Old", "New"], ["Was", "Is"]]


@pytest.mark.django_db(transaction=True)  # a migration's schema editor; real commits: MariaDB too
def test_the_migration_leaves_the_columns_and_the_rows_kept_before_as_they_were():
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("activity", "0009_configuration_migration_job")], [("activity", "0010_compact_json")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    executor.loader.build_graph()
    old = executor.loader.project_state(before).apps.get_model("activity", "ArtifactActivity")
    kept = old.objects.create(
        integration_id=1,
        source_side="A",
        artifact_id="1",
        status="completed",
        changed_fields={"title": {"original": "Old", "new": "New"}},
    )
    columns = {
        c.name
        for c in connection.introspection.get_table_description(connection.cursor(), old._meta.db_table)
    }

    MigrationExecutor(connection).migrate(after)
    assert ArtifactActivity.objects.get(pk=kept.pk).changed_values() == [("title", "Old", "New")]
    table = ArtifactActivity._meta.db_table
    assert {
        c.name for c in connection.introspection.get_table_description(connection.cursor(), table)
    } == columns
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
