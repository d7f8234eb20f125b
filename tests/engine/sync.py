"""Helpers for engine tests: the two local trackers as a person sees them, and running the engine
the way the Celery tasks do (detect, then process until nothing is due)."""

from __future__ import annotations

from activity.models import ArtifactActivity
from connectors.local import service
from connectors.local.models import LocalItem, LocalProject, LocalUser
from integrations.engine import detection, processing

# Filters: only high-priority artifacts get a twin created (updates of existing pairs still flow).
HIGH_PRIORITY_CREATED_ONLY = {
    "combine": "and",
    "applies_to": "creation",
    "conditions": [{"field": "priority", "operator": "equals", "value": "high"}],
}


def new_item(tracker: str, project: str, summary: str, **fields) -> LocalItem:
    of = service.tracker(tracker)
    return service.create_item(
        LocalProject.objects.get(tracker=of, key=project),
        fields.pop("type", "bug"),
        {"summary": summary, **fields},
        reporter=service.hub_user(of),
    )


def user(tracker: str, username: str, name: str) -> LocalUser:
    """A user of a local tracker, with an e-mail address made from the user name."""
    return LocalUser.objects.create(
        tracker=service.tracker(tracker),
        username=username,
        display_name=name,
        email=f"{username}@example.org",
    )


def change(item: LocalItem, **fields) -> None:
    service.update_item(item.pk, fields)


def items(tracker: str, project: str) -> list[LocalItem]:
    return list(LocalItem.objects.filter(project__tracker__name=tracker, project__key=project).order_by("id"))


def revisions(tracker: str) -> int:
    """The sum of item revisions of a tracker: every remote write raises it by one."""
    return sum(LocalItem.objects.filter(project__tracker__name=tracker).values_list("revision", flat=True))


def _activities() -> set[tuple]:
    return set(ArtifactActivity.objects.values_list("pk", "status", "retry_count"))


def run(integration, rounds: int = 5) -> None:
    """Detect and process until a round leaves the activities as they were. (A change that was
    Hub's own write leaves no activity; Redmine, whose listing cannot tell them apart, lists every
    issue changed within the detection overlap again.)"""
    for _ in range(rounds):
        before = _activities()
        detection.detect(integration.pk)
        while processing.process_batch(limit=100, worker="test"):
            pass
        if _activities() == before:
            return


def the_worker_died(integration=None) -> None:
    """The worker that left the *processing* rows and locks was another process, whose heartbeat
    stopped long ago: the next claim round releases them."""
    from integrations.models import SyncLock

    dead = "killed.example:1:0"
    ArtifactActivity.objects.filter(status="processing").update(
        claimed_by=dead, claimed_at="2000-01-01T00:00:00Z"
    )
    SyncLock.objects.update(holder=f"{dead}:batch", acquired="2000-01-01T00:00:00Z")


def hold_as_another_worker(key: str):
    """Hold an artifact lock as another worker would (another connection where locks belong to a
    connection); returns the release."""
    from django.db import connection, connections

    from integrations.engine import claims

    if connection.vendor not in ("postgresql", "mysql"):
        assert claims.lock_many([key], "other:1") == {key}
        return lambda: claims.unlock_many([key], "other:1")
    other = connections.create_connection("default")
    if connection.vendor == "postgresql":
        take, give = "SELECT pg_advisory_lock(%s)", "SELECT pg_advisory_unlock(%s)"
        argument = claims._advisory_id(key)
    else:
        take, give, argument = "SELECT GET_LOCK(%s, 0)", "SELECT RELEASE_LOCK(%s)", claims._lock_name(key)
    with other.cursor() as cursor:
        cursor.execute(take, [argument])

    def release() -> None:
        # Unlock before closing: the server drops a closed connection's locks only once its backend
        # has ended, which can be after the test's next statement.
        with other.cursor() as cursor:
            cursor.execute(give, [argument])
        other.close()

    return release


def matched_assignee(person_id: str):
    """What ``integrations.engine.counters.record`` reads of a processor, for an artifact of
    integration 5 (repository 7 → 8, project DEMO) whose assignee ``person_id`` (username
    ``user-<id>``) reconciliation matched with ``b-<id>`` on the other side."""
    from types import SimpleNamespace as Row

    from connectors.types import Person

    persons = Row(
        fields={("owner", person_id)},
        seen={person_id: Person(person_id, f"user-{person_id}")},
        matched=lambda source_id: f"b-{source_id}",
    )
    return Row(
        integration=Row(pk=5),
        source=Row(repository=Row(pk=7), collection=Row(pk=2, model_id=3)),
        target=Row(repository=Row(pk=8), collection=Row(pk=4, model_id=3)),
        persons=persons,
        activity=Row(source_project="DEMO"),
    )
