"""Two-way Work Item Synchronization between two local trackers, end to end on the real database."""

import datetime as dt

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from metrics.models import DailyCount
from tests.engine.sync import (
    HIGH_PRIORITY_CREATED_ONLY,
    change,
    hold_as_another_worker,
    items,
    new_item,
    revisions,
    run,
    the_worker_died,
)

pytestmark = pytest.mark.django_db(transaction=True)


def twin_of(item):
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    from connectors.local.models import LocalItem

    return LocalItem.objects.get(pk=int(pair.b_artifact_id))


def test_new_item_gets_one_twin_with_its_values(running):
    item = new_item("alpha", "DEMO", "Crash on save", priority="high")
    run(running)
    [twin] = items("beta", "WEB")
    assert (twin.summary, twin.priority) == ("Crash on save", "high")
    activity = ArtifactActivity.objects.get(artifact_id=str(item.pk))
    assert (activity.status, activity.result) == ("completed", "created")
    assert activity.changed_fields["title"] == ["Crash on save"]  # no original: a new twin
    assert DailyCount.objects.get(integration_id=running.pk).created == 1


def test_update_flows_both_ways_and_hub_does_not_write_back_its_own_write(running):
    item = new_item("alpha", "DEMO", "First")
    run(running)
    twin = twin_of(item)
    before = revisions("alpha"), revisions("beta")
    change(item, summary="Second")
    run(running)
    twin.refresh_from_db()
    assert twin.summary == "Second"
    # One write to beta (the update); none back to alpha although beta's change is detected.
    assert (revisions("alpha"), revisions("beta")) == (before[0] + 1, before[1] + 1)
    change(twin, summary="Third")
    run(running)
    item.refresh_from_db()
    assert item.summary == "Third"
    assert ArtifactActivity.objects.filter(status="completed", result="updated").count() == 2


def test_field_flowing_one_way_is_not_written_back(running):
    item = new_item("alpha", "DEMO", "One way", priority="low")
    run(running)
    twin = twin_of(item)
    change(twin, priority="high")  # priority flows A → B only
    run(running)
    item.refresh_from_db()
    assert item.priority == "low"


def conflicting_edits(integration, strategy):
    """Pair an item, change the title on both sides, synchronize; return both, fresh."""
    integration.conflict_strategy = strategy
    integration.save()
    item = new_item("alpha", "DEMO", "Original")
    run(integration)
    twin = twin_of(item)
    change(item, summary="from alpha")
    change(twin, summary="from beta")
    run(integration)
    item.refresh_from_db()
    twin.refresh_from_db()
    return item, twin


@pytest.mark.parametrize(("strategy", "winner"), [("a_wins", "from alpha"), ("b_wins", "from beta")])
def test_conflict_is_resolved_by_the_strategy(running, strategy, winner):
    item, twin = conflicting_edits(running, strategy)
    assert item.summary == twin.summary == winner
    before = revisions("alpha"), revisions("beta")
    run(running)
    assert (revisions("alpha"), revisions("beta")) == before  # the resolution's writes do not bounce


def test_conflict_with_error_strategy_fails_with_50002E_showing_both_values(running):
    item, twin = conflicting_edits(running, "error")
    failed = ArtifactActivity.objects.filter(status="failed", code="CCRRTT-50002E")
    assert failed.count() >= 1
    assert "from alpha" in failed[0].message and "from beta" in failed[0].message
    assert failed[0].next_retry_at is not None and failed[0].retry_count == 1
    assert (item.summary, twin.summary) == ("from alpha", "from beta")  # nothing overwritten


def test_comments_flow_once_each(running):
    from connectors.local import service

    item = new_item("alpha", "DEMO", "With comments")
    service.add_comment(item.pk, None, "first")
    run(running)
    twin = twin_of(item)
    service.add_comment(twin.pk, None, "reply")
    service.add_comment(item.pk, None, "private note", private=True)  # internal: skip
    run(running)
    run(running)
    assert sorted(c.body for c in twin.comments.all()) == ["first", "reply"]
    assert sorted(c.body for c in item.comments.all()) == ["first", "private note", "reply"]


