"""Raising and clearing blockers: the one way any part of Hub records a problem that stops
integrations. The engine asks ``blocks_all`` / ``blocks_integration`` before it works."""

from __future__ import annotations

from collections.abc import Iterable

from activity.models import Blocker


def raise_blocker(
    key: str,
    code: str,
    message: str,
    *,
    impact: str = Blocker.Impact.AFFECTED,
    kind: str = Blocker.Kind.PLAIN,
    integration_ids: Iterable[int] = (),
    related: Iterable[dict] = (),
) -> Blocker:
    blocker, _ = Blocker.objects.update_or_create(
        key=key,
        defaults={
            "code": code,
            "message": message,
            "impact": impact,
            "kind": kind,
            "integration_ids": sorted(set(integration_ids)),
            "related": list(related),
        },
    )
    return blocker


def clear_blocker(key: str) -> bool:
    deleted, _ = Blocker.objects.filter(key=key).delete()
    return bool(deleted)


def global_blockers():
    return Blocker.objects.filter(impact=Blocker.Impact.ALL)


# Global blockers that pause change detection only (activity/error_cap.py, CCRRTT-0002E): the work
# already recorded goes on, retries included, since that is what clears them.
DETECTION_ONLY = ("errors:maximum",)


def blocks_all() -> bool:
    return global_blockers().exclude(key__in=DETECTION_ONLY).exists()


# A failed change detection (integrations/engine/detection.py) is shown as a blocker of its
# integration, but stops nothing: detection tries again on its own schedule and clears it when it
# succeeds, which it could not do if the blocker stopped it; processing reads the repositories
# itself and fails with its own codes.
DETECTION_PREFIX = "detection:"


# Warnings that say how Hub works around a limit of a tool (CCRRTT-50011W: worklogs filed under the
# connection's user): shown with the blockers, but the integration goes on.
ADVISORY_CODES = ("CCRRTT-50011W",)


def blocks_integration(integration_id: int) -> bool:
    if blocks_all():
        return True
    # JSON containment is not portable across SQLite, PostgreSQL and MariaDB; the list is short.
    return any(
        integration_id in ids
        for ids in Blocker.objects.filter(impact=Blocker.Impact.AFFECTED)
        .exclude(key__startswith=DETECTION_PREFIX)
        .exclude(code__in=ADVISORY_CODES)
        .values_list("integration_ids", flat=True)
    )
