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


# --- insert_instances: what bulk_create stores, without its SQL compiler (the batch's inserts) ---


def unsaved_pairs(count: int, start: int = 0, integration: int = 7) -> list:
    from activity.models import ArtifactPair

    return [
        ArtifactPair(
            integration_id=integration,
            integration_name="Bench",
            a_artifact_id=str(n),
            a_formatted_id=f"DEMO-{n}",
            a_summary=f"Item {n}",
            a_snapshot={"title": f"Item {n}", "_revision": "r1"},
            b_artifact_id=str(10_000 + n),
            b_summary=f"Item {n} ↔ twin",
            b_snapshot={"title": f"Item {n}"},
        )
        for n in range(start, start + count)
    ]


def stored(pair) -> dict:
    """Every column of a pair's row but the ones two inserts differ in by construction."""
    from activity.models import ArtifactPair

    ignored = {"id", "integration_id", "created", "updated", "search_text"}
    row = ArtifactPair.objects.filter(pk=pair.pk).values().get()
    return {key: value for key, value in row.items() if key not in ignored}


def test_instances_are_stored_as_bulk_create_stores_them_and_come_back_saved():
    from activity.models import ArtifactPair
    from hub.bulk import insert_instances

    before = timezone.now()
    mine, theirs = unsaved_pairs(3), unsaved_pairs(3, integration=8)
    assert insert_instances(mine) == mine
    ArtifactPair.objects.bulk_create(theirs)
    assert len({pair.pk for pair in mine}) == 3
    for ours, django_s in zip(mine, theirs, strict=True):
        assert ours.pk is not None and not ours._state.adding and ours._state.db == "default"
        assert stored(ours) == stored(django_s)
        row = ArtifactPair.objects.get(pk=ours.pk)
        assert (row.integration_id, row.a_snapshot) == (7, ours.a_snapshot)
        # auto_now / auto_now_add set on the instance, as bulk_create sets them
        assert before - dt.timedelta(seconds=1) <= ours.created == row.created <= timezone.now()
        assert ours.updated == row.updated


def test_the_generated_search_column_is_returned_where_the_database_computes_it():
    from django.db import connection

    from activity.models import ArtifactPair
    from hub.bulk import insert_instances

    (pair,) = insert_instances(unsaved_pairs(1, start=4711))
    assert ArtifactPair.objects.filter(search_text__icontains="item 4711 ↔").count() == 1
    if connection.vendor == "postgresql":  # RETURNING, as bulk_create gets it there
        assert "DEMO-4711" in pair.search_text


def test_a_duplicate_instance_is_an_integrity_error_and_stores_nothing():
    from django.db import IntegrityError, transaction

    from activity.models import ArtifactPair
    from hub.bulk import insert_instances

    insert_instances(unsaved_pairs(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_instances(unsaved_pairs(2))
    assert ArtifactPair.objects.count() == 1


def test_an_expression_or_a_saved_instance_goes_through_bulk_create(monkeypatch):
    from django.db.models import QuerySet, Value

    from activity.models import ArtifactPair
    from hub.bulk import insert_instances

    calls = []
    real = QuerySet.bulk_create
    monkeypatch.setattr(
        QuerySet, "bulk_create", lambda self, objs: calls.append(len(objs)) or real(self, objs)
    )
    pairs = unsaved_pairs(2)
    pairs[1].a_summary = Value("computed")
    insert_instances(pairs)
    assert ArtifactPair.objects.get(pk=pairs[1].pk).a_summary == "computed"
    assert calls == [2]
    saved = ArtifactPair.objects.get(pk=pairs[0].pk)
    saved.a_artifact_id, saved.b_artifact_id = "x", "y"
    saved.pk = 99_999  # a primary key given: bulk_create's own handling
    insert_instances([saved])
    assert calls == [2, 1] and ArtifactPair.objects.filter(pk=99_999).exists()


def test_no_instances_send_nothing(django_assert_num_queries):
    from hub.bulk import insert_instances

    with django_assert_num_queries(0):
        assert insert_instances([]) == []


def test_a_value_sent_as_it_is_is_what_get_db_prep_save_returns():
    """The pass-through of insert_instances: for every field of the batch's three models, each
    value it lets through unprepared is returned unchanged (same value, same type) by the field's
    own get_db_prep_save on this database."""
    from django.db import connection

    from activity.models import ArtifactPair
    from connectors.local.models import LocalItem
    from hub.bulk import _unchanged
    from integrations.models import CreationIntent

    samples = [
        None,
        "",
        "text",
        0,
        7,
        True,
        False,
        timezone.now(),
        dt.datetime(2026, 1, 1),
        1.5,
        {"a": 1},
        [],
    ]
    let_through = 0
    for model in (ArtifactPair, CreationIntent, LocalItem):
        for field in model._meta.concrete_fields:
            kept = _unchanged(field, connection)
            for value in samples if kept else []:
                if kept(value):
                    let_through += 1
                    prepared = field.get_db_prep_save(value, connection)
                    assert prepared == value and type(prepared) is type(value), (field, value)
    assert let_through > 0 or connection.vendor != "postgresql"
