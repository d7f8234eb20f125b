"""Container + Work Item synchronization between a local tracker (A) and the real Redmine 5 (B):
local epics become Redmine features, their children Redmine sub-tasks (``parent_issue_id``)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity
from connectors import registry
from connectors.local.models import LocalItem
from integrations.engine import detection, processing
from integrations.models import ContainerMirroring, FieldMapping, Integration, ModelField
from tests.engine.sync import change, items, new_item, run
from tests.engine.test_redmine_sync import configure, redmine, sync_model, twin_id  # noqa: F401, F811

pytestmark = pytest.mark.django_db(transaction=True)
FEATURE = "2"  # Redmine's tracker for the containers


@pytest.fixture
def tree(configure):  # noqa: F811
    integration, [project] = configure()
    ModelField.objects.filter(model=integration.collection_a.model, key="parent").update(type="container")
    FieldMapping.objects.filter(model_fields=["parent"]).update(model_field_types={"parent": "container"})
    integration.style = Integration.Style.CONTAINER_WORK_ITEM
    integration.save()
    ContainerMirroring.objects.create(
        integration=integration, container_types_a=["epic"], container_types_b=[FEATURE]
    )
    return integration, project


def test_an_epic_with_children_and_grandchildren_goes_to_redmine_and_back_intact(tree, redmine):  # noqa: F811
    integration, project = tree
    epic = new_item("alpha", "DEMO", "Checkout", type="epic")
    children = [new_item("alpha", "DEMO", f"Step {n}", parent=str(epic.pk)) for n in range(5)]
    grandchild = new_item("alpha", "DEMO", "Sub-step", parent=str(children[0].pk))

    run(integration)

    issues = {str(issue["id"]): issue for issue in redmine.issues(project)}
    assert len(issues) == 7
    assert str(issues[twin_id(epic)]["tracker"]["id"]) == FEATURE
    for child in children:
        assert str(issues[twin_id(child)]["parent"]["id"]) == twin_id(epic)
    assert str(issues[twin_id(grandchild)]["parent"]["id"]) == twin_id(children[0])
    run(integration)  # and back: nothing new on either side, the local tree as it was
    assert len(items("alpha", "DEMO")) == 7 and len(redmine.issues(project)) == 7
    assert {c.parent_id for c in items("alpha", "DEMO") if c.pk in {x.pk for x in children}} == {epic.pk}


def failures(code: str) -> list[ArtifactActivity]:
    return list(ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED, code=code))


def test_re_parenting_in_redmine_moves_the_local_twin_and_on_both_sides_is_50005E(tree, redmine):  # noqa: F811
    integration, project = tree
    first, second, third = (new_item("alpha", "DEMO", n, type="epic") for n in ("One", "Two", "Three"))
    story = new_item("alpha", "DEMO", "Moves", parent=str(first.pk))
    run(integration)

    redmine.update(twin_id(story), parent_issue_id=int(twin_id(second)))  # moved in Redmine only
    run(integration)
    assert LocalItem.objects.get(pk=story.pk).parent_id == second.pk

    integration.conflict_strategy = Integration.ConflictStrategy.ERROR
    integration.save()
    change(story, parent=str(third.pk))  # and now moved on both sides, to different epics
    redmine.update(twin_id(story), parent_issue_id=int(twin_id(first)))
    run(integration)
    found = failures("CCRRTT-50005E")
    assert found and all("“parent”" in f.message for f in found)
    assert LocalItem.objects.get(pk=story.pk).parent_id == third.pk  # neither side overwritten
    assert str(redmine.issue(twin_id(story))["parent"]["id"]) == twin_id(first)


def test_a_child_processed_before_its_epic_waits_with_17020E_then_lands_under_it(tree, redmine):  # noqa: F811
    integration, project = tree
    epic = new_item("alpha", "DEMO", "Late epic", type="epic")
    child = new_item("alpha", "DEMO", "Early child", parent=str(epic.pk))
    detection.detect(integration.pk)
    ArtifactActivity.objects.filter(artifact_id=str(child.pk)).update(priority=10)  # claimed first, alone
    processing.process_batch(limit=1, worker="test")
    [waiting] = failures("CCRRTT-17020E")
    assert waiting.artifact_id == str(child.pk) and len(redmine.issues(project)) == 0

    ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).update(
        next_retry_at=timezone.now()
    )
    run(integration)
    assert str(redmine.issue(twin_id(child))["parent"]["id"]) == twin_id(epic)
    assert not failures("CCRRTT-17020E")


def test_an_epic_that_cannot_synchronize_fails_its_children_with_50018E(tree, redmine):  # noqa: F811
    integration, project = tree
    # Only urgent epics become Redmine features; any other epic is an error (50016E).
    ContainerMirroring.objects.filter(integration=integration).update(
        conditions=[{"field": "priority", "operator": "equals", "value": "high", "type": FEATURE}],
        unmatched=ContainerMirroring.Unmatched.ERROR,
    )
    epic = new_item("alpha", "DEMO", "Ordinary epic", type="epic", priority="low")
    child = new_item("alpha", "DEMO", "Waits for it", parent=str(epic.pk))
    run(integration)

    [refused] = failures("CCRRTT-50016E")
    [blocked] = failures("CCRRTT-50018E")
    assert refused.artifact_id == str(epic.pk) and blocked.artifact_id == str(child.pk)
    assert "CCRRTT-50016E" in blocked.message and epic.formatted_id in blocked.message
    assert redmine.issues(project) == []


def test_redmine_versions_are_containers(tree, redmine):  # noqa: F811
    integration, project = tree
    response = redmine.rest.post(f"/projects/{project}/versions.json", json={"version": {"name": "1.0"}})
    response.raise_for_status()
    version = f"version:{response.json()['version']['id']}"
    issue = redmine.create(project, "Filed in 1.0")
    connector = registry.connect(integration.collection_b.repository.settings())

    assert [ref.id for ref in connector.containers(project, "version")] == [version]
    connector.set_container(issue, version)
    assert connector.version_of(issue).id == version and connector.version_of(issue).title == "1.0"
    assert [ref.id for ref in connector.children(version)] == [issue]
    assert connector.container_of(issue) is None  # a version is not a parent issue


# --- Redmine versions as containers of their own: Redmine project ↔ Redmine project ---------------


def _version(redmine, project: str, name: str) -> str:  # noqa: F811
    response = redmine.rest.post(f"/projects/{project}/versions.json", json={"version": {"name": name}})
    response.raise_for_status()
    return str(response.json()["version"]["id"])


def _versions(redmine, project: str) -> dict[str, str]:  # noqa: F811
    """name → id of the project's versions."""
    rows = redmine.rest.get(f"/projects/{project}/versions.json").json()["versions"]
    return {row["name"]: str(row["id"]) for row in rows}


