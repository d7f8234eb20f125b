"""Project replacement against a real Redmine: the Redmine project of a running integration is
replaced by a new one holding the same issues (moved there, ids kept, the old project deleted).
The replacement job rewrites the pairs, routes and watermarks, and the integration goes on with
the same twins: updates flow, nothing is created a second time.

(Redmine's own "Copy project" gives the copied issues new ids: no replacement of the project alone
could keep pairs with those, so the test moves the issues instead.)"""

import pytest

from activity import jobs
from activity.models import ArtifactPair, BackgroundJob
from integrations import project_replacement, services
from integrations.models import Route
from tests.engine.sync import change, new_item, run
from tests.engine.test_redmine_sync import configure, redmine, sync_model  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_redmine_project_replaced_keeps_its_pairs_and_creates_no_duplicate(configure, redmine):  # noqa: F811
    integration, [old] = configure()
    first = new_item("alpha", "DEMO", "First", priority="high")
    new_item("alpha", "DEMO", "Second", priority="low")
    run(integration)
    issues = [issue["id"] for issue in redmine.issues(old)]
    assert len(issues) == 2
    pairs_before = set(ArtifactPair.objects.values_list("pk", "a_artifact_id", "b_artifact_id"))

    new = redmine.new_project()
    for issue_id in issues:
        redmine.update(str(issue_id), project_id=int(new))
    redmine.rest.delete(f"/projects/{old}.json").raise_for_status()

    collection = integration.collection_b
    [invalid] = services.refresh_projects(collection)
    services.replace_project(invalid, new, f"Project {new}")
    job = project_replacement.start(collection, requested_by="test")
    jobs.execute(job.pk)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.COMPLETED, job.message
    assert collection.project_ids() == [new]
    assert list(Route.objects.values_list("project_a", "project_b")) == [("DEMO", new)]
    assert set(ArtifactPair.objects.values_list("pk", "a_artifact_id", "b_artifact_id")) == pairs_before
    assert set(ArtifactPair.objects.values_list("b_project", flat=True)) == {new}

    change(first, summary="First, after the replacement")
    run(integration)
    moved = {issue["id"]: issue["subject"] for issue in redmine.issues(new)}
    assert sorted(moved) == sorted(issues)  # no second twin
    assert "First, after the replacement" in moved.values()
    assert ArtifactPair.objects.count() == 2