def test_a_twin_created_without_its_comments_fails_with_17006E_and_retry_finishes_it(running, monkeypatch):
    from django.utils import timezone

    from connectors.errors import Unreachable
    from connectors.local import service
    from connectors.local.connector import LocalConnector

    def unreachable(self, *args, **kwargs):
        raise Unreachable("beta stopped answering")

    item = new_item("alpha", "DEMO", "Created, then the tool went away")
    service.add_comment(item.pk, None, "first")
    with monkeypatch.context() as patched:
        patched.setattr(LocalConnector, "add_comment", unreachable)
        run(running)
    failed = ArtifactActivity.objects.get(status="failed")
    [twin] = items("beta", "WEB")
    assert failed.code == "CCRRTT-17006E" and "CCRRTT-1000E: beta stopped answering" in failed.message
    assert (twin.formatted_id or str(twin.pk)) in failed.message
    ArtifactActivity.objects.filter(pk=failed.pk).update(next_retry_at=timezone.now())
    run(running)
    assert [t.pk for t in items("beta", "WEB")] == [twin.pk]  # the same twin, finished
    assert [c.body for c in twin_of(item).comments.all()] == ["first"]


def test_target_deleted_fails_with_50001E_and_recreate_makes_a_new_twin(running):
    from activity.services import recreate_activities
    from connectors.local import service

    item = new_item("alpha", "DEMO", "Will lose its twin")
    run(running)
    service.delete_item(twin_of(item).pk)
    change(item, summary="Changed after the twin was deleted")
    run(running)
    failed = ArtifactActivity.objects.get(status="failed")
    assert (failed.code, failed.twin_deleted) == ("CCRRTT-50001E", True)
    recreate_activities(ArtifactActivity.objects.filter(pk=failed.pk))
    run(running)
    [twin] = items("beta", "WEB")
    assert twin.summary == "Changed after the twin was deleted"
    assert twin_of(item).pk == twin.pk


def test_filters_keep_out_of_scope_items_from_being_created(running):
    running.filters = HIGH_PRIORITY_CREATED_ONLY
    running.save()
    new_item("alpha", "DEMO", "Low one", priority="low")
    new_item("alpha", "DEMO", "High one", priority="high")
    run(running)
    assert [i.summary for i in items("beta", "WEB")] == ["High one"]


def test_no_route_fails_with_17019E(running):
    running.routes.all().delete()
    running.routes.create(project_a="DEMO", project_b="WEB", direction="b_to_a")
    new_item("alpha", "DEMO", "Nowhere to go")
    run(running)
    assert ArtifactActivity.objects.get().code == "CCRRTT-17019E"


def test_one_waiting_activity_per_artifact(running):
    from integrations.engine import detection

    item = new_item("alpha", "DEMO", "Changed often")
    detection.detect(running.pk)
    change(item, summary="again")
    detection.detect(running.pk)
    change(item, summary="and again")
    detection.detect(running.pk, full=True)
    assert ArtifactActivity.objects.filter(artifact_id=str(item.pk), source_side="A").count() == 1


class SteppingClock:
    """``time`` as detection sees it: each monotonic reading 1.25 s after the one before."""

    def __init__(self):
        self.now = 100.0

    def monotonic(self) -> float:
        self.now += 1.25
        return self.now


def test_a_full_scan_records_its_time_and_duration_per_project(running, admin_client, monkeypatch):
    from django.urls import reverse

    from integrations.engine import detection
    from integrations.models import ChangeWatermark

    new_item("alpha", "DEMO", "Scanned")
    detection.detect(running.pk)  # the first scan of a project reads everything: a full one too
    monkeypatch.setattr(detection, "time", SteppingClock())
    detection.detect(running.pk)  # incremental: the recorded full scan stays as it was
    marks = ChangeWatermark.objects.filter(integration=running)
    first = {(m.side, m.project): (m.last_full_scan, m.last_full_scan_seconds) for m in marks}
    assert first and all(when and seconds is not None and seconds < 1.25 for when, seconds in first.values())

    detection.detect(running.pk, full=True)
    again = {(m.side, m.project): (m.last_full_scan, m.last_full_scan_seconds) for m in marks.all()}
    assert set(again) == set(first)
    assert all(again[key][0] > first[key][0] and again[key][1] == 1.25 for key in again)
    page = admin_client.get(reverse("settings-advanced")).content.decode()
    row = page.split(f'href="{running.get_absolute_url()}"')[1]
    duration = row.split('data-testid="full-scan-duration">')[1]
    assert duration.startswith(f"{1.25 * len(again):.1f} s</td>")


