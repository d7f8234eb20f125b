"""hub.bulk.insert_rows: what ``bulk_create`` would store, without its per-row model work, on every
database engine (marked ``database``: the statement differs per engine)."""

import datetime as dt

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity
from hub.bulk import insert_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]

COMMON = {"integration_id": 7, "integration_name": "Bench", "source_side": "A", "source_project": "DEMO"}


def waiting(artifact_id: str) -> dict:
    return {"artifact_id": artifact_id, "waiting_key": ArtifactActivity.make_waiting_key(7, "A", artifact_id)}


def test_rows_get_the_shared_values_the_defaults_and_the_time():
    before = timezone.now()
    sent = insert_rows(ArtifactActivity, COMMON, [waiting("1"), waiting("2")])
    rows = list(ArtifactActivity.objects.order_by("artifact_id"))
    assert sent == 2
    assert [(r.artifact_id, r.waiting_key) for r in rows] == [("1", "7:A:1"), ("2", "7:A:2")]
    for row in rows:
        assert (row.integration_id, row.integration_name, row.source_side) == (7, "Bench", "A")
        assert (row.status, row.priority, row.retry_count, row.recreate) == ("pending", 0, 0, False)
        assert (row.changed_fields, row.conflicts, row.next_retry_at) == ({}, [], None)
        assert row.created == row.updated
        assert before - dt.timedelta(seconds=1) <= row.created <= timezone.now()


def test_the_generated_search_column_is_filled_by_the_database():
    insert_rows(ArtifactActivity, COMMON, [{**waiting("4711"), "summary": "Crash on save"}])
    assert ArtifactActivity.objects.filter(search_text__icontains="crash on").count() == 1
    assert ArtifactActivity.objects.filter(search_text__contains="4711").count() == 1


def test_json_and_per_row_values_are_stored_as_given():
    insert_rows(
        ArtifactActivity,
        COMMON,
        [
            {**waiting("1"), "changed_fields": {"title": {"new": "Ä ↔ b"}}, "priority": 3},
            {**waiting("2"), "conflicts": [{"field": "title", "winner": "A"}]},
        ],
    )
    first, second = ArtifactActivity.objects.order_by("artifact_id")
    assert (first.changed_fields, first.priority) == ({"title": {"new": "Ä ↔ b"}}, 3)
    assert (second.changed_fields, second.conflicts, second.priority) == (
        {},
        [{"field": "title", "winner": "A"}],
        0,
    )


def test_with_ignore_conflicts_a_row_breaking_a_unique_key_is_skipped_and_the_others_stored():
    insert_rows(ArtifactActivity, COMMON, [waiting("1")])
    insert_rows(ArtifactActivity, COMMON, [waiting("1"), waiting("2")], ignore_conflicts=True)
    assert sorted(ArtifactActivity.objects.values_list("artifact_id", flat=True)) == ["1", "2"]


def test_without_ignore_conflicts_a_duplicate_is_an_error():
    from django.db import IntegrityError

    insert_rows(ArtifactActivity, COMMON, [waiting("1")])
    with pytest.raises(IntegrityError):
        insert_rows(ArtifactActivity, COMMON, [waiting("1")])


def test_a_page_of_a_thousand_rows_is_one_call():
    insert_rows(ArtifactActivity, COMMON, [waiting(str(n)) for n in range(1000)], ignore_conflicts=True)
    assert ArtifactActivity.objects.count() == 1000


def test_nothing_to_insert_sends_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_rows(ArtifactActivity, COMMON, []) == 0


def test_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="no insertable field search_text"):
        insert_rows(ArtifactActivity, COMMON, [{**waiting("1"), "search_text": "x"}])