@pytest.fixture
def releases(redmine, redmine_peer_server, master_password, licensed):  # noqa: F811
    """Two Redmine projects of one Redmine, issues created from the first into the second. The
    model's *Release* is a Container field that both collections map to Redmine's *Target
    version* (``fixed_version``) with the ``container_ref`` transform: versions are containers."""
    from integrations.models import Model, Repository, RepositoryCollection, Route
    from integrations.services import set_projects
    from tests.connectors.peers import MARKER_FIELD, PEER_TIMEOUT

    source, target = redmine.new_project(), redmine.new_project()
    model = Model.objects.create(name="Release item")
    ModelField.objects.create(model=model, key="title", label="Title", type="string", position=0)
    ModelField.objects.create(model=model, key="release", label="Release", type="container", position=1)
    repository = Repository.objects.create(
        label="Redmine",
        kind="redmine",
        url=redmine_peer_server.server.url,
        auth_method="api_key",
        token=redmine_peer_server.server.api_key,
        extra={"marker_field": MARKER_FIELD},
        timeout=PEER_TIMEOUT,
    )
    collections = []
    for project in (source, target):
        collection = RepositoryCollection.objects.create(
            name=f"Redmine {project}", repository=repository, model=model, artifact_types=["1"]
        )
        set_projects(collection, [{"id": project, "key": project, "name": project}])
        FieldMapping.objects.create(
            collection=collection,
            repository_fields=["subject"],
            repository_field_types={"subject": "string"},
            model_fields=["title"],
            model_field_types={"title": "string"},
        )
        FieldMapping.objects.create(
            collection=collection,
            repository_fields=["fixed_version"],
            repository_field_types={"fixed_version": "single_select"},
            model_fields=["release"],
            model_field_types={"release": "container"},
            transform="container_ref",
            params={"container_type": "version"},
        )
        collections.append(collection)
    integration = Integration.objects.create(
        name="Releases",
        style=Integration.Style.CONTAINER_WORK_ITEM,
        collection_a=collections[0],
        collection_b=collections[1],
        creation_flow="a_to_b",
        field_flows={"title": "both", "release": "both"},
        conflict_strategy="a_wins",
        running=True,
    )
    Route.objects.create(integration=integration, project_a=source, project_b=target)
    ContainerMirroring.objects.create(
        integration=integration,
        container_types_a=["version"],
        container_types_b=["version"],
        parent_field="release",
    )
    return integration, source, target


