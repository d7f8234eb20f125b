"""One Hub instance per operational database.

The running instance holds the one ``InstanceLease`` row and refreshes its heartbeat
(``runhub`` does, every ``HUB_LEASE_HEARTBEAT_SECONDS``). A second instance started on the same
database does not take it: its console shows CCRRTT-30012E with an "Override database access"
choice for administrators. Overriding moves the row to that instance; the first one notices at
its next heartbeat, its console shows the same page, and its workers stop claiming work at once
because ``hub.gates`` asks ``lost()`` before every batch. A lease whose heartbeat has been silent
for ``HUB_LEASE_STALE_SECONDS`` belonged to an instance that died, and is taken without asking.

Losing the lease is not written as a blocker row: that database now belongs to the other
instance, whose Activity screen must not show this instance's problem.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.shortcuts import render
from django.utils import timezone

from hub.instance import host_name, instance_id
from hub.models import InstanceLease

CODE = "CCRRTT-30012E"
SLOT = "operational"
log = logging.getLogger("hub.lease")


def holder() -> InstanceLease | None:
    return InstanceLease.objects.filter(slot=SLOT).first()


def lost() -> InstanceLease | None:
    """The lease of the other instance when another instance holds the operational database."""
    row = holder()
    return row if row is not None and row.instance_id != instance_id() else None


def _mine(row: InstanceLease, now) -> None:
    if row.instance_id != instance_id():
        row.started = now
    row.instance_id, row.host, row.pid, row.heartbeat = instance_id(), host_name(), os.getpid(), now


def acquire(*, override: bool = False) -> bool:
    """Take the lease if it is free, ours, abandoned, or when an administrator overrides."""
    now = timezone.now()
    with transaction.atomic():
        row = InstanceLease.objects.select_for_update().filter(slot=SLOT).first()
        if row is None:
            row = InstanceLease(slot=SLOT)
            _mine(row, now)
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                return False  # another instance created it at the same moment
            return True
        abandoned = now - row.heartbeat > timedelta(seconds=settings.HUB_LEASE_STALE_SECONDS)
        if row.instance_id == instance_id() or abandoned or override:
            _mine(row, now)
            row.save()
            return True
        return False


def heartbeat() -> bool:
    """Refresh our heartbeat; ``False`` when we do not hold the lease."""
    return bool(
        InstanceLease.objects.filter(slot=SLOT, instance_id=instance_id()).update(heartbeat=timezone.now())
    )


def release() -> None:
    InstanceLease.objects.filter(slot=SLOT, instance_id=instance_id()).delete()


class LeaseKeeper:
    """What ``runhub`` runs between its other duties: take the lease, keep it, notice its loss."""

    def __init__(self, say: Callable[[str, int], None]):
        self.say = say
        self.held = False
        self.lost = False  # lost to an override: only an override here takes it back
        self._next = 0.0

    def start(self) -> None:
        self.held = acquire()
        if not self.held:
            other = holder()
            self.say(
                f"{CODE}: the operational database is in use by another Hub instance"
                f"{f' on {other.host}' if other else ''}. This instance will not process until an "
                "administrator chooses 'Override database access' in its console.",
                logging.ERROR,
            )
        self._next = time.monotonic() + settings.HUB_LEASE_HEARTBEAT_SECONDS

    def tick(self, on_held: Callable[[], None] | None = None) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + settings.HUB_LEASE_HEARTBEAT_SECONDS
        try:
            if heartbeat():
                if not self.held:
                    self.say("This instance now owns the operational database.", logging.INFO)
                self.held, self.lost = True, False
            elif self.held:
                self.held, self.lost = False, True
                self.say(
                    f"{CODE}: another Hub instance took over the operational database; this instance "
                    "stopped processing.",
                    logging.ERROR,
                )
            elif not self.lost and acquire():
                self.held = True
                self.say("This instance now owns the operational database.", logging.INFO)
            if self.held and on_held:
                on_held()
        except DatabaseError as exc:
            log.warning(
                "The lease heartbeat could not reach the operational database (%s).", type(exc).__name__
            )

    def stop(self) -> None:
        if self.held:
            try:
                release()
            except DatabaseError:
                log.warning("The lease could not be released; another instance may take it once it is stale.")


_EXEMPT_PREFIXES = ("/accounts/", "/api/health", "/setup/", "/database-in-use/")


class DatabaseInUseMiddleware:
    """While another instance holds the operational database, every console page is the 30012E page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if (
            not request.user.is_authenticated
            or path.startswith(_EXEMPT_PREFIXES)
            or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
        ):
            return self.get_response(request)
        try:
            other = lost()
        except DatabaseError:
            return self.get_response(request)
        if other is None:
            return self.get_response(request)
        from hub import api

        if api.is_api(request):
            where = f" on {other.host}" if getattr(other, "host", "") else ""
            return api.error_response(
                503, f"{CODE}: another Hub instance{where} holds the operational database.", code=CODE
            )
        return lost_page(request, other)


def lost_page(request, other: InstanceLease, *, form=None, results=None, status: int = 503):
    """The 30012E page: the other instance, Override database access, and the form that connects
    this instance to a different database (Storage Settings' connection fields)."""
    from settings_app.storage_views import ExternalDatabaseForm, initial_settings

    context = {
        "code": CODE,
        "other": other,
        "form": form or ExternalDatabaseForm(initial=initial_settings()),
        "results": results,
    }
    return render(request, "hub/database_in_use.html", context, status=status)