def test_stopped_integration_detects_and_processes_nothing(running):
    from integrations.services import stop

    stop(running)
    new_item("alpha", "DEMO", "Not now")
    run(running)
    assert ArtifactActivity.objects.count() == 0 and items("beta", "WEB") == []


def test_crash_between_remote_create_and_pair_record_leaves_one_twin(running, monkeypatch):
    from connectors.local.connector import LocalConnector

    class WorkerDied(BaseException):
        pass

    def then_die(create):
        def create_then_die(self, *args, **kwargs):
            create(self, *args, **kwargs)
            raise WorkerDied

        return create_then_die

    # The engine creates twins together where the tool can (create_artifacts), else one by one.
    originals = {name: getattr(LocalConnector, name) for name in ("create_artifact", "create_artifacts")}
    for name, create in originals.items():
        monkeypatch.setattr(LocalConnector, name, then_die(create))
    item = new_item("alpha", "DEMO", "Created once")
    with pytest.raises(WorkerDied):
        run(running)
    assert len(items("beta", "WEB")) == 1 and not ArtifactPair.objects.exists()
    for name, create in originals.items():
        monkeypatch.setattr(LocalConnector, name, create)
    change(item, summary="Changed while the worker was dead")  # must reach the twin found by marker
    the_worker_died()  # then any worker picks the activity up again
    run(running)
    assert not ArtifactActivity.objects.filter(status="processing").exists()
    [twin] = items("beta", "WEB")
    assert twin_of(item).pk == twin.pk
    assert twin.summary == "Changed while the worker was dead"
    assert ArtifactActivity.objects.get(source_side="A", status="completed").result == "associated"


@pytest.fixture
def with_people_and_parents(running, model, collections):
    """Assignee ↔ owner (person) and parent ↔ parent (relationship) mapped on both sides."""
    from connectors.local import service
    from connectors.local.models import LocalUser
    from integrations.models import FieldMapping, ModelField

    ModelField.objects.create(model=model, key="owner", label="Owner", type="person", position=5)
    ModelField.objects.create(model=model, key="parent", label="Parent", type="relationship", position=6)
    for collection in collections:
        for field, key, kind in (("assignee", "owner", "person"), ("parent", "parent", "relationship")):
            FieldMapping.objects.create(
                collection=collection,
                repository_fields=[field],
                repository_field_types={field: kind},
                model_fields=[key],
                model_field_types={key: kind},
            )
    running.field_flows = {**running.field_flows, "owner": "both", "parent": "both"}
    running.save()
    ann_alpha = LocalUser.objects.create(
        tracker=service.tracker("alpha"), username="ann", email="ann@example.com"
    )
    ann_beta = LocalUser.objects.create(
        tracker=service.tracker("beta"), username="ann", email="ann@example.com"
    )
    return running, ann_alpha, ann_beta


def test_person_fields_are_reconciled_and_sighted(with_people_and_parents):
    from metrics.models import PersonSighting

    running, ann_alpha, ann_beta = with_people_and_parents
    item = new_item("alpha", "DEMO", "Assigned", assignee=str(ann_alpha.pk))
    run(running)
    assert twin_of(item).assignee_id == ann_beta.pk
    sighting = PersonSighting.objects.get(person_id=str(ann_alpha.pk))
    assert (sighting.username, sighting.field) == ("ann", "owner")


