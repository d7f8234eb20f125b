"""The usage reports: who was seen where, each month, over a rolling two years.

The sanitized report (inside the Support and Usage Report) names people only by the identifiers
Hub generated; the customer report (administrators only) adds their personal details.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, timedelta

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from metrics.models import DailyCount, PersonSeen, PersonSighting, RepositoryPerson

logger = logging.getLogger(__name__)

KEPT = timedelta(days=2 * 365)

COLUMNS = [
    "Generated Person Identifier",
    "Generated Repository Person Identifier",
    "Connector",
    "Repository Label",
    "Integration Name",
    "Collection Project",
    "Repository Fields",
    "Model Fields",
    "Count",
    "Month",
]
PERSONAL_COLUMNS = ["First Name", "Last Name", "Display Name", "Email", "Username", "Repository Person ID"]


def kept_since(today: date | None = None) -> date:
    return ((today or timezone.localdate()) - KEPT).replace(day=1)


def _names():
    from integrations.models import Integration, Repository, RepositoryCollection

    return (
        {r.pk: r for r in Repository.objects.all()},
        dict(Integration.objects.values_list("pk", "name")),
        dict(RepositoryCollection.objects.values_list("pk", "name")),
    )


def repository_fields() -> dict[tuple[int, str], list[str]]:
    """(collection, model field) → the repository fields its mapping reads: a sighting records the
    model field the person came through, the collection's mapping names the tool's field."""
    from integrations.models import FieldMapping

    out: dict[tuple[int, str], list[str]] = {}
    for collection_id, model_fields, fields in FieldMapping.objects.values_list(
        "collection_id", "model_fields", "repository_fields"
    ):
        for model_field in model_fields or []:
            out.setdefault((collection_id, model_field), []).extend(fields or [])
    return out


def rows(personal: bool, today: date | None = None) -> list[list[str]]:
    """One row per repository person, integration, collection and project, and month; the fields
    the person was seen in during that month joined."""
    repositories, integrations, collections = _names()
    mapped = repository_fields()
    people = {(p.repository_id, p.person_id): p for p in RepositoryPerson.objects.all()}
    grouped: dict[tuple, dict] = {}
    sightings = PersonSighting.objects.filter(month__gte=kept_since(today)).order_by(
        "month", "repository_id", "person_id", "integration_id", "project", "field"
    )
    for s in sightings.iterator():
        key = (s.month, s.repository_id, s.person_id, s.integration_id, s.collection_id, s.project)
        entry = grouped.setdefault(key, {"fields": [], "count": 0, "sighting": s})
        entry["fields"].append(s.field)
        entry["count"] = max(entry["count"], s.count)
    out = []
    for (month, repository_id, person_id, integration_id, collection_id, project), entry in grouped.items():
        person = people.get((repository_id, person_id))
        repository = repositories.get(repository_id)
        row = [
            str(person.person_uid or "") if person else "",
            str(person.uid) if person else "",
            repository.kind if repository else "",
            repository.label if repository else f"(deleted repository {repository_id})",
            integrations.get(integration_id, f"(deleted integration {integration_id})"),
            f"{collections.get(collection_id, '')} / {project}".strip(" /"),
            ", ".join(sorted({f for m in entry["fields"] for f in mapped.get((collection_id, m), [])})),
            ", ".join(entry["fields"]),
            str(entry["count"]),
            month.strftime("%Y-%m"),
        ]
        if personal:
            display = (person.display_name if person else "") or ""
            first, _, last = display.partition(" ")
            sighting = entry["sighting"]
            row += [
                first,
                last,
                display,
                (person.email if person else "") or sighting.email,
                (person.username if person else "") or sighting.username,
                person_id,
            ]
        out.append(row)
    return out


def report_csv(personal: bool, today: date | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS + (PERSONAL_COLUMNS if personal else []))
    writer.writerows(rows(personal, today))
    return buffer.getvalue().encode()


def overview() -> dict:
    """Repository versions and counts of integrations, routes, activities and person ids, for the
    Support and Usage Report."""
    from integrations.models import Integration, Repository

    def by(key):
        return list(
            DailyCount.objects.values(key)
            .annotate(created=Sum("created"), updated=Sum("updated"))
            .order_by(key)
        )

    def persons_by(key):
        return list(
            PersonSighting.objects.values(key)
            .annotate(person_ids=Count("person_id", distinct=True))
            .order_by(key)
        )

    return {
        "repositories": [
            {"label": r.label, "connector": r.kind, "version": _version(r)} for r in Repository.objects.all()
        ],
        "integrations": Integration.objects.count(),
        "integration_details": [
            {
                "name": i.name,
                "style": i.style,
                "routes": [f"{r.project_a} {r.direction} {r.project_b}" for r in i.routes.all()],
                # None for an integration that never paired an artifact
                "last_processed": i.last_artifact_processed,
            }
            for i in Integration.objects.prefetch_related("routes").order_by("name")
        ],
        "activities_by_integration": by("integration_id"),
        "activities_by_repository": by("repository_id"),
        "person_ids_by_integration": persons_by("integration_id"),
        "person_ids_by_repository": persons_by("repository_id"),
    }


def _version(repository) -> str:
    """The server the last successful connection test reported (stored in the connector's extra)."""
    return str((repository.extra or {}).get("server_version", "")) or "unknown"


def purge(today: date | None = None) -> int:
    """Forget sightings older than the two years the reports cover, and people no longer seen."""
    deleted, _ = PersonSighting.objects.filter(month__lt=kept_since(today)).delete()
    places = set(PersonSighting.objects.values_list("integration_id", "repository_id", "person_id"))
    seen = {(repository_id, person_id) for _, repository_id, person_id in places}
    stale = [p.pk for p in RepositoryPerson.objects.all() if (p.repository_id, p.person_id) not in seen]
    gone, _ = RepositoryPerson.objects.filter(pk__in=stale).delete()
    unseen = [
        p.pk
        for p in PersonSeen.objects.all()
        if (p.integration_id, p.repository_id, p.person_id) not in places
    ]
    PersonSeen.objects.filter(pk__in=unseen).delete()
    return deleted + gone


def refresh_people(per_repository: int = 200, now=None) -> int:
    """Read again from its repository every person whose personal details are a week old or were
    never read (a person seen only in a field that does not flow is never read for a sync), at
    most ``per_repository`` a run, the longest-unread first. A repository that cannot read
    persons, or fails, is left for the next run; a person it no longer has keeps their details.
    Returns the people read."""
    from connectors import errors, registry
    from integrations.engine.counters import REFRESH_AFTER
    from integrations.models import Repository

    now = now or timezone.now()
    stale = Q(refreshed__isnull=True) | Q(refreshed__lt=now - REFRESH_AFTER)
    read = 0
    waiting = RepositoryPerson.objects.filter(stale).values("repository_id")
    for repository in Repository.objects.filter(pk__in=waiting).order_by("pk"):
        people = RepositoryPerson.objects.filter(stale, repository_id=repository.pk).order_by(
            F("refreshed").asc(nulls_first=True), "pk"
        )[:per_repository]
        try:
            with registry.connect(repository.settings()) as connector:
                for person in people:
                    try:
                        found = connector.read_person(person.person_id)
                    except errors.ArtifactNotFound:
                        RepositoryPerson.objects.filter(pk=person.pk).update(refreshed=now)
                        continue
                    RepositoryPerson.objects.filter(pk=person.pk).update(
                        username=found.username or person.username,
                        email=found.email or person.email,
                        display_name=found.display_name or person.display_name,
                        refreshed=now,
                    )
                    read += 1
        except errors.OperationUnsupported:
            continue  # the tool cannot read persons: its people keep what the syncs saw
        except errors.ConnectorError as error:
            logger.warning("Personal details of %s not refreshed: %s", repository.label, error)
    return read
