"""Each change detection of a running integration first tests its repositories' connections, as
Test connection does. A repository that no longer connects becomes failing (``Repository.state``)
and so a blocker of every integration that uses it (the validator raises it); the next detection
that connects clears it. A failure of one read or one write is not a failed connection: it stays
with its detection blocker or its activity (see ``activity.blockers``)."""

from __future__ import annotations

from integrations import services
from integrations.models import Integration


def check(integration: Integration) -> None:
    """Before each change detection of a running integration: does each of its repositories still
    connect as configured (reading changes may work while writing as the configured user does not,
    so the connection is tested as Test connection does)? A blocked integration processes nothing,
    so this is also what notices a connection that works again."""
    from hub.gates import integration_work_allowed

    if integration.running and integration_work_allowed()[0]:
        services.check_connections([collection.repository for collection in integration.collections()])
