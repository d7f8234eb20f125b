"""Preview against a real Redmine (Debian's, on loopback): it reads the issues in scope and says
what Run would create on each side, and sends Redmine no request that changes anything."""

import pytest

from integrations.engine import preview
from integrations.models import Integration
from tests.engine.sync import new_item
from tests.engine.test_preview import rows
from tests.engine.test_redmine_sync import (  # noqa: F401 - fixtures
    HIGH,
    configure,
    counted_requests,
    redmine,
    sync_model,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def requests(monkeypatch):
    """Every request Hub's Redmine connector sends: (method, path)."""
    return counted_requests(monkeypatch)


def test_a_preview_against_redmine_reads_and_writes_nothing(configure, redmine, requests):  # noqa: F811
    integration, [project] = configure()
    Integration.objects.filter(pk=integration.pk).update(running=False)
    new_item("alpha", "DEMO", "Crash on save", priority="high")
    issue = redmine.create(project, "Reported in Redmine", priority_id=int(HIGH))
    before = rows()
    result = preview.preview(integration.pk)
    assert sorted((side, n) for side, _, _, n in result.creations) == [("A", 1), ("B", 1)]
    from_redmine = next(a for a in result.artifacts if a.side == "B")
    assert from_redmine.artifact_id == issue and from_redmine.writes["summary"] == "Reported in Redmine"
    assert requests and all(method == "GET" for method, _ in requests)
    assert rows() == before