def test_a_person_in_a_field_that_does_not_flow_is_sighted_too(with_people_and_parents):
    """The user count counts people on artifacts Hub processed even where the person field stays
    each side's own (nothing is read or searched for them)."""
    from metrics.models import PersonSighting, RepositoryPerson

    running, ann_alpha, _ = with_people_and_parents
    running.field_flows = {**running.field_flows, "owner": "b_to_a"}  # from A it does not flow
    running.save()
    item = new_item("alpha", "DEMO", "Assigned, not copied", assignee=str(ann_alpha.pk))
    run(running)
    assert twin_of(item).assignee_id is None
    sighting = PersonSighting.objects.get(person_id=str(ann_alpha.pk))
    assert (sighting.field, sighting.count, sighting.repository_id) == (
        "owner",
        1,
        running.collection_a.repository_id,
    )
    assert RepositoryPerson.objects.filter(person_id=str(ann_alpha.pk), person_uid=None).count() == 1


def test_relationship_arriving_before_its_target_fails_with_17014E_then_resolves(with_people_and_parents):
    from django.utils import timezone

    from integrations.engine import detection, processing

    running = with_people_and_parents[0]
    parent = new_item("alpha", "DEMO", "Parent")
    child = new_item("alpha", "DEMO", "Child", parent=str(parent.pk))
    detection.detect(running.pk)
    ArtifactActivity.objects.filter(artifact_id=str(parent.pk)).update(priority=-1)  # the child goes first
    processing.process_batch(limit=1, worker="test")
    failed = ArtifactActivity.objects.get(artifact_id=str(child.pk))
    assert (failed.status, failed.code) == ("failed", "CCRRTT-17014E")
    assert failed.next_retry_at > timezone.now()
    run(running)  # the parent gets its twin
    ArtifactActivity.objects.filter(pk=failed.pk).update(next_retry_at=timezone.now())  # its retry comes due
    run(running)
    assert twin_of(child).parent_id == twin_of(parent).pk


def test_a_link_to_an_artifact_with_twins_from_two_integrations_fails_with_17015E(with_people_and_parents):
    from activity.models import ArtifactPair
    from integrations.models import Integration

    running = with_people_and_parents[0]
    parent = new_item("alpha", "DEMO", "Parent")
    run(running)
    other_copy = new_item("beta", "WEB", "Parent, copied by another integration")
    another = Integration.objects.create(
        name="Another", collection_a=running.collection_a, collection_b=running.collection_b
    )
    ArtifactPair.objects.create(
        integration_id=another.pk, a_artifact_id=str(parent.pk), b_artifact_id=str(other_copy.pk)
    )
    child = new_item("alpha", "DEMO", "Child", parent=str(parent.pk))
    run(running)
    failed = ArtifactActivity.objects.get(artifact_id=str(child.pk))
    assert (failed.status, failed.code) == ("failed", "CCRRTT-17015E")
    assert f"{parent.pk}, which has 2 twins" in failed.message and str(other_copy.pk) in failed.message


# --- a batch of activities ------------------------------------------------------------------------


def test_twins_of_a_batch_are_created_in_one_request_to_the_tool(running, monkeypatch):
    from connectors.local.connector import LocalConnector

    calls = []
    create_artifacts = LocalConnector.create_artifacts

    def counted(self, project, artifact_type, batch):
        calls.append(len(batch))
        return create_artifacts(self, project, artifact_type, batch)

    monkeypatch.setattr(LocalConnector, "create_artifacts", counted)
    sources = [new_item("alpha", "DEMO", f"Item {n}") for n in range(12)]
    run(running)
    assert calls == [12]
    assert sorted(twin_of(item).summary for item in sources) == sorted(f"Item {n}" for n in range(12))
    assert ArtifactActivity.objects.filter(status="completed", result="created").count() == 12
    assert DailyCount.objects.get(integration_id=running.pk).created == 12


