"""Move Routes Between Integrations (Settings → Advanced): a route leaves one synchronize integration
for another with its artifact pairs, waiting activities and watermarks, so after the move both
integrations run on without creating a twin a second time; refusals carry their catalog codes."""

import pytest
from django.urls import reverse

from activity import jobs
from activity.blockers import blocks_integration
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from connectors.local import service
from integrations import route_move
from integrations.models import ChangeWatermark, Integration, Repository, Route
from integrations.services import set_projects
from tests.engine.sync import change, items, new_item, run
from tests.integrations.factories import mapped_collection

pytestmark = pytest.mark.django_db

PROJECTS_A = [{"id": "DEMO", "key": "DEMO", "name": "Demo"}, {"id": "OPS", "key": "OPS", "name": "Ops"}]
PROJECTS_B = [{"id": "WEB", "key": "WEB", "name": "Web"}, {"id": "SHOP", "key": "SHOP", "name": "Shop"}]


@pytest.fixture
def source(running):
    """The running integration with two routes: DEMO ↔ WEB and OPS ↔ SHOP."""
    service.create_project(service.tracker("beta"), "SHOP", "Shop")
    set_projects(running.collection_a, PROJECTS_A)
    set_projects(running.collection_b, PROJECTS_B)
    Route.objects.create(integration=running, project_a="OPS", project_b="SHOP", direction="both", position=1)
    return running


def integration_over(name: str, a, b, **settings) -> Integration:
    return Integration.objects.create(
        name=name,
        collection_a=a,
        collection_b=b,
        field_flows={"title": "both", "priority": "a_to_b"},
        conflict_strategy="a_wins",
        **settings,
    )


@pytest.fixture
def target(source, model):
    """A new, stopped integration over new collections of the same repositories, holding DEMO and WEB."""
    return integration_over(
        "Alpha ↔ Beta (combined)",
        mapped_collection("Alpha defects (combined)", source.collection_a.repository, "DEMO", model),
        mapped_collection("Beta defects (combined)", source.collection_b.repository, "WEB", model),
    )


def the_route(integration, project_a: str) -> Route:
    return Route.objects.get(integration=integration, project_a=project_a)


def move_in_screens(admin_client, source, target, route, *, understood=True):
    page = reverse("settings-move-routes")
    html = admin_client.get(page, {"source": source.pk, "target": target.pk}).content.decode()
    assert f'name="routes" value="{route.pk}"' in html and 'data-testid="move-routes-understood"' in html
    # The documented advice: stop both integrations first, review the target before running it.
    assert "Stop both integrations before moving routes" in html
    assert f"Afterwards review “{target.name}”" in html
    form = {"source": source.pk, "target": target.pk, "routes": [route.pk]}
    return admin_client.post(page, {**form, "understood": "on"} if understood else form)