def test_an_item_in_a_version_arrives_in_the_twin_version(releases, redmine):  # noqa: F811
    from integrations import validation
    from integrations.models import ContainerPair

    integration, source, target = releases
    assert [p.code for p in validation.problems() if integration.pk in p.integration_ids] == []
    first = _version(redmine, source, "2.0")
    issue = redmine.create(source, "Ships in 2.0", fixed_version_id=int(first))
    run(integration)

    [copy] = redmine.issues(target)
    made = _versions(redmine, target)
    assert list(made) == ["2.0"] and made["2.0"] != first  # the twin version, in the target project
    assert str(copy["fixed_version"]["id"]) == made["2.0"]
    [pair] = ContainerPair.objects.filter(integration=integration)
    assert (pair.a_container_id, pair.b_container_id) == (f"version:{first}", f"version:{made['2.0']}")

    redmine.create(source, "Also in 2.0", fixed_version_id=int(first))  # through the pair: no new version
    second = _version(redmine, source, "2.1")
    redmine.update(issue, fixed_version_id=int(second))  # moved to another version
    run(integration)

    made = _versions(redmine, target)
    assert sorted(made) == ["2.0", "2.1"]
    by_subject = {row["subject"]: row for row in redmine.issues(target)}
    assert str(by_subject["Also in 2.0"]["fixed_version"]["id"]) == made["2.0"]
    assert str(by_subject["Ships in 2.0"]["fixed_version"]["id"]) == made["2.1"]
    assert ContainerPair.objects.filter(integration=integration).count() == 2
    assert not ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).exists()


def test_a_deleted_epic_twin_is_17022E_and_the_others_are_checked_in_one_read(tree, redmine, monkeypatch):  # noqa: F811
    """The 17022E check of a batch's updates and creations reads the epics' twins in one list
    request (``/issues.json?issue_id=…``): only the deleted one is read alone, once, and its new
    child fails 17022E. (Redmine lists Hub's own writes again, so the epics' twins are also read as
    sources of activities that turn out to be Hub's writes: the check is counted apart.)"""
    from connectors.redmine.connector import RedmineConnector
    from integrations.engine import containers
    from tests.engine.test_redmine_sync import counted_requests

    integration, project = tree
    epics = [new_item("alpha", "DEMO", f"Epic {n}", type="epic") for n in range(3)]
    stories = [new_item("alpha", "DEMO", f"Story {n}", parent=str(epics[n].pk)) for n in range(3)]
    run(integration)
    epic_twins = [twin_id(epic) for epic in epics]
    redmine.delete(epic_twins[0])  # Redmine deletes its sub-task (the twin of story 0) with it

    sent = counted_requests(monkeypatch)
    together, alone = [], []
    read_field_values, still_there = RedmineConnector.read_field_values, containers._still_there

    def listing(self, ids, fields=None):
        together.append(set(ids))
        return read_field_values(self, ids, fields)

    def one_by_one(context, side, twin, read):
        if (side, twin) not in containers._checked(context):
            alone.append(twin)
        return still_there(context, side, twin, read)

    monkeypatch.setattr(RedmineConnector, "read_field_values", listing)
    monkeypatch.setattr(containers, "_still_there", one_by_one)
    for story in stories[1:]:
        change(story, summary=f"{story.summary}, edited")  # updates of stories in the other two epics
    late = new_item("alpha", "DEMO", "Late story", parent=str(epics[0].pk))
    placed = new_item("alpha", "DEMO", "Placed story", parent=str(epics[1].pk))
    run(integration)

    [refused] = failures("CCRRTT-17022E")
    assert refused.artifact_id == str(late.pk) and epic_twins[0] in refused.message
    assert str(redmine.issue(twin_id(placed))["parent"]["id"]) == epic_twins[1]
    assert {redmine.issue(twin_id(s))["subject"] for s in stories[1:]} == {
        "Story 1, edited",
        "Story 2, edited",
    }
    assert any(set(epic_twins[1:]) <= ids for ids in together), "the updates' epics were not read together"
    assert set(alone) == {epic_twins[0]}, "an epic's twin that exists was read alone"
    assert sent.count(("GET", f"/issues/{epic_twins[0]}.json")) == alone.count(epic_twins[0])