def test_a_value_the_tool_refuses_fails_only_its_own_activity(running, monkeypatch):
    """The tool makes a batch all or none; when it refuses, each twin is created alone, so the
    refused one fails with its code and the others are created."""
    from integrations.models import CreationIntent

    good = [new_item("alpha", "DEMO", f"Fine {n}") for n in range(3)]
    bad = new_item("alpha", "DEMO", "Too long for beta")
    from connectors.local import service

    create_item = service.create_item

    def refuse_one(project, item_type, values, **kwargs):
        if values.get("summary") == "Too long for beta":
            raise service.ValuesNotAccepted("WEB refused the values", fields={"summary": "too long"})
        return create_item(project, item_type, values, **kwargs)

    monkeypatch.setattr(service, "create_item", refuse_one)
    monkeypatch.setattr(
        service, "create_items", lambda *args, **kwargs: [refuse_one(*args[:2], v) for v, _ in args[2]]
    )
    run(running)
    assert sorted(twin_of(item).summary for item in good) == ["Fine 0", "Fine 1", "Fine 2"]
    failed = ArtifactActivity.objects.get(artifact_id=str(bad.pk))
    assert failed.status == "failed" and failed.code.startswith("CCRRTT-") and "too long" in failed.message
    assert failed.retry_count == 1 and failed.next_retry_at is not None
    assert not ArtifactPair.objects.filter(a_artifact_id=str(bad.pk)).exists()
    # Its intent stays for the retry, which looks for the twin by marker before creating one.
    assert list(CreationIntent.objects.values_list("source_artifact_id", flat=True)) == [str(bad.pk)]


def test_an_artifact_another_worker_holds_waits_while_the_rest_of_the_batch_goes_on(running):
    from integrations.engine import claims, detection, processing

    held, free = new_item("alpha", "DEMO", "Held"), new_item("alpha", "DEMO", "Free")
    detection.detect(running.pk)
    other_worker = hold_as_another_worker(claims.lock_key(running.pk, "A", str(held.pk)))
    try:
        processing.process_batch(limit=10, worker="test")
    finally:
        other_worker()
    busy = ArtifactActivity.objects.get(artifact_id=str(held.pk))
    assert (busy.status, busy.code) == ("failed", "CCRRTT-17004W")
    assert ArtifactActivity.objects.get(artifact_id=str(free.pk)).status == "completed"
    assert twin_of(free).summary == "Free" and not ArtifactPair.objects.filter(a_artifact_id=str(held.pk))


def test_activities_refused_a_lock_at_the_same_moment_come_back_at_different_moments(running):
    """Two workers that each hold one twin and are refused the other's fail together; with one fixed
    retry delay they met again every 5 s (issue #20: rows still retrying 17004W at the end)."""
    from django.utils import timezone

    from integrations.engine import claims, detection, processing

    items = [new_item("alpha", "DEMO", f"Held {n}") for n in range(8)]
    detection.detect(running.pk)
    release = [hold_as_another_worker(claims.lock_key(running.pk, "A", str(i.pk))) for i in items]
    try:
        before = timezone.now()
        processing.process_batch(limit=10, worker="test")
    finally:
        for other_worker in release:
            other_worker()
    due = [a.next_retry_at - before for a in ArtifactActivity.objects.filter(code="CCRRTT-17004W")]
    assert len(due) == 8
    assert all(dt.timedelta(seconds=5) <= d <= dt.timedelta(seconds=11) for d in due)
    assert max(due) - min(due) > dt.timedelta(seconds=0.5)  # spread, beyond the milliseconds between them


def test_a_twin_detected_before_its_pair_was_recorded_costs_no_write_and_leaves_no_row(running, monkeypatch):
    """Detection may see a twin Hub has just created before the pair is committed; processing then
    finds it at the revision Hub recorded and drops it without reading or writing anything."""
    from connectors.local.connector import LocalConnector
    from integrations.engine import processing

    item = new_item("alpha", "DEMO", "Echo")
    run(running)
    twin = twin_of(item)
    before = revisions("alpha"), revisions("beta")
    ArtifactActivity.objects.create(
        integration_id=running.pk, source_side="B", artifact_id=str(twin.pk), status="pending"
    )
    reads = []
    monkeypatch.setattr(LocalConnector, "read_artifact", lambda self, artifact_id: reads.append(artifact_id))
    processing.process_batch(limit=10, worker="test")
    assert reads == []  # the batch read was enough
    assert (revisions("alpha"), revisions("beta")) == before
    assert not ArtifactActivity.objects.filter(source_side="B").exists()


