"""Event hints: a verified webhook delivery from a tool makes Hub detect just the artifacts it names,
at once, instead of at the next poll.

A hint is only a hint. It queues the same waiting activity detection would (one per artifact and
integration side), and processing reads the artifact afresh from the tool, so a delivery carries no
values into Hub. Polling stays the record: a missed delivery is found by the next change detection,
and a forged one (a signature or token that does not match the repository's secret) is refused
before anything is written. Deliveries are answered as soon as the activities are committed; the
workers are woken through the broker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from activity import error_cap
from connectors import registry
from connectors.types import ChangedItem, EventHint
from integrations.engine.detection import record_waiting
from integrations.models import Integration, Repository
from integrations.secrets import unseal

logger = logging.getLogger("hub.engine")


@dataclass
class Received:
    hints: list[EventHint]
    queued: int  # waiting activities made or refreshed


def receive(repository: Repository, headers: Mapping[str, str], body: bytes) -> Received:
    """Verify a delivery against the repository's secret and queue detection of what it names.
    Raises the connector's CredentialsRefused (bad signature) or ValuesNotAccepted (unreadable)."""
    connector_class = registry.connector_class(repository.kind)
    lowered = {name.lower(): value for name, value in headers.items()}
    hints = connector_class.event_hints_from(lowered, body, unseal(repository.event_hint_secret))
    queued = queue(repository, hints) if hints else 0
    if queued:
        wake()
    return Received(hints, queued)


def queue(repository: Repository, hints: list[EventHint]) -> int:
    """One waiting activity per hinted artifact, for every running integration reading the project
    from this repository (artifacts of other projects or types are not theirs and are left alone)."""
    if error_cap.check():  # change detection is paused; the scheduled one finds these changes later
        return 0
    queued, now = 0, timezone.now()
    integrations = Integration.objects.filter(running=True).filter(
        Q(collection_a__repository=repository) | Q(collection_b__repository=repository)
    )
    for integration in integrations.select_related("collection_a", "collection_b"):
        for side, source, target in (
            ("A", integration.collection_a, integration.collection_b),
            ("B", integration.collection_b, integration.collection_a),
        ):
            if source is None or target is None or source.repository_id != repository.pk:
                continue
            projects, types = set(source.project_ids()), set(source.artifact_types or [])
            by_project: dict[str, list[ChangedItem]] = {}
            for hint in hints:
                if hint.project in projects and (
                    not hint.artifact_type or not types or hint.artifact_type in types
                ):
                    by_project.setdefault(hint.project, []).append(ChangedItem(hint.artifact_id, now))
            for project, items in by_project.items():
                queued += record_waiting(integration, side, source, target, project, items)
    return queued


def wake() -> None:
    """Ask a worker to process now. A lost message loses nothing: the activity waits in the database
    for the next wake-up."""
    from integrations.engine.tasks import process

    try:
        process.delay()
    except Exception:  # noqa: BLE001 - the broker is down: the next beat tick finds the activity
        logger.warning("Could not wake a worker for an event hint; the next wake-up processes it.")