def test_an_item_in_a_version_whose_twin_was_deleted_fails_17022E_and_the_retry_makes_it_again(
    releases,
    redmine,  # noqa: F811
):
    from integrations.models import ContainerPair

    integration, source, target = releases
    version = _version(redmine, source, "3.0")
    redmine.create(source, "In 3.0", fixed_version_id=int(version))
    run(integration)
    [copy] = redmine.issues(target)
    twin_version = str(copy["fixed_version"]["id"])
    redmine.update(str(copy["id"]), fixed_version_id="")  # Redmine deletes only versions no issue is in
    redmine.rest.delete(f"/versions/{twin_version}.json").raise_for_status()

    late = redmine.create(source, "Also in 3.0", fixed_version_id=int(version))
    run(integration)
    [refused] = failures("CCRRTT-17022E")
    assert refused.artifact_id == late and f"version:{twin_version}" in refused.message
    assert not ContainerPair.objects.filter(integration=integration).exists()  # forgotten: made again

    ArtifactActivity.objects.filter(pk=refused.pk).update(next_retry_at=timezone.now())
    run(integration)
    made = _versions(redmine, target)
    assert list(made) == ["3.0"]  # made again (Redmine may give it the deleted one's id)
    [pair] = ContainerPair.objects.filter(integration=integration)
    assert pair.b_container_id == f"version:{made['3.0']}"
    placed = next(row for row in redmine.issues(target) if row["subject"] == "Also in 3.0")
    assert str(placed["fixed_version"]["id"]) == made["3.0"]
    assert not failures("CCRRTT-17022E")


def test_a_version_an_earlier_attempt_made_is_paired_not_made_twice(releases, redmine):  # noqa: F811
    """Redmine refuses a second version of one name in a project: the version a worker killed
    before it recorded the pair made (or a user made) is taken, with container matching off."""
    from integrations.models import ContainerPair

    integration, source, target = releases
    version = _version(redmine, source, "4.0")
    left_over = _version(redmine, target, "4.0")
    redmine.create(source, "In 4.0", fixed_version_id=int(version))
    run(integration)

    [copy] = redmine.issues(target)
    assert str(copy["fixed_version"]["id"]) == left_over and list(_versions(redmine, target)) == ["4.0"]
    [pair] = ContainerPair.objects.filter(integration=integration)
    assert pair.b_container_id == f"version:{left_over}"


def test_an_epic_paired_with_a_redmine_version_is_refused_with_67000E(tree):
    """Local epics (artifacts) cannot become Redmine versions (not artifacts): validation says so."""
    from integrations import validation

    integration, _ = tree
    assert "CCRRTT-67000E" not in [
        p.code for p in validation.problems() if integration.pk in p.integration_ids
    ]
    ContainerMirroring.objects.filter(integration=integration).update(container_types_b=["version"])
    [refused] = [p for p in validation.problems() if p.code == "CCRRTT-67000E"]
    assert integration.pk in refused.integration_ids and "“epic” of side A" in refused.message