def test_a_twin_changed_between_hubs_read_and_its_write_is_not_silently_overwritten(running, monkeypatch):
    """The local tracker has optimistic concurrency: Hub's write holds only if the twin is still as
    read. Someone changing the same field in between makes the write fail (retried soon, reading
    afresh), and the retry finds the conflict instead of overwriting that change."""
    from django.utils import timezone

    from connectors.local.connector import LocalConnector

    running.conflict_strategy = "error"
    running.save()
    item = new_item("alpha", "DEMO", "Racing")
    run(running)
    twin = twin_of(item)
    update_artifact = LocalConnector.update_artifact

    def someone_edits_first(self, artifact_id, fields, **kwargs):
        monkeypatch.setattr(LocalConnector, "update_artifact", update_artifact)
        change(twin, summary="renamed in beta meanwhile")
        return update_artifact(self, artifact_id, fields, **kwargs)

    monkeypatch.setattr(LocalConnector, "update_artifact", someone_edits_first)
    change(item, summary="renamed in alpha")
    run(running, rounds=1)
    refused = ArtifactActivity.objects.get(artifact_id=str(item.pk), status="failed")
    assert refused.code == "CCRRTT-1112E"  # the artifact changed meanwhile
    assert refused.next_retry_at <= timezone.now() + dt.timedelta(seconds=11)  # soon (5-10 s), not in 30 s
    twin.refresh_from_db()
    assert twin.summary == "renamed in beta meanwhile"
    ArtifactActivity.objects.filter(pk=refused.pk).update(next_retry_at=timezone.now())
    run(running)
    twin.refresh_from_db()
    item.refresh_from_db()
    assert (item.summary, twin.summary) == ("renamed in alpha", "renamed in beta meanwhile")
    conflict = ArtifactActivity.objects.get(artifact_id=str(item.pk), status="failed")
    assert conflict.code == "CCRRTT-50002E"
    assert "renamed in alpha" in conflict.message and "renamed in beta meanwhile" in conflict.message


def test_ignored_activities_are_retried_only_while_the_screens_switch_is_on(running):
    from activity import services
    from integrations.engine import detection, processing

    item = new_item("alpha", "DEMO", "Ignored once")
    detection.detect(running.pk)
    services.ignore_activities(ArtifactActivity.objects.all())
    assert processing.process_batch(limit=10, worker="test") == 0
    assert not items("beta", "WEB")
    services.set_auto_retry_ignored(True)
    assert processing.process_batch(limit=10, worker="test") == 1
    assert twin_of(item).summary == "Ignored once"
    assert ArtifactActivity.objects.get(artifact_id=str(item.pk)).status == "completed"


def test_an_ignored_activity_gives_way_to_a_newer_change_of_its_artifact(running):
    from activity import services
    from integrations.engine import detection, processing

    item = new_item("alpha", "DEMO", "First")
    detection.detect(running.pk)
    services.ignore_activities(ArtifactActivity.objects.all())
    change(item, summary="Second")
    detection.detect(running.pk)  # a new pending activity for the same artifact
    services.set_auto_retry_ignored(True)
    assert processing.process_batch(limit=10, worker="test") == 1  # the pending one only
    assert [t.summary for t in items("beta", "WEB")] == ["Second"]
    statuses = sorted(
        ArtifactActivity.objects.filter(artifact_id=str(item.pk)).values_list("status", flat=True)
    )
    assert statuses == ["completed", "ignored"]


def test_a_batch_whose_integration_cannot_be_loaded_fails_visibly_instead_of_staying_claimed(
    running, monkeypatch
):
    from integrations.engine import detection, processing

    item = new_item("alpha", "DEMO", "Orphan")
    detection.detect(running.pk)

    def gone(integration_id):
        raise RuntimeError("the integration went away between the claim and the load")

    monkeypatch.setattr(processing.IntegrationContext, "load", gone)
    assert processing.process_batch(limit=10, worker="test") == 1
    failed = ArtifactActivity.objects.get(artifact_id=str(item.pk))
    assert (failed.status, failed.code) == ("failed", "CCRRTT-0001E")
    assert "went away" in failed.message and failed.next_retry_at is not None
