"""Change detection tests a running integration's repositories' connections as Test connection
does — but not on every run (issue #20: two credential checks per 5 s detection were most of Hub's
requests to an idle Redmine). A repository is tested when:

- it was never tested (the first detection after it was saved or Hub started using it);
- it is failing (``Repository.state``): only a test notices that it connects again and clears it;
- something failed since its last test that a broken connection would explain: a change detection
  of this integration (its detection blocker), or an activity of this integration with a
  connection code (``CONNECTION_CODES``: unreachable, credentials refused or expired, …).

A repository that no longer connects becomes failing and so a blocker of every integration that
uses it (the validator raises it); the next detection that connects clears it. A failure of one
read or one write is not a failed connection by itself: it stays with its detection blocker or its
activity (see ``activity.blockers``), and it makes the next detection test the connection."""

from __future__ import annotations

from activity.models import ArtifactActivity, Blocker
from connectors import errors
from integrations import services
from integrations.models import Integration, Repository

# The codes of failures a broken connection explains (connectors/errors.py): after one of them the
# next detection tests the connection again.
CONNECTION_CODES = frozenset(
    {
        errors.Unreachable.code,
        errors.CredentialsRefused.code,
        errors.AuthenticationExpired.code,
        errors.AuthenticationFailed.code,
        errors.ProxyCredentialsRefused.code,
        errors.InvalidSettings.code,
        errors.InsecureConnectionRefused.code,
        errors.RepositoryDisabled.code,
    }
)


def check(integration: Integration) -> None:
    """Before a change detection of a running integration: test the connections that need it (see
    the module's docstring). A blocked integration processes nothing, so this is also what notices
    a connection that works again."""
    from hub.gates import integration_work_allowed

    if not (integration.running and integration_work_allowed()[0]):
        return
    due = [
        repository
        for repository in (collection.repository for collection in integration.collections())
        if repository.enabled and needs_test(integration, repository)
    ]
    services.check_connections(due, record=True)


def needs_test(integration: Integration, repository: Repository) -> bool:
    if repository.last_test_at is None or repository.last_test_code:
        return True
    return failed_since(integration, repository.last_test_at)


def failed_since(integration: Integration, since) -> bool:
    """Whether a detection of the integration is failing, or one of its activities failed with a
    connection code since ``since`` (the repository's last test)."""
    from integrations.engine.detection import failure_key

    keys = [failure_key(integration.pk, side) for side in ("A", "B")]
    if Blocker.objects.filter(key__in=keys).exists():
        return True
    return ArtifactActivity.objects.filter(
        integration_id=integration.pk, code__in=CONNECTION_CODES, last_error_at__gt=since
    ).exists()