@pytest.mark.django_db(transaction=True)  # the engine runs as in production, with its commits
def test_a_moved_route_takes_its_pairs_and_both_integrations_go_on_without_duplicates(
    admin_client, source, target
):
    first = new_item("alpha", "DEMO", "First", priority="high")
    new_item("alpha", "OPS", "Ops one", priority="high")
    run(source)
    assert (len(items("beta", "WEB")), len(items("beta", "SHOP"))) == (1, 1)
    demo_pair = ArtifactPair.objects.get(a_project="DEMO")
    # A change detected but not yet synchronized when the move starts: its activity moves too.
    change(first, summary="First, changed before the move")
    from integrations.engine import detection

    detection.detect(source.pk)
    waiting = ArtifactActivity.objects.get(status="pending", artifact_id=str(first.pk))
    source.running = False  # the advice: stop both first
    source.save()

    assert (
        move_in_screens(admin_client, source, target, the_route(source, "DEMO"), understood=False).status_code
        == 400
    )
    response = move_in_screens(admin_client, source, target, the_route(source, "DEMO"))

    assert response.status_code == 302 and response.url == reverse("activity-list", args=["jobs"])
    job = BackgroundJob.objects.get(kind=BackgroundJob.Kind.ROUTE_MOVE)
    blocker = Blocker.objects.get(key=route_move.blocker_key(job.pk))
    assert blocker.code == "CCRRTT-66003W" and sorted(blocker.integration_ids) == sorted(
        [source.pk, target.pk]
    )
    assert blocks_integration(target.pk)

    jobs.execute(job.pk)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.COMPLETED and job.progress == 100, job.message
    assert job.details["Routes Moved"] == ["DEMO ↔ WEB"]
    assert job.details["moved"]["pairs"] == 1 and job.details["moved"]["pending activities"] == 1
    assert not Blocker.objects.filter(key=route_move.blocker_key(job.pk)).exists()
    assert list(source.routes.values_list("project_a", "project_b")) == [("OPS", "SHOP")]
    assert list(target.routes.values_list("project_a", "project_b")) == [("DEMO", "WEB")]
    demo_pair.refresh_from_db()
    assert (demo_pair.integration_id, demo_pair.integration_name) == (target.pk, target.name)
    waiting.refresh_from_db()
    assert waiting.integration_id == target.pk and waiting.source_collection_id == target.collection_a_id
    assert waiting.waiting_key == ArtifactActivity.make_waiting_key(target.pk, "A", str(first.pk))
    assert set(ChangeWatermark.objects.filter(integration=target).values_list("side", "project")) == {
        ("A", "DEMO"),
        ("B", "WEB"),
    }

    # Review: the source's collections no longer need the moved projects; then run both.
    set_projects(source.collection_a, PROJECTS_A[1:])
    set_projects(source.collection_b, PROJECTS_B[1:])
    Integration.objects.filter(pk__in=[source.pk, target.pk]).update(running=True)
    new_item("alpha", "DEMO", "Second", priority="high")
    ops = new_item("alpha", "OPS", "Ops two", priority="high")
    run(target)
    run(source)
    run(target)

    web, shop = items("beta", "WEB"), items("beta", "SHOP")
    assert sorted(item.summary for item in web) == ["First, changed before the move", "Second"]
    assert sorted(item.summary for item in shop) == ["Ops one", "Ops two"]
    assert ArtifactPair.objects.filter(integration_id=target.pk).count() == 2
    assert ArtifactPair.objects.filter(integration_id=source.pk).count() == 2
    assert ArtifactPair.objects.filter(a_artifact_id=str(ops.pk)).count() == 1
    assert not ArtifactActivity.objects.filter(status="failed").exists()


def test_routes_move_only_between_synchronize_integrations_of_the_same_style(source, target):
    gateway = Integration.objects.create(name="Gateway", style=Integration.Style.GATEWAY)
    refusals = route_move.integration_refusals(source, gateway)
    assert [refusal.code for refusal in refusals] == ["CCRRTT-1402E"]
    assert "synchronize integrations" in refusals[0].message
    assert route_move.integration_refusals(source, target) == []


def test_other_artifact_types_are_refused_with_1402E(source, target):
    target.collection_b.artifact_types = ["story"]
    target.collection_b.save()
    (refusal,) = route_move.integration_refusals(source, target)
    assert refusal.code == "CCRRTT-1402E" and "artifact types" in refusal.message


def test_another_repository_is_refused_unless_it_is_a_new_one_of_the_same_data(source, target):
    upgraded = Repository.objects.create(label="Alpha (new server)", kind="local", url="local://alpha-new")
    target.collection_a.repository = upgraded
    target.collection_a.save()
    (refusal,) = route_move.integration_refusals(source, target)
    assert refusal.code == "CCRRTT-1402E" and "Alpha (new server)" in refusal.message
    assert route_move.integration_refusals(source, target, new_repository=True) == []
    Repository.objects.filter(pk=upgraded.pk).update(kind="redmine")
    target.collection_a.refresh_from_db()
    (refusal,) = route_move.integration_refusals(source, target, new_repository=True)
    assert "not the same kind" in refusal.message


def test_a_move_to_a_new_repository_keeps_the_ids_and_rewrites_the_links(source, target):
    upgraded = Repository.objects.create(label="Alpha (new server)", kind="local", url="local://alpha-new")
    target.collection_a.repository = upgraded
    target.collection_a.save()
    ArtifactPair.objects.create(
        integration_id=source.pk,
        a_artifact_id="7",
        a_project="DEMO",
        a_url="local://alpha/items/7",
        b_artifact_id="9",
        b_project="WEB",
        b_url="local://beta/items/9",
    )
    route = the_route(source, "DEMO")
    route_move.move_route(route, source, target, route_move.url_changes(source, target, True))
    pair = ArtifactPair.objects.get()
    assert (pair.integration_id, pair.a_artifact_id, pair.b_artifact_id) == (target.pk, "7", "9")
    assert (pair.a_url, pair.b_url) == ("local://alpha-new/items/7", "local://beta/items/9")


