"""Conditional routes between two local trackers, end to end on the real database: the condition on a
model field decides which project of the other side a new twin goes to, routes leaving one project
are tried in their order, and an artifact that meets none fails with CCRRTT-17008E until the
administrator fixes the routes."""

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import ArtifactActivity
from integrations.models import Route
from tests.engine.sync import items, new_item, run
from tests.integrations.screens import formset_data

pytestmark = pytest.mark.django_db(transaction=True)

HIGH = {"field": "priority", "operator": "equals", "value": "high"}
CRASH = {"field": "title", "operator": "contains", "value": "crash"}


@pytest.fixture
def urgent(running, trackers, collections):
    """Beta gets a second project, URG, chosen in collection B; the integration's routes are
    replaced by each test's own."""
    from connectors.local import service
    from integrations.services import set_projects

    service.create_project(trackers[1], "URG", "Urgent")
    set_projects(
        collections[1],
        [{"id": "WEB", "key": "WEB", "name": "Website"}, {"id": "URG", "key": "URG", "name": "Urgent"}],
    )
    running.routes.all().delete()
    return running


def routes(integration, *rows):
    for position, (project_b, direction, condition) in enumerate(rows):
        Route.objects.create(
            integration=integration,
            project_a="DEMO",
            project_b=project_b,
            direction=direction,
            condition=condition or {},
            position=position,
        )


def summaries(project: str) -> list[str]:
    return [i.summary for i in items("beta", project)]


def test_the_route_whose_condition_holds_decides_where_the_twin_is_created(urgent):
    routes(urgent, ("URG", "a_to_b", HIGH), ("WEB", "both", None))
    new_item("alpha", "DEMO", "Site down", priority="high")
    new_item("alpha", "DEMO", "Typo on the home page", priority="low")
    run(urgent)
    assert summaries("URG") == ["Site down"]
    assert summaries("WEB") == ["Typo on the home page"]
    created = ArtifactActivity.objects.filter(source_side="A", status="completed")
    # in the items' creation order: artifact ids are text, and "10" sorts before "9"
    assert [a.target_project for a in sorted(created, key=lambda a: int(a.artifact_id))] == ["URG", "WEB"]


@pytest.mark.parametrize(
    "order, chosen",
    [
        ((("URG", "a_to_b", HIGH), ("WEB", "a_to_b", CRASH)), "URG"),
        ((("WEB", "a_to_b", CRASH), ("URG", "a_to_b", HIGH)), "WEB"),
    ],
)
def test_routes_are_tried_in_order_and_the_first_that_fits_wins(urgent, order, chosen):
    routes(urgent, *order)
    new_item("alpha", "DEMO", "crash on save", priority="high")  # meets both conditions
    new_item("alpha", "DEMO", "crash on load", priority="low")  # meets only the title condition
    run(urgent)
    if chosen == "URG":
        assert (summaries("URG"), summaries("WEB")) == (["crash on save"], ["crash on load"])
    else:
        assert (summaries("URG"), summaries("WEB")) == ([], ["crash on save", "crash on load"])


def test_an_update_of_a_paired_artifact_follows_its_pair_whatever_the_condition_says_now(urgent):
    from tests.engine.sync import change

    routes(urgent, ("URG", "a_to_b", HIGH), ("WEB", "both", None))
    item = new_item("alpha", "DEMO", "Site down", priority="high")
    run(urgent)
    change(item, summary="Site down again", priority="low")
    run(urgent)
    assert summaries("URG") == ["Site down again"] and summaries("WEB") == []


def test_no_matching_condition_fails_with_17008E_then_syncs_once_the_administrator_fixes_the_routes(
    urgent, admin_client
):
    routes(urgent, ("URG", "a_to_b", HIGH))
    item = new_item("alpha", "DEMO", "Typo on the home page", priority="low")
    run(urgent)
    failed = ArtifactActivity.objects.get(source_side="A")
    assert (failed.status, failed.code, failed.retry_count) == ("failed", "CCRRTT-17008E", 1)
    assert failed.message == (
        f"Artifact {item.formatted_id} of project “DEMO” (side A) meets the condition of none of the "
        "routes leaving that project; tried in order: DEMO → URG when priority equals high."
    )
    assert failed.next_retry_at > timezone.now()  # retried on the normal schedule
    assert summaries("URG") == summaries("WEB") == []

    page = admin_client.get("/activity/activities/failed/").content.decode()
    assert "CCRRTT-17008E" in page and f"Artifact {item.formatted_id} of project “DEMO”" in page
    assert "Retried 1 time." in page and "Next retry at" in page

    # The administrator adds a default route below the conditional one on the routes screen...
    [conditional] = urgent.routes.all()
    response = admin_client.post(
        reverse("integration-routes", args=[urgent.pk]),
        formset_data(
            "routes",
            [
                {
                    "id": conditional.pk,
                    "ORDER": "1",
                    "project_a": "DEMO",
                    "project_b": "URG",
                    "direction": "a_to_b",
                    "when_field": "priority",
                    "when_operator": "equals",
                    "when_value": "high",
                },
                {"ORDER": "2", "project_a": "DEMO", "project_b": "WEB", "direction": "both"},
            ],
            initial=1,
        ),
    )
    assert response.status_code == 302, response.content.decode()
    assert [(r.project_b, r.condition, r.position) for r in urgent.routes.all()] == [
        ("URG", HIGH, 0),
        ("WEB", {}, 1),
    ]
    # ...and has the failed activity processed now rather than at its next retry.
    admin_client.post("/activity/activities/action/prioritize/", {"ids": failed.pk})
    run(urgent)
    assert summaries("WEB") == ["Typo on the home page"] and summaries("URG") == []
    done = ArtifactActivity.objects.get(source_side="A")
    assert (done.status, done.target_project, done.code) == ("completed", "WEB", "")


def test_an_integration_that_ignores_unmatched_artifacts_leaves_them_out_without_a_failure(urgent):
    routes(urgent, ("URG", "a_to_b", HIGH))
    urgent.unmatched_routing = "ignore"
    urgent.save()
    new_item("alpha", "DEMO", "Site down", priority="high")
    new_item("alpha", "DEMO", "Typo on the home page", priority="low")
    run(urgent)
    assert summaries("URG") == ["Site down"] and summaries("WEB") == []
    assert not ArtifactActivity.objects.filter(status="failed").exists()


def test_a_project_without_any_route_still_fails_with_17019E(urgent):
    Route.objects.create(integration=urgent, project_a="OPS", project_b="URG", condition=HIGH)
    new_item("alpha", "DEMO", "Nowhere to go", priority="high")
    run(urgent)
    assert ArtifactActivity.objects.get().code == "CCRRTT-17019E"