def test_a_version_written_back_to_the_source_is_made_in_the_source_project(releases, redmine):  # noqa: F811
    """The release flows both ways, and B wins conflicts. The source moved into version 5.2 while
    its twin moved into a new version 5.1 of the target project: the source's activity writes B's
    version back, and its twin version is made in the source project (not in the target's)."""
    from integrations.models import ContainerPair

    integration, source, target = releases
    integration.conflict_strategy = Integration.ConflictStrategy.B_WINS
    integration.save()
    issue = redmine.create(source, "Moves back", fixed_version_id=int(_version(redmine, source, "5.0")))
    run(integration)
    [copy] = redmine.issues(target)
    redmine.update(str(copy["id"]), fixed_version_id=int(_version(redmine, target, "5.1")))
    redmine.update(issue, fixed_version_id=int(_version(redmine, source, "5.2")))
    detection.detect(integration.pk)
    ArtifactActivity.objects.filter(source_side="B").delete()  # only the source's activity decides
    while processing.process_batch(limit=100, worker="test"):
        pass

    assert not ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).exists()
    assert sorted(_versions(redmine, source)) == ["5.0", "5.1", "5.2"]
    assert redmine.issue(issue)["fixed_version"]["id"] == int(_versions(redmine, source)["5.1"])
    pair = ContainerPair.objects.get(integration=integration, title="5.1")
    assert (pair.a_project, pair.b_project) == (source, target)


# --- what a twin version copies besides its name ---------------------------------------------------


def _version_of(redmine, version_id: str) -> dict:  # noqa: F811
    return redmine.rest.get(f"/versions/{version_id}.json").json()["version"]


def _set_version(redmine, version_id: str, **values) -> None:  # noqa: F811
    redmine.rest.put(f"/versions/{version_id}.json", json={"version": values}).raise_for_status()


def _copied(version: dict) -> tuple:
    return (
        version["name"],
        version.get("description") or "",
        version["status"],
        version.get("due_date") or "",
        version["sharing"],
    )


def test_a_twin_version_copies_the_versions_attributes_and_their_changes_flow(releases, redmine):  # noqa: F811
    """A locked version with a description, a due date and sharing: its twin has them all (made
    open to file the issue, locked at the end of the batch). Later edits of the source version
    (name, description, due date, status) reach the twin at the next detection, an edit of the
    twin's due date comes back, and the same attribute changed on both sides goes to the
    conflict strategy's winner (A wins)."""
    from integrations.models import ContainerPair

    integration, source, target = releases
    version = _version(redmine, source, "6.0")
    _set_version(redmine, version, description="Spring release", due_date="2027-03-01", sharing="descendants")
    redmine.create(source, "Ships in 6.0", fixed_version_id=int(version))
    _set_version(redmine, version, status="locked")  # Redmine files no new issue in it now
    run(integration)

    [copy] = redmine.issues(target)
    twin = str(copy["fixed_version"]["id"])
    assert _copied(_version_of(redmine, twin)) == (
        "6.0",
        "Spring release",
        "locked",
        "2027-03-01",
        "descendants",
    )
    [pair] = ContainerPair.objects.filter(integration=integration)
    assert pair.held_open == {} and pair.snapshot["status"] == "locked"

    _set_version(
        redmine,
        version,
        name="6.0 final",
        description="Spring release, shipped",
        due_date="2027-03-15",
        status="closed",
    )
    run(integration)
    assert _copied(_version_of(redmine, twin)) == (
        "6.0 final",
        "Spring release, shipped",
        "closed",
        "2027-03-15",
        "descendants",
    )

    _set_version(redmine, twin, due_date="2027-04-01")  # edited on the twin: flows back
    run(integration)
    assert _version_of(redmine, version)["due_date"] == "2027-04-01"

    _set_version(redmine, version, description="From A")  # both sides: A wins
    _set_version(redmine, twin, description="From B")
    run(integration)
    assert _version_of(redmine, version)["description"] == "From A"
    assert _version_of(redmine, twin)["description"] == "From A"
    assert not ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).exists()