def test_a_route_whose_projects_the_target_lacks_is_refused_with_1415E(source, target):
    refusals = route_move.route_refusals(source, target, [the_route(source, "OPS")])
    assert [refusal.code for refusal in refusals] == ["CCRRTT-1415E", "CCRRTT-1415E"]
    assert (
        "does not hold project OPS" in refusals[0].message
        and "does not hold project SHOP" in refusals[1].message
    )


def test_a_project_shared_with_a_route_that_stays_is_refused_with_1415E(source, target):
    Route.objects.filter(integration=source, project_a="OPS").update(project_a="DEMO")  # DEMO → SHOP stays
    refusals = route_move.route_refusals(
        source, target, [Route.objects.get(integration=source, project_b="WEB")]
    )
    assert [refusal.code for refusal in refusals] == ["CCRRTT-1415E"]
    assert "move both routes or neither" in refusals[0].message


def test_the_screen_shows_the_refusal_with_its_code_and_starts_nothing(admin_client, source, target):
    target.collection_b.artifact_types = ["story"]
    target.collection_b.save()
    page = reverse("settings-move-routes")
    html = admin_client.get(page, {"source": source.pk, "target": target.pk}).content.decode()
    assert 'data-testid="move-routes-refusals"' in html and "CCRRTT-1402E" in html
    response = admin_client.post(
        page,
        {
            "source": source.pk,
            "target": target.pk,
            "routes": [the_route(source, "DEMO").pk],
            "understood": "on",
        },
    )
    assert response.status_code == 400 and "CCRRTT-1402E" in response.content.decode()
    assert not BackgroundJob.objects.filter(kind=BackgroundJob.Kind.ROUTE_MOVE).exists()


def test_a_second_move_while_one_waits_is_refused_with_66003W(admin_client, source, target):
    route_move.start(source, target, [the_route(source, "DEMO")])
    html = admin_client.get(reverse("settings-move-routes"), {"source": source.pk}).content.decode()
    assert 'data-testid="move-routes-busy"' in html
    with pytest.raises(jobs.JobFailed) as refused:
        route_move.start(source, target, [the_route(source, "DEMO")])
    assert refused.value.code == "CCRRTT-66003W"


def test_a_viewer_cannot_move_routes(viewer_client, source, target):
    response = viewer_client.post(
        reverse("settings-move-routes"),
        {
            "source": source.pk,
            "target": target.pk,
            "routes": [the_route(source, "DEMO").pk],
            "understood": "on",
        },
    )
    assert response.status_code == 403
    assert not BackgroundJob.objects.filter(kind=BackgroundJob.Kind.ROUTE_MOVE).exists()


def test_while_the_job_moves_a_route_both_integrations_show_1414I(source, target, monkeypatch):
    set_projects(target.collection_a, PROJECTS_A)
    set_projects(target.collection_b, PROJECTS_B)
    job = route_move.start(source, target, [the_route(source, "DEMO"), the_route(source, "OPS")])
    seen = []
    moving = route_move.move_route

    def records_the_blockers(route, *args):
        blocker = Blocker.objects.get(key=route_move.blocker_key(job.pk))
        seen.append((str(route), blocker.code, sorted(blocker.integration_ids)))
        assert blocks_integration(source.pk) and blocks_integration(target.pk)
        return moving(route, *args)

    monkeypatch.setattr(route_move, "move_route", records_the_blockers)
    assert jobs.execute(job.pk).status == BackgroundJob.Status.COMPLETED
    both = sorted([source.pk, target.pk])
    assert seen == [("DEMO ↔ WEB", "CCRRTT-1414I", both), ("OPS ↔ SHOP", "CCRRTT-1414I", both)]
    assert not Blocker.objects.filter(key=route_move.blocker_key(job.pk)).exists()