def test_an_issue_of_a_closed_version_in_a_later_batch_is_filed_and_the_twin_closed_again(releases, redmine):  # noqa: F811
    """Redmine files no issue in a closed version. The twin of a closed version is opened for the
    batch that files an issue in it and closed again at its end; a twin left open by a batch
    that died (kill -9) is closed by a later detection, one a batch holds right now is not."""
    from datetime import timedelta

    from integrations.models import ContainerPair

    integration, source, target = releases
    version = _version(redmine, source, "7.0")
    first = redmine.create(source, "First in 7.0", fixed_version_id=int(version))
    second = redmine.create(source, "Second in 7.0", fixed_version_id=int(version))
    _set_version(redmine, version, status="closed")
    detection.detect(integration.pk)
    ArtifactActivity.objects.filter(artifact_id=second).update(priority=-10)  # the first goes alone
    assert processing.process_batch(limit=1, worker="test") == 1
    [pair] = ContainerPair.objects.filter(integration=integration)
    twin = pair.b_container_id.removeprefix("version:")
    assert _version_of(redmine, twin)["status"] == "closed" and pair.held_open == {}

    assert processing.process_batch(limit=1, worker="test") == 1  # the second: in a closed twin
    assert not ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).exists(), list(
        ArtifactActivity.objects.values_list("artifact_id", "code", "message")
    )
    by_subject = {row["subject"]: row for row in redmine.issues(target)}
    assert {str(by_subject[s]["fixed_version"]["id"]) for s in ("First in 7.0", "Second in 7.0")} == {twin}
    assert _version_of(redmine, twin)["status"] == "closed"
    assert ContainerPair.objects.get(pk=pair.pk).held_open == {}

    # A batch opened the twin and was killed before it closed it again.
    _set_version(redmine, twin, status="open")
    recent = timezone.now().isoformat()
    ContainerPair.objects.filter(pk=pair.pk).update(held_open={"B": recent})
    detection.detect(integration.pk)
    assert _version_of(redmine, twin)["status"] == "open"  # maybe a batch is filing in it now
    assert _version_of(redmine, version)["status"] == "closed"  # and the source is not reopened
    stale = (timezone.now() - timedelta(minutes=11)).isoformat()
    ContainerPair.objects.filter(pk=pair.pk).update(held_open={"B": stale})
    detection.detect(integration.pk)
    assert _version_of(redmine, twin)["status"] == "closed"
    assert ContainerPair.objects.get(pk=pair.pk).held_open == {}
    assert redmine.issue(first)["fixed_version"]["id"] == int(version)


def test_the_container_mirroring_screen_names_redmine_versions_and_refuses_an_epic_as_one(tree, admin_client):
    """The Redmine side's container types name its trackers and its versions, the latter as
    containers that are not artifacts; pairing the local epics with versions is refused on the
    screen with 67000E on side B's setting, and a type Redmine does not have by name."""
    from django.urls import reverse

    integration, _ = tree
    page = admin_client.get(reverse("integration-edit", args=[integration.pk])).content.decode()
    assert "Feature (2)" in page and "Version (version), containers that are not artifacts" in page
    data = {
        "container_types_a": "epic",
        "container_types_b": "version",
        "parent_field": "parent",
        "matching": "off",
        "match_field": "summary",
        "unmatched": "default",
        "default_type": "",
        "container-conditions-TOTAL_FORMS": "0",
        "container-conditions-INITIAL_FORMS": "0",
    }
    form = admin_client.post(reverse("integration-containers", args=[integration.pk]), data).context[
        "mirroring"
    ]
    assert "container_types_b" in form.errors, form.errors
    [refused] = form.errors["container_types_b"]
    assert refused.startswith("CCRRTT-67000E") and "“version” of side B" in refused
    form = admin_client.post(
        reverse("integration-containers", args=[integration.pk]), {**data, "container_types_b": "release"}
    ).context["mirroring"]
    assert form.errors["container_types_b"][0].startswith("“release”: not a container type of side B")
    assert ContainerMirroring.objects.get(integration=integration).container_types_b == [FEATURE]
