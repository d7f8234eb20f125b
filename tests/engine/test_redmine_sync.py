"""Two-way Work Item Synchronization between a local tracker (A) and a real Redmine 5 (B).

Detection and processing run in-process as in ``test_sync.py``; Redmine is Debian's, on loopback,
one server per test session (``tests/connectors/peers.py``), and every test works in a Redmine
project of its own, so that an initial scan sees only that test's issues. Writes to Redmine are
counted at the HTTP level (every POST, PUT and DELETE the connector sends).

Redmine's quirks the engine has to live with: no optimistic concurrency, no ``Date`` header (the
watermark is the newest ``updated_on`` seen), and a relation added to an issue changes neither
issue's ``updated_on`` (only the periodic full scan finds it).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity, ArtifactPair
from connectors.hidden_marker import comment_key_of, without_comment_marker
from connectors.local import service
from connectors.local.models import LocalItem, LocalUser
from connectors.redmine.client import RedmineClient
from connectors.redmine.connector import RedmineConnector
from integrations.engine import detection, processing
from integrations.models import (
    FieldMapping,
    Integration,
    Model,
    ModelField,
    Repository,
    RepositoryCollection,
    Route,
)
from integrations.services import set_projects
from tests.connectors.peers import MARKER_FIELD, MEMBER_EMAIL, MEMBER_LOGIN, PEER_TIMEOUT
from tests.engine.sync import HIGH_PRIORITY_CREATED_ONLY, change, items, new_item, run, the_worker_died

pytestmark = pytest.mark.django_db(transaction=True)

BUG = "1"  # Redmine's tracker
HIGH, LOW = "3", "1"  # Redmine's priority ids (High, Low)
NEW, RESOLVED = "1", "3"  # Redmine's status ids
MB = 1024 * 1024


# --- Redmine as an administrator sees it (out of band, not through Hub) ----------------------------


class Redmine:
    def __init__(self, prepared):
        self.prepared = prepared
        self.rest = prepared.rest()

    def new_project(self) -> str:
        identifier = f"sync-{uuid.uuid4().hex[:10]}"
        body = {"name": identifier, "identifier": identifier, "is_public": True, "tracker_ids": [1, 2, 3]}
        body["enabled_module_names"] = ["issue_tracking"]
        response = self.rest.post("/projects.json", json={"project": body})
        response.raise_for_status()
        project_id = str(response.json()["project"]["id"])
        roles = {r["name"]: r["id"] for r in self.rest.get("/roles.json").json()["roles"]}
        membership = {"user_id": int(self.prepared.member_id), "role_ids": [roles["Developer"]]}
        self.rest.post(
            f"/projects/{project_id}/memberships.json", json={"membership": membership}
        ).raise_for_status()
        return project_id

    def create(self, project: str, subject: str, **attributes) -> str:
        body = {"project_id": int(project), "tracker_id": int(BUG), "subject": subject, **attributes}
        response = self.rest.post("/issues.json", json={"issue": body})
        response.raise_for_status()
        return str(response.json()["issue"]["id"])

    def update(self, issue_id: str, as_user: str = "", **attributes) -> None:
        """``as_user``: the login to write as (Redmine's switch-user header for an administrator's
        API key); by default the administrator, who is also Hub's user here."""
        headers = {"X-Redmine-Switch-User": as_user} if as_user else {}
        answer = self.rest.put(f"/issues/{issue_id}.json", json={"issue": attributes}, headers=headers)
        answer.raise_for_status()

    def issue(self, issue_id: str) -> dict:
        response = self.rest.get(f"/issues/{issue_id}.json", params={"include": "journals,attachments"})
        response.raise_for_status()
        return response.json()["issue"]

    def issues(self, project: str) -> list[dict]:
        params = {"project_id": project, "status_id": "*", "sort": "id", "limit": 100}
        return self.rest.get("/issues.json", params=params).json()["issues"]

    def delete(self, issue_id: str) -> None:
        self.rest.delete(f"/issues/{issue_id}.json").raise_for_status()

    def attach(self, issue_id: str, filename: str, content: bytes, as_user: str = "") -> None:
        """Attach a file; ``as_user``: the login to upload as (Redmine's switch-user header for an
        administrator's API key), so that the file is that user's."""
        upload = self.rest.post(
            "/uploads.json",
            params={"filename": filename},
            content=content,
            headers={
                "Content-Type": "application/octet-stream",
                **({"X-Redmine-Switch-User": as_user} if as_user else {}),
            },
        )
        upload.raise_for_status()
        token = upload.json()["upload"]["token"]
        self.update(issue_id, uploads=[{"token": token, "filename": filename}])

    def notes(self, issue_id: str) -> list[tuple[str, bool]]:
        """(text, private) of the issue's notes, without the comment marker Hub adds to its copies."""
        journals = self.issue(issue_id)["journals"]
        return [(without_comment_marker(j["notes"]), j["private_notes"]) for j in journals if j.get("notes")]

    def marker(self, issue: dict) -> str:
        return next(
            (cf.get("value") or "" for cf in issue["custom_fields"] if cf["name"] == MARKER_FIELD), ""
        )


# A comment copied from Redmine may name its author first, when the Redmine user has no account
# in the local tracker to write it under (tests/engine/test_comment_authors.py says when). These
# tests are about each comment arriving once, so they compare the text after that line.
FROM_REDMINE = "Redmine Admin wrote:\n\n"


def local_comments(item) -> list[tuple[str, bool]]:
    """(text, private) of the local item's comments, sorted, without the author line."""
    comments = LocalItem.objects.get(pk=item.pk).comments.all()
    return sorted((c.body.removeprefix(FROM_REDMINE), c.private) for c in comments)


@pytest.fixture
def redmine(redmine_peer_server):
    admin = Redmine(redmine_peer_server)
    yield admin
    admin.rest.close()


def counted_requests(monkeypatch, *, reads: bool = True) -> list[tuple[str, str]]:
    """(method, path) of every request Hub's Redmine connector sends from now on (writes only
    unless ``reads``)."""
    sent: list[tuple[str, str]] = []
    original = RedmineClient.call

    def counting(self, method, path, **kwargs):
        if reads or method != "GET":
            sent.append((method, path))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(RedmineClient, "call", counting)
    return sent


@pytest.fixture
def writes(monkeypatch):
    """Every write request Hub's Redmine connector sends: (method, path)."""
    return counted_requests(monkeypatch, reads=False)


# --- configuration: local alpha (DEMO, OPS) ↔ Redmine, the way an administrator sets it up -----------


def line(collection, repository_field, repository_type, model_field, model_type, **options):
    return FieldMapping.objects.create(
        collection=collection,
        repository_fields=[repository_field],
        repository_field_types={repository_field: repository_type},
        model_fields=[model_field],
        model_field_types={model_field: model_type},
        **options,
    )


MODEL_TYPES = {"title": "string", "priority": "single_select", "owner": "person", "parent": "relationship"}


def map_fields(collection, names: dict[str, str], priority_to_model: dict, priority_to_repository: dict):
    """One mapping line per model field; ``names``: model field → the repository's field."""
    for key, kind in MODEL_TYPES.items():
        options = {}
        if key == "priority":
            params = {"to_model": priority_to_model, "to_model_default": "low"}
            options = {
                "transform": "value_map",
                "params": {**params, "to_repository": priority_to_repository},
            }
        line(collection, names[key], kind, key, kind, **options)


@pytest.fixture
def sync_model(db):
    model = Model.objects.create(name="Defect")
    for position, (key, kind) in enumerate(MODEL_TYPES.items()):
        options = (
            [{"id": "high", "label": "High"}, {"id": "low", "label": "Low"}] if key == "priority" else []
        )
        ModelField.objects.create(
            model=model, key=key, label=key.title(), type=kind, position=position, options=options
        )
    return model


def local_collection(model, projects=("DEMO",)):
    repository = Repository.objects.create(label="Alpha", kind="local", url="local://alpha")
    collection = RepositoryCollection.objects.create(
        name="Alpha defects", repository=repository, model=model, artifact_types=["bug"]
    )
    set_projects(collection, [{"id": p, "key": p, "name": p} for p in projects])
    names = {"title": "summary", "priority": "priority", "owner": "assignee", "parent": "parent"}
    map_fields(collection, names, {"high": "high"}, {"high": "high", "low": "low"})
    return collection


def redmine_collection(model, prepared, projects, *, marker=True, label="Redmine"):
    extra = {"marker_field": MARKER_FIELD} if marker else {}
    repository = Repository.objects.create(
        label=label,
        kind="redmine",
        url=prepared.server.url,
        auth_method="api_key",
        token=prepared.server.api_key,
        extra=extra,
        timeout=PEER_TIMEOUT,
    )
    collection = RepositoryCollection.objects.create(
        name=f"{label} bugs", repository=repository, model=model, artifact_types=[BUG]
    )
    set_projects(collection, [{"id": p, "key": p, "name": p} for p in projects])
    names = {"title": "subject", "priority": "priority", "owner": "assigned_to", "parent": "parent"}
    map_fields(collection, names, {HIGH: "high"}, {"high": HIGH, "low": LOW})
    return collection


def integration_between(local, remote, routes, **settings) -> Integration:
    integration = Integration.objects.create(
        name="Alpha ↔ Redmine",
        collection_a=local,
        collection_b=remote,
        creation_flow="both",
        field_flows=dict.fromkeys(MODEL_TYPES, "both"),
        conflict_strategy="a_wins",
        comment_flow={
            "a_to_b": {"enabled": True, "internal": "keep"},
            "b_to_a": {"enabled": True, "internal": "keep"},
        },
        attachment_flow={
            "a_to_b": {"enabled": True, "max_size_mb": 1},
            "b_to_a": {"enabled": True, "max_size_mb": 1},
        },
        running=True,
        **settings,
    )
    for project_a, project_b in routes:
        Route.objects.create(integration=integration, project_a=project_a, project_b=project_b)
    return integration


@pytest.fixture
def configure(trackers, sync_model, redmine, master_password, licensed):
    """Build the integration on a fresh Redmine project: configure(marker=…, two_projects=…)."""

    def build(*, marker: bool = True, two_projects: bool = False):
        projects = [redmine.new_project() for _ in range(2 if two_projects else 1)]
        local_projects = ("DEMO", "OPS") if two_projects else ("DEMO",)
        integration = integration_between(
            local_collection(sync_model, local_projects),
            redmine_collection(sync_model, redmine.prepared, projects, marker=marker),
            routes=zip(local_projects, projects, strict=True),
        )
        return integration, projects

    return build


@pytest.fixture
def synced(configure):
    """The integration (local DEMO ↔ a new Redmine project) and that project's id."""
    integration, [project] = configure()
    return integration, project


def twin_id(item: LocalItem) -> str:
    return ArtifactPair.objects.get(a_artifact_id=str(item.pk)).b_artifact_id


def local_twin(issue_id: str) -> LocalItem:
    return LocalItem.objects.get(pk=int(ArtifactPair.objects.get(b_artifact_id=issue_id).a_artifact_id))


# --- creation both ways, with the creation marker ------------------------------------------------


def test_local_item_gets_one_redmine_twin_that_carries_the_creation_marker(synced, redmine):
    integration, project = synced
    item = new_item("alpha", "DEMO", "Crash on save", priority="high")
    run(integration)
    [issue] = redmine.issues(project)
    assert (issue["subject"], str(issue["priority"]["id"])) == ("Crash on save", HIGH)
    assert redmine.marker(issue).startswith("hub-")
    assert twin_id(item) == str(issue["id"])
    activity = ArtifactActivity.objects.get(source_side="A", artifact_id=str(item.pk))
    assert (activity.status, activity.result) == ("completed", "created")
    run(integration)  # Redmine's side of the new pair is Hub's own write: nothing comes back
    assert items("alpha", "DEMO") == [item] and len(redmine.issues(project)) == 1


def test_redmine_issue_gets_one_local_twin(synced, redmine):
    integration, project = synced
    issue_id = redmine.create(project, "Reported in Redmine", priority_id=int(HIGH))
    run(integration)
    [item] = items("alpha", "DEMO")
    assert (item.summary, item.priority) == ("Reported in Redmine", "high")
    assert local_twin(issue_id).pk == item.pk
    activity = ArtifactActivity.objects.get(source_side="B", artifact_id=issue_id)
    assert (activity.status, activity.result) == ("completed", "created")
    assert len(redmine.issues(project)) == 1


class WorkerDied(BaseException):
    pass


def die_after_remote_create(monkeypatch):
    original = RedmineConnector.create_artifact

    def create_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise WorkerDied

    monkeypatch.setattr(RedmineConnector, "create_artifact", create_then_die)
    return original


def resume_after_death(integration) -> None:
    """The dead worker's heartbeat stopped; any worker then picks the activity up again."""
    the_worker_died()
    run(integration)


def test_crash_between_redmine_create_and_pair_record_finds_the_twin_by_its_marker(
    synced, redmine, monkeypatch
):
    integration, project = synced
    original = die_after_remote_create(monkeypatch)
    item = new_item("alpha", "DEMO", "Created once in Redmine")
    with pytest.raises(WorkerDied):
        run(integration)
    assert len(redmine.issues(project)) == 1 and not ArtifactPair.objects.exists()
    monkeypatch.setattr(RedmineConnector, "create_artifact", original)
    resume_after_death(integration)
    [issue] = redmine.issues(project)
    assert twin_id(item) == str(issue["id"])
    assert ArtifactActivity.objects.get(source_side="A", status="completed").result == "associated"


def test_without_a_marker_field_the_retry_stops_with_17016E_instead_of_a_duplicate(
    configure, redmine, monkeypatch
):
    integration, [project] = configure(marker=False)
    original = die_after_remote_create(monkeypatch)
    new_item("alpha", "DEMO", "Maybe created")
    with pytest.raises(WorkerDied):
        run(integration)
    monkeypatch.setattr(RedmineConnector, "create_artifact", original)
    resume_after_death(integration)
    failed = ArtifactActivity.objects.get(source_side="A", status="failed")
    assert failed.code == "CCRRTT-17016E"
    assert "Redmine bugs" in failed.message and failed.next_retry_at is not None
    assert len(redmine.issues(project)) == 1 and not ArtifactPair.objects.exists()
    # The unpaired issue in Redmine is not copied back either while the creation is unresolved.
    waiting = ArtifactActivity.objects.get(source_side="B")
    assert (waiting.status, waiting.code) == ("failed", "CCRRTT-50013W")
    assert items("alpha", "DEMO") and len(items("alpha", "DEMO")) == 1


def test_a_redmine_issue_carrying_hubs_marker_is_never_copied_back_as_an_original(synced, redmine):
    """Hub's twin whose creation record is gone (say an administrator deleted the pair): reported
    with CCRRTT-17016E, not given a twin of its own in the local tracker."""
    integration, project = synced
    fields = redmine.rest.get("/custom_fields.json").json()["custom_fields"]
    marker_cf = next(cf["id"] for cf in fields if cf["name"] == MARKER_FIELD)
    issue_id = redmine.create(
        project, "Hub made me", custom_fields=[{"id": marker_cf, "value": "hub-0123456789abcdef"}]
    )
    run(integration)
    failed = ArtifactActivity.objects.get(source_side="B", artifact_id=issue_id)
    assert (failed.status, failed.code) == ("failed", "CCRRTT-17016E")
    assert "hub-0123456789abcdef" in failed.message
    assert items("alpha", "DEMO") == []


@pytest.fixture
def with_status(synced, sync_model):
    """Status mapped too (local new/resolved → Redmine New/Resolved)."""
    integration, project = synced
    options = [{"id": "new", "label": "New"}, {"id": "resolved", "label": "Resolved"}]
    ModelField.objects.create(
        model=sync_model, key="status", label="Status", type="single_select", position=8, options=options
    )
    line(integration.collection_a, "status", "single_select", "status", "single_select")
    to_model, to_repository = {NEW: "new", RESOLVED: "resolved"}, {"new": NEW, "resolved": RESOLVED}
    params = {"to_model": to_model, "to_model_default": "new", "to_repository": to_repository}
    kind = "single_select"
    line(integration.collection_b, "status", kind, "status", kind, transform="value_map", params=params)
    integration.field_flows = {**integration.field_flows, "status": "a_to_b"}
    integration.save()
    return integration, project


def test_a_twin_whose_source_is_not_new_is_created_new_then_moved_in_the_same_activity(
    with_status, redmine, writes
):
    """Issue #20, cause 6: Redmine's default workflow lets a new issue start only as New. The
    twin is created in the initial status and transitioned at once, not failed with 17003E."""
    integration, project = with_status
    item = new_item("alpha", "DEMO", "Resolved before it was synchronized")
    service.perform_transition(item.pk, "resolve", {"resolution": "fixed"})
    run(integration, rounds=1)
    activity = ArtifactActivity.objects.get(source_side="A", artifact_id=str(item.pk))
    assert (activity.status, activity.result, activity.code) == ("completed", "created", "")
    [issue] = redmine.issues(project)
    assert str(issue["status"]["id"]) == RESOLVED
    assert [method for method, _ in writes] == ["POST", "PUT"]  # create, then the transition
    run(integration)
    assert LocalItem.objects.get(pk=item.pk).status == "resolved" and len(redmine.issues(project)) == 1


def test_a_worker_killed_between_the_create_and_the_move_leaves_the_twin_in_the_wanted_status(
    with_status, redmine, monkeypatch
):
    """The twin exists in Redmine's initial status, the move to the source's status never ran. The
    retry finds it by its marker; nobody but Hub has edited it (Redmine's journals say so), so its
    status is Hub's unfinished work, written to the wanted one, not a change to bring back."""
    integration, project = with_status
    integration.field_flows = {**integration.field_flows, "status": "both"}
    integration.save()
    original = RedmineClient.call

    def die_before_the_move(self, method, path, **kwargs):
        if method == "PUT" and "status_id" in (kwargs.get("json") or {}).get("issue", {}):
            raise WorkerDied
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(RedmineClient, "call", die_before_the_move)
    item = new_item("alpha", "DEMO", "Resolved, then the worker died")
    service.perform_transition(item.pk, "resolve", {"resolution": "fixed"})
    with pytest.raises(WorkerDied):
        run(integration, rounds=1)
    monkeypatch.setattr(RedmineClient, "call", original)
    [issue] = redmine.issues(project)
    assert str(issue["status"]["id"]) == NEW
    resume_after_death(integration)
    [issue] = redmine.issues(project)
    assert str(issue["status"]["id"]) == RESOLVED
    assert LocalItem.objects.get(pk=item.pk).status == "resolved"
    done = ArtifactActivity.objects.filter(source_side="A", artifact_id=str(item.pk), status="completed")
    assert [a.result for a in done] == ["associated"]
    assert twin_id(item) == str(issue["id"])


# --- updates both ways, and no write-back ---------------------------------------------------------


def test_updates_flow_both_ways_and_hub_does_not_write_back_its_own_write(synced, redmine, writes):
    integration, project = synced
    item = new_item("alpha", "DEMO", "First")
    run(integration)
    issue_id = twin_id(item)
    revision = LocalItem.objects.get(pk=item.pk).revision

    writes.clear()
    change(item, summary="Second", priority="high")
    run(integration)
    issue = redmine.issue(issue_id)
    assert (issue["subject"], str(issue["priority"]["id"])) == ("Second", HIGH)
    # exactly one write to Redmine (the update), and none back although that write is detected
    assert writes == [("PUT", f"/issues/{issue_id}.json")]
    assert LocalItem.objects.get(pk=item.pk).revision == revision + 1

    writes.clear()
    redmine.update(issue_id, subject="Third", priority_id=int(LOW))
    run(integration)
    item.refresh_from_db()
    assert (item.summary, item.priority) == ("Third", "low")
    assert item.revision == revision + 2  # one write to the local tracker
    assert writes == []  # and nothing back to Redmine
    updated = ArtifactActivity.objects.filter(status="completed", result="updated")
    assert sorted(a.source_side for a in updated) == ["A", "B"]


def test_hubs_own_write_coming_back_under_a_revision_hub_did_not_record_changes_nothing(
    synced, redmine, requests_sent
):
    """Issue #20, no echo: Hub's write to the local twin comes back, but the pair holds no revision
    for it (the read-back met someone else's write, or the worker died before the pair's commit).
    Its values equal the pair's snapshot, so it is recognised as Hub's own: nothing is written to
    either side, no activity is kept, and the Redmine twin is not even read."""
    from integrations.models import ChangeWatermark

    integration, project = synced
    issue_id = redmine.create(project, "Nobody touches me", priority_id=int(HIGH))
    run(integration)
    item = local_twin(issue_id)
    journals, revision = len(redmine.issue(issue_id)["journals"]), item.revision
    pair = ArtifactPair.objects.get(b_artifact_id=issue_id)
    pair.a_snapshot = {**pair.a_snapshot, "__revision__": ""}
    pair.save()
    # Redmine's side lists nothing new; the local side is scanned again from the start.
    ChangeWatermark.objects.filter(integration=integration, side="B").update(
        position=timezone.now() + dt.timedelta(hours=1)
    )
    ChangeWatermark.objects.filter(integration=integration, side="A").update(position=None)
    ArtifactActivity.objects.all().delete()
    requests_sent.clear()
    for _ in range(3):
        run(integration, rounds=1)
    assert [(m, p) for m, p in requests_sent if p.startswith("/issues/")] == []
    assert not ArtifactActivity.objects.exists()
    assert LocalItem.objects.get(pk=item.pk).revision == revision
    assert len(redmine.issue(issue_id)["journals"]) == journals


def conflicting_edits(synced, redmine, strategy):
    integration, project = synced
    integration.conflict_strategy = strategy
    integration.save()
    item = new_item("alpha", "DEMO", "Original")
    run(integration)
    issue_id = twin_id(item)
    change(item, summary="from the local tracker")
    redmine.update(issue_id, subject="from Redmine")
    run(integration)
    item.refresh_from_db()
    return item.summary, redmine.issue(issue_id)["subject"]


@pytest.mark.parametrize(
    ("strategy", "winner"), [("a_wins", "from the local tracker"), ("b_wins", "from Redmine")]
)
def test_conflict_is_resolved_by_the_strategy(synced, redmine, strategy, winner):
    assert conflicting_edits(synced, redmine, strategy) == (winner, winner)


def redmine_wins_on_a_low_twin(synced):
    """A local item at Low with its Redmine twin, Redmine winning conflicts: (integration, item, id)."""
    integration, _ = synced
    integration.conflict_strategy = "b_wins"
    integration.save()
    item = new_item("alpha", "DEMO", "Original", priority="low")
    run(integration)
    return integration, item, twin_id(item)


def undo_on_redmine(redmine, issue_id: str) -> None:
    """A Redmine user (not Hub's) sets the priority to High and back to Low."""
    redmine.update(issue_id, as_user=MEMBER_LOGIN, priority_id=int(HIGH))
    redmine.update(issue_id, as_user=MEMBER_LOGIN, priority_id=int(LOW))


def test_a_field_a_redmine_user_changed_and_changed_back_is_that_sides_change(synced, redmine):
    """The values alone say the priority did not change on Redmine (Low again); its journals say a
    user set it after Hub's last synchronization. So the local change made before is a conflict,
    which the strategy (Redmine wins) decides, not a silent overwrite of the user's last write
    (issue #20's long acceptance run: 2 → 1 → 2 on one side, 2 → 3 on the other, 3 everywhere)."""
    integration, item, issue_id = redmine_wins_on_a_low_twin(synced)
    change(item, priority="high")
    undo_on_redmine(redmine, issue_id)
    run(integration)
    item.refresh_from_db()
    assert (item.priority, str(redmine.issue(issue_id)["priority"]["id"])) == ("low", LOW)
    decided = ArtifactActivity.objects.exclude(conflict="")
    assert [c["field"] for a in decided for c in a.conflicts] == ["priority"]


def test_a_change_undone_on_redmine_before_a_later_local_change_lets_that_change_flow(synced, redmine):
    """A user's change and undo that Hub already found as synchronized is in Redmine's journals
    still, but older than the local change made after it: no rival to it, even where Redmine wins
    conflicts. The later write stands on both sides."""
    integration, item, issue_id = redmine_wins_on_a_low_twin(synced)
    undo_on_redmine(redmine, issue_id)
    run(integration)  # as synchronized: nothing flows
    undone = max(j["created_on"] for j in redmine.issue(issue_id)["journals"])
    deadline = time.monotonic() + 5
    while timezone.now() < dt.datetime.fromisoformat(undone) + processing.TOUCH_GRAIN * 2:
        assert time.monotonic() < deadline, "the clock did not pass the undo"
        time.sleep(0.05)  # polling for the clock to pass the undo, not a synchronisation
    change(item, priority="high")
    run(integration)
    assert str(redmine.issue(issue_id)["priority"]["id"]) == HIGH
    item.refresh_from_db()
    assert item.priority == "high"
    assert not ArtifactActivity.objects.exclude(conflict="").exists()


def test_hubs_own_journals_are_not_a_change_of_the_redmine_side(synced, redmine):
    """Hub's writes to Redmine make journals too, under Hub's user: they never count as someone's
    change there. The next local change simply flows (no conflict, nothing written back)."""
    integration, _ = synced
    item = new_item("alpha", "DEMO", "Original", priority="low")
    run(integration)
    issue_id = twin_id(item)
    change(item, priority="high")
    run(integration)
    change(item, summary="edited locally")
    run(integration)
    issue = redmine.issue(issue_id)
    assert (issue["subject"], str(issue["priority"]["id"])) == ("edited locally", HIGH)
    assert not ArtifactActivity.objects.exclude(conflict="").exists()
    item.refresh_from_db()
    assert (item.summary, item.priority) == ("edited locally", "high")


def test_conflict_with_error_strategy_fails_with_50002E_showing_both_values(synced, redmine):
    local, remote = conflicting_edits(synced, redmine, "error")
    assert (local, remote) == ("from the local tracker", "from Redmine")  # nothing overwritten
    failed = ArtifactActivity.objects.filter(status="failed", code="CCRRTT-50002E")
    assert failed.exists()
    for activity in failed:
        assert "from the local tracker" in activity.message and "from Redmine" in activity.message
        assert activity.retry_count == 1 and activity.next_retry_at is not None


@pytest.fixture
def requests_sent(monkeypatch):
    """Every request Hub's Redmine connector sends, reads too: (method, path)."""
    return counted_requests(monkeypatch)


def per_issue(sent: list[tuple[str, str]], count: int) -> dict[str, float]:
    """Requests per issue by kind: issue reads and writes, and what a batch reads once (the
    project, the custom fields, change detection's listing)."""
    kinds: dict[str, float] = {}
    for method, path in sent:
        kind = f"{method} {'issue' if path.startswith('/issues/') else path}"
        kinds[kind] = kinds.get(kind, 0) + 1 / count
    return {kind: round(n, 2) for kind, n in sorted(kinds.items())}


def test_requests_per_synchronized_redmine_issue(synced, redmine, requests_sent):
    """Issue #20: Hub's HTTP requests to Redmine per synchronized issue, for a create and an update
    each way, in the round that synchronizes it (figures in docs/performance.md). A local item's
    create costs one POST (Redmine's answer is the read-back); an update one read of the twin, one
    PUT and its read-back; a Redmine issue's change one read by the batch, not a second one by the
    processor. Detection adds echo reads: Redmine lists every issue changed within the detection
    overlap again (its listing has no journals), and each is read once to see it is Hub's write."""
    integration, project = synced
    count = 5

    def counted(step) -> dict[str, float]:
        step()
        requests_sent.clear()
        run(integration, rounds=1)
        figures = per_issue(requests_sent, count)
        run(integration)  # settle before the next step
        return figures

    made = []
    create_to_redmine = counted(
        lambda: made.extend(new_item("alpha", "DEMO", f"Item {n}") for n in range(count))
    )
    update_to_redmine = counted(lambda: [change(item, summary=f"{item.summary} changed") for item in made])
    ids = []
    create_from_redmine = counted(
        lambda: ids.extend(redmine.create(project, f"Redmine {n}") for n in range(count))
    )
    update_from_redmine = counted(lambda: [redmine.update(i, subject="changed in Redmine") for i in ids])
    print(create_to_redmine, update_to_redmine, create_from_redmine, update_from_redmine, sep="\n")
    # What the round synchronizes, plus at most one echo read per issue that the step before
    # changed (detection lists it again within its overlap: it is read once and dropped).
    assert create_to_redmine["POST /issues.json"] == 1 and create_to_redmine.get("GET issue", 0) == 0
    # An update to Redmine: the twin's read and the PUT's read-back, the echo read, and — when the
    # echo's activity is claimed in the same batch as the change (it may or may not be) — one
    # more read of it after Hub's write, so the batch does not decide on its stale first read.
    assert update_to_redmine["PUT issue"] == 1 and update_to_redmine["GET issue"] <= 2 + 1 + 1
    assert create_from_redmine["GET issue"] <= 1 + 1 and "PUT issue" not in create_from_redmine
    assert update_from_redmine["GET issue"] <= 1 + 1 and "PUT issue" not in update_from_redmine


# Which step of Hub's reads each GET /issues/N.json: the innermost engine or connector function on
# the stack that names it (tests/engine/test_redmine_sync.py's Redmine ↔ Redmine count).
READ_STEPS = {
    "find_by_marker": "marker look-up (an earlier attempt's twin)",
    "add_comment": "comment id after writing a note",
    "update_artifact": "read-back after a write",
    "create_artifact": "read-back after a create that moved the status",
    "write": "status before a transition",
    "read_sources": "batch read of the sources",
    "read_source": "source read alone (stale-read guard, or not in the batch read)",
    "update": "twin read before the write (conflict check), or re-read after comments",
    "stage": "twin re-read after a new twin's comments",
}


def read_step() -> str:
    import inspect

    for frame in inspect.stack()[2:]:
        if frame.function in READ_STEPS:
            return READ_STEPS[frame.function]
    return "other"


def test_requests_per_issue_between_two_redmines(configure, redmine, sync_model, monkeypatch, capsys):
    """Issue #20's long form runs Redmine ↔ Redmine two-way; this counts, in-process, which step
    reads each issue how often (``READ_STEPS``) for creates, updates and comments on both sides,
    until quiet, and how many batch reads ended as Hub's echo (figures in docs/performance.md)."""
    from integrations.engine import processing as engine

    projects = [redmine.new_project(), redmine.new_project()]
    integration = integration_between(
        redmine_collection(sync_model, redmine.prepared, [projects[0]], label="Redmine A"),
        redmine_collection(sync_model, redmine.prepared, [projects[1]], label="Redmine B"),
        routes=[(projects[0], projects[1])],
    )
    steps: dict[str, int] = {}
    echoes = {"written_by_hub": 0, "as_synchronized": 0}
    original_call = RedmineClient.call

    def counting(self, method, path, **kwargs):
        if method == "GET" and path.startswith("/issues/") and path.count("/") == 2:
            step = read_step()
            steps[step] = steps.get(step, 0) + 1
        elif method != "GET" or path == "/issues.json":
            kind = f"{method} {'issue' if path.startswith('/issues/') else path}"
            steps[kind] = steps.get(kind, 0) + 1
        return original_call(self, method, path, **kwargs)

    monkeypatch.setattr(RedmineClient, "call", counting)
    original_echo, original_synchronized = engine.written_by_hub, engine.Batch.as_synchronized

    def echo(*args, **kwargs):
        found = original_echo(*args, **kwargs)
        echoes["written_by_hub"] += bool(found and len(args) + len(kwargs) == 4)
        return found

    def synchronized(self, *args):
        found = original_synchronized(self, *args)
        echoes["as_synchronized"] += bool(found)
        return found

    monkeypatch.setattr(engine, "written_by_hub", echo)
    monkeypatch.setattr(engine.Batch, "as_synchronized", synchronized)
    count = 4
    figures = {}

    def counted(name, step) -> dict[str, float]:
        steps.clear()
        echoes.update(dict.fromkeys(echoes, 0))
        step()
        run(integration, rounds=8)
        ArtifactActivity.objects.filter(status="failed").update(next_retry_at=timezone.now())
        run(integration, rounds=8)
        figures[name] = {
            **{kind: round(n / (2 * count), 2) for kind, n in sorted(steps.items())},
            **{f"echo dropped by {k}": round(n / (2 * count), 2) for k, n in echoes.items()},
        }
        return figures[name]

    ids = {"A": [], "B": []}

    def creates():
        for side, project in zip("AB", projects, strict=True):
            ids[side] += [redmine.create(project, f"{side} issue {n}") for n in range(count)]

    created = counted("created on either side", creates)
    updated = counted(
        "updated on either side",
        lambda: [redmine.update(i, subject=f"{i} changed") for side in "AB" for i in ids[side]],
    )
    commented = counted(
        "commented on either side",
        lambda: [redmine.update(i, notes=f"note on {i}") for side in "AB" for i in ids[side]],
    )
    with capsys.disabled():
        for name, per_issue_figures in figures.items():
            print(f"\nper issue, {name}:", per_issue_figures)
    assert len(redmine.issues(projects[0])) == len(redmine.issues(projects[1])) == 2 * count
    assert ArtifactPair.objects.filter(integration_id=integration.pk).count() == 2 * count
    # Each change is synchronized with one write: a create a POST, an update or a note a PUT.
    assert created["POST /issues.json"] == 1 and "PUT issue" not in created
    assert updated["PUT issue"] == 1 and commented["PUT issue"] == 1
    # What the engine reads beyond the sources and the twins it writes: no stale-read re-read.
    for step_figures in (created, updated, commented):
        assert step_figures.get(READ_STEPS["read_source"], 0) == 0, step_figures
    # A note copied costs its PUT and the read that finds its id, which is also the twin's read
    # after the write: the twin is read once before (the conflict check), not once more after.
    assert commented[READ_STEPS["add_comment"]] == 1 and commented[READ_STEPS["update"]] <= 1, commented


def test_issues_nobody_touches_are_listed_again_but_not_read_again_once_settled(
    synced, redmine, requests_sent, monkeypatch
):
    """Issue #20: Redmine's listing gives only ``updated_on`` and its watermark stays at the newest
    change, so while nothing changes each issue changed within the detection overlap is listed at
    every detection. Once a read found it holding nothing to take, long enough after its change
    (``settled.settle_after``, 20 s; here 0 so the test need not wait), it is not read again — and
    a new change to it is read as ever."""
    from integrations.engine import settled

    monkeypatch.setattr(settled, "settle_after", lambda: dt.timedelta(0))
    integration, project = synced
    ids = [redmine.create(project, f"Settles {n}") for n in range(2)]
    run(integration)  # created, then listed again, read and found unchanged: settled
    requests_sent.clear()
    run(integration, rounds=1)
    assert per_issue(requests_sent, 2).get("GET issue", 0) == 0, requests_sent
    # Redmine dates a change to the second, and the settled stamp is that second: the new change
    # must fall in a later one. (In production the settle margin, 20 s, sees to it; here it is 0.)
    stamped = int(time.time())
    deadline = time.monotonic() + 5
    while int(time.time()) <= stamped and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the clock's next second
    redmine.update(ids[0], subject="touched again")
    run(integration, rounds=1)
    assert local_twin(ids[0]).summary == "touched again"


# --- comments and attachments ----------------------------------------------------------------------


def test_comments_and_private_notes_flow_once_each_way(synced, redmine):
    integration, project = synced
    item = new_item("alpha", "DEMO", "With comments")
    service.add_comment(item.pk, None, "first")
    service.add_comment(item.pk, None, "local private", private=True)
    run(integration)
    issue_id = twin_id(item)
    assert redmine.notes(issue_id) == [("first", False), ("local private", True)]

    redmine.update(issue_id, notes="reply from Redmine")
    redmine.update(issue_id, notes="Redmine private note", private_notes=True)
    run(integration)
    run(integration)
    assert redmine.notes(issue_id) == [
        ("first", False),
        ("local private", True),
        ("reply from Redmine", False),
        ("Redmine private note", True),
    ]
    assert local_comments(item) == [
        ("Redmine private note", True),
        ("first", False),
        ("local private", True),
        ("reply from Redmine", False),
    ]


def test_a_redmine_comment_is_not_lost_when_hub_writes_the_issue_before_the_comment_is_processed(
    synced, redmine
):
    """Issue #20, cause 7: the revision Hub records after its write already includes the comment
    made just before; the comment's own activity must not pass for Hub's echo."""
    integration, project = synced
    item = new_item("alpha", "DEMO", "Commented on both sides")
    run(integration)
    issue_id = twin_id(item)
    redmine.update(issue_id, notes="made in Redmine a second before Hub's write")
    change(item, summary="changed locally")
    detection.detect(integration.pk)
    ArtifactActivity.objects.filter(source_side="B").delete()  # its detection comes after the write
    processing.process_batch(limit=100, worker="test")
    assert redmine.issue(issue_id)["subject"] == "changed locally"

    run(integration)

    assert local_comments(item) == [("made in Redmine a second before Hub's write", False)]


def test_a_comment_written_before_a_kill_is_found_by_its_marker_instead_of_written_again(
    synced, redmine, monkeypatch
):
    """Comments exactly once: the note reached Redmine, the worker died before the comment map
    was committed with the pair. The retry finds the note by the marker Hub wrote with it, and
    Redmine's side of the issue does not copy Hub's note back as a new comment."""
    integration, project = synced
    item = new_item("alpha", "DEMO", "Commented, then killed")
    run(integration)
    issue_id = twin_id(item)
    original = RedmineConnector.add_comment

    def write_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise WorkerDied

    monkeypatch.setattr(RedmineConnector, "add_comment", write_then_die)
    service.add_comment(item.pk, None, "written once")
    with pytest.raises(WorkerDied):
        run(integration)
    monkeypatch.setattr(RedmineConnector, "add_comment", original)
    [journal] = [j for j in redmine.issue(issue_id)["journals"] if j.get("notes")]
    assert comment_key_of(journal["notes"]) == f"{integration.pk}/A:{item.comments.get().pk}"
    resume_after_death(integration)
    run(integration)
    assert redmine.notes(issue_id) == [("written once", False)]
    assert local_comments(item) == [("written once", False)]
    comment_map = ArtifactPair.objects.get(integration_id=integration.pk).comment_map
    assert comment_map[f"A:{item.comments.get().pk}"] == f"B:{journal['id']}"
    assert comment_map[f"B:{journal['id']}"] == f"A:{item.comments.get().pk}"


def test_private_notes_are_skipped_where_the_flow_says_so(synced, redmine):
    integration, project = synced
    integration.comment_flow = {
        "a_to_b": {"enabled": True, "internal": "skip"},
        "b_to_a": {"enabled": True, "internal": "make_public"},
    }
    integration.save()
    item = new_item("alpha", "DEMO", "Private matters")
    service.add_comment(item.pk, None, "kept here", private=True)
    run(integration)
    issue_id = twin_id(item)
    redmine.update(issue_id, notes="made public there", private_notes=True)
    run(integration)
    assert redmine.notes(issue_id) == [("made public there", True)]
    assert local_comments(item) == [("kept here", True), ("made public there", False)]


def test_attachments_flow_once_each_way(synced, redmine, writes):
    integration, project = synced
    item = new_item("alpha", "DEMO", "With files")
    service.add_attachment(item.pk, "trace.log", [b"local bytes"], content_type="text/plain")
    run(integration)
    issue_id = twin_id(item)
    redmine.attach(issue_id, "screen.png", b"\x89PNG redmine bytes")
    run(integration)
    writes.clear()
    run(integration)
    assert writes == []
    assert sorted(a["filename"] for a in redmine.issue(issue_id)["attachments"]) == [
        "screen.png",
        "trace.log",
    ]
    local = {a.filename: a for a in LocalItem.objects.get(pk=item.pk).attachments.all()}
    assert sorted(local) == ["screen.png", "trace.log"]
    assert service.attachment_path(local["screen.png"]).read_bytes() == b"\x89PNG redmine bytes"
    download = redmine.rest.get(
        next(a["content_url"] for a in redmine.issue(issue_id)["attachments"] if a["filename"] == "trace.log")
    )
    assert download.content == b"local bytes"


def test_who_attached_a_file_is_carried_both_ways(synced, redmine):
    """Redmine records Hub's API user as a file's author and lets no one set another: the copy of a
    local file names its uploader in the file's description. A file grace attached in Redmine is
    attached in the local tracker by its grace (the default person reconciliation, by user name)."""
    integration, project = synced
    grace = LocalUser.objects.create(
        tracker=service.tracker("alpha"), username=MEMBER_LOGIN, display_name="Grace Hopper"
    )
    item = new_item("alpha", "DEMO", "Files by Grace")
    service.add_attachment(item.pk, "trace.log", [b"local bytes"], uploader=grace)
    run(integration)
    issue_id = twin_id(item)
    [copy] = redmine.issue(issue_id)["attachments"]
    assert copy["filename"] == "trace.log" and copy["description"] == "Attached by Grace Hopper"

    redmine.attach(issue_id, "screen.png", b"\x89PNG redmine bytes", as_user=MEMBER_LOGIN)
    assert {a["filename"]: a["author"]["id"] for a in redmine.issue(issue_id)["attachments"]}[
        "screen.png"
    ] == int(redmine.prepared.member_id)
    run(integration)
    local = {a.filename: a for a in LocalItem.objects.get(pk=item.pk).attachments.all()}
    assert local["screen.png"].uploader == grace
    assert local["trace.log"].uploader == grace


def test_attachment_over_the_size_limit_fails_with_17003E_naming_the_file(synced, redmine):
    integration, project = synced
    item = new_item("alpha", "DEMO", "Too big")
    run(integration)
    issue_id = twin_id(item)
    redmine.attach(issue_id, "small.txt", b"fits")
    redmine.attach(issue_id, "huge.bin", b"x" * (MB + 1))  # the flow allows 1 MB
    run(integration)
    failed = ArtifactActivity.objects.get(source_side="B", status="failed")
    assert failed.code == "CCRRTT-17003E" and "huge.bin" in failed.message
    assert [a.filename for a in LocalItem.objects.get(pk=item.pk).attachments.all()] == ["small.txt"]


# --- persons --------------------------------------------------------------------------------------


def test_persons_are_reconciled_by_username_both_ways(synced, redmine):
    from metrics.models import PersonSighting

    integration, project = synced
    grace = LocalUser.objects.create(
        pk=900_001, tracker=service.tracker("alpha"), username=MEMBER_LOGIN, email="grace@elsewhere.example"
    )
    item = new_item("alpha", "DEMO", "Assigned here", assignee=str(grace.pk))
    run(integration)
    assert str(redmine.issue(twin_id(item))["assigned_to"]["id"]) == redmine.prepared.member_id
    assert PersonSighting.objects.filter(person_id=str(grace.pk), field="owner").exists()

    issue_id = redmine.create(project, "Assigned in Redmine", assigned_to_id=int(redmine.prepared.member_id))
    run(integration)
    assert local_twin(issue_id).assignee_id == grace.pk


def test_persons_are_reconciled_by_email_when_usernames_differ(synced, redmine):
    integration, project = synced
    hopper = LocalUser.objects.create(
        pk=900_002, tracker=service.tracker("alpha"), username="ghopper", email=MEMBER_EMAIL.upper()
    )
    item = new_item("alpha", "DEMO", "Assigned by email", assignee=str(hopper.pk))
    run(integration)
    assert str(redmine.issue(twin_id(item))["assigned_to"]["id"]) == redmine.prepared.member_id


# --- filters and routes ---------------------------------------------------------------------------


def test_routes_send_each_project_to_its_own_and_filters_keep_the_rest_out(configure, redmine):
    integration, [web, ops] = configure(two_projects=True)
    integration.filters = HIGH_PRIORITY_CREATED_ONLY
    integration.save()
    new_item("alpha", "DEMO", "Demo high", priority="high")
    new_item("alpha", "OPS", "Ops high", priority="high")
    new_item("alpha", "DEMO", "Demo low", priority="low")
    redmine.create(ops, "Redmine ops high", priority_id=int(HIGH))
    redmine.create(web, "Redmine web low", priority_id=int(LOW))
    run(integration)
    assert [i["subject"] for i in redmine.issues(web)] == ["Redmine web low", "Demo high"]
    assert [i["subject"] for i in redmine.issues(ops)] == ["Redmine ops high", "Ops high"]
    assert [i.summary for i in items("alpha", "DEMO")] == ["Demo high", "Demo low"]
    assert [i.summary for i in items("alpha", "OPS")] == ["Ops high", "Redmine ops high"]


# --- relationships --------------------------------------------------------------------------------


def test_parent_arriving_before_its_target_fails_with_17014E_then_resolves(synced, redmine):
    integration, project = synced
    parent = new_item("alpha", "DEMO", "Parent")
    child = new_item("alpha", "DEMO", "Child", parent=str(parent.pk))
    detection.detect(integration.pk)
    ArtifactActivity.objects.filter(artifact_id=str(parent.pk)).update(priority=-1)  # the child goes first
    processing.process_batch(limit=1, worker="test")
    failed = ArtifactActivity.objects.get(source_side="A", artifact_id=str(child.pk))
    assert (failed.status, failed.code) == ("failed", "CCRRTT-17014E")
    assert failed.next_retry_at > timezone.now()
    run(integration)  # the parent gets its twin
    ArtifactActivity.objects.filter(pk=failed.pk).update(next_retry_at=timezone.now())  # its retry is due
    run(integration)
    assert str(redmine.issue(twin_id(child))["parent"]["id"]) == twin_id(parent)


def test_parent_set_in_redmine_reaches_the_local_tracker(synced, redmine):
    integration, project = synced
    parent, child = new_item("alpha", "DEMO", "Parent"), new_item("alpha", "DEMO", "Child")
    run(integration)
    redmine.update(twin_id(child), parent_issue_id=int(twin_id(parent)))
    run(integration)
    assert LocalItem.objects.get(pk=child.pk).parent_id == parent.pk


# --- the twin deleted in Redmine ------------------------------------------------------------------


def test_twin_deleted_in_redmine_fails_with_50001E_and_recreate_makes_a_new_twin(synced, redmine):
    from activity.services import recreate_activities

    integration, project = synced
    item = new_item("alpha", "DEMO", "Will lose its twin")
    run(integration)
    old_marker = redmine.marker(redmine.issue(twin_id(item)))
    redmine.delete(twin_id(item))
    change(item, summary="Changed after the twin was deleted")
    run(integration)
    failed = ArtifactActivity.objects.get(status="failed")
    assert (failed.code, failed.twin_deleted) == ("CCRRTT-50001E", True)
    recreate_activities(ArtifactActivity.objects.filter(pk=failed.pk))
    run(integration)
    [issue] = redmine.issues(project)
    assert issue["subject"] == "Changed after the twin was deleted"
    assert twin_id(item) == str(issue["id"])
    assert redmine.marker(issue) != old_marker  # a new twin (Redmine on SQLite may reuse the id)
    assert items("alpha", "DEMO") == [item]


# --- Redmine's clock and relations ----------------------------------------------------------------


def test_without_a_server_clock_the_watermark_is_the_newest_change_seen(synced, redmine):
    from connectors.redmine.fields import parse_time
    from integrations.models import ChangeWatermark

    integration, project = synced
    issue_id = redmine.create(project, "First")
    run(integration)
    watermark = ChangeWatermark.objects.get(integration=integration, side="B", project=project)
    assert watermark.position == parse_time(redmine.issue(issue_id)["updated_on"])  # no Date header
    redmine.update(issue_id, subject="Changed within the same second, maybe")
    run(integration)
    assert local_twin(issue_id).summary == "Changed within the same second, maybe"


@pytest.fixture
def with_relations(synced, sync_model):
    """Related items (local) ↔ "Related to" (Redmine) mapped too, flowing both ways."""
    integration, project = synced
    ModelField.objects.create(
        model=sync_model, key="related", label="Related", type="relationships", position=9
    )
    line(integration.collection_a, "related", "relationships", "related", "relationships")
    line(integration.collection_b, "relation_relates", "relationships", "related", "relationships")
    integration.field_flows = {**integration.field_flows, "related": "both"}
    integration.save()
    return integration, project


def related(item: LocalItem) -> list[int]:
    return sorted(LocalItem.objects.get(pk=item.pk).related.values_list("pk", flat=True))


def test_relation_made_in_redmine_is_not_lost_although_it_changes_no_updated_on(with_relations, redmine):
    from django.db.models import F

    from integrations.models import ChangeWatermark

    integration, project = with_relations
    first, second = new_item("alpha", "DEMO", "First"), new_item("alpha", "DEMO", "Second")
    run(integration)
    # Time passes: the relation is made well after the issues' last change (beyond the detection
    # overlap, and the second before the one asked for that Redmine's ">=" filter also answers).
    ChangeWatermark.objects.filter(integration=integration, side="B").update(
        position=F("position") + detection.OVERLAP + dt.timedelta(seconds=2)
    )
    relation = {"issue_to_id": int(twin_id(second)), "relation_type": "relates"}
    redmine.rest.post(
        f"/issues/{twin_id(first)}/relations.json", json={"relation": relation}
    ).raise_for_status()
    run(integration)
    # Redmine journals the relation on both issues but moves neither one's updated_on, so polling
    # by updated_on cannot see it; the periodic full scan re-reads everything in scope.
    assert related(first) == []
    detection.detect(integration.pk, full=True)
    run(integration)
    assert (related(first), related(second)) == ([second.pk], [first.pk])


def test_relation_made_locally_reaches_redmine(with_relations, redmine):
    integration, project = with_relations
    first, second = new_item("alpha", "DEMO", "First"), new_item("alpha", "DEMO", "Second")
    run(integration)
    change(first, related=[str(second.pk)])
    run(integration)
    relations = redmine.rest.get(f"/issues/{twin_id(first)}/relations.json").json()["relations"]
    assert [(r["issue_id"], r["issue_to_id"], r["relation_type"]) for r in relations] == [
        (int(twin_id(first)), int(twin_id(second)), "relates")
    ]


def test_change_made_in_redmine_while_hub_writes_the_same_issue_is_not_lost(synced, redmine, monkeypatch):
    """Redmine has no optimistic concurrency: Hub cannot make its write conditional on the issue
    being as it read it. Someone changing another field between Hub's read and Hub's write must
    still see that change reach the other side."""
    integration, project = synced
    item = new_item("alpha", "DEMO", "Racing", priority="low")
    run(integration)
    issue_id = twin_id(item)
    original = RedmineConnector.update_artifact

    def someone_edits_first(self, artifact_id, fields, **kwargs):
        redmine.update(artifact_id, priority_id=int(HIGH))  # after Hub read the issue
        monkeypatch.setattr(RedmineConnector, "update_artifact", original)
        return original(self, artifact_id, fields, **kwargs)

    monkeypatch.setattr(RedmineConnector, "update_artifact", someone_edits_first)
    change(item, summary="Renamed locally")
    run(integration)
    item.refresh_from_db()
    issue = redmine.issue(issue_id)
    assert (issue["subject"], str(issue["priority"]["id"])) == ("Renamed locally", HIGH)
    assert (item.summary, item.priority) == ("Renamed locally", "high")


@pytest.mark.parametrize(
    ("strategy", "winner"), [("a_wins", "Renamed locally"), ("b_wins", "Renamed in Redmine")]
)
def test_the_same_field_changed_in_redmine_while_hub_writes_it_is_a_conflict_not_an_overwrite(
    synced, redmine, monkeypatch, strategy, winner
):
    """Redmine has no optimistic concurrency: a change made between Hub's read of the twin and Hub's
    write is overwritten by that write, and Hub's read-back then holds Hub's own values. It is a
    conflict like any other change of both sides, decided by the integration's strategy and
    recorded, never a silent loss (issue #20: the bounded acceptance run's "2 fields not as last
    written" — a title set on the twin 1 s before Hub wrote the other side's title over it)."""
    integration, project = synced
    integration.conflict_strategy = strategy
    integration.save()
    item = new_item("alpha", "DEMO", "Racing")
    run(integration)
    issue_id = twin_id(item)
    original = RedmineConnector.update_artifact

    def someone_edits_first(self, artifact_id, fields, **kwargs):
        redmine.update(artifact_id, subject="Renamed in Redmine")  # after Hub read the issue
        monkeypatch.setattr(RedmineConnector, "update_artifact", original)
        return original(self, artifact_id, fields, **kwargs)

    monkeypatch.setattr(RedmineConnector, "update_artifact", someone_edits_first)
    change(item, summary="Renamed locally")
    run(integration)
    item.refresh_from_db()
    assert (item.summary, redmine.issue(issue_id)["subject"]) == (winner, winner)
    decided = ArtifactActivity.objects.exclude(conflict="").get()
    assert decided.conflict == strategy[0].upper()
    assert {c["field"] for c in decided.conflicts} == {"title"}


# --- the write window: every write that brings values back goes through the check (issue #20) -------


def edit_in_the_window(monkeypatch, redmine, **attributes):
    """Someone edits the Redmine issue Hub writes next, after Hub read it and before Hub's write
    lands (Redmine has no optimistic concurrency to refuse that write)."""
    original = RedmineConnector.update_artifact

    def someone_edits_first(self, artifact_id, fields, **kwargs):
        redmine.update(artifact_id, **attributes)
        monkeypatch.setattr(RedmineConnector, "update_artifact", original)
        return original(self, artifact_id, fields, **kwargs)

    monkeypatch.setattr(RedmineConnector, "update_artifact", someone_edits_first)


def write_back_meets_an_edit(synced, redmine, monkeypatch, **edit):
    """A conflict on the title, detected on both sides, with Redmine's activity processed first:
    its twin (the local item) wins (``a_wins``), so Hub writes the local title *back* to Redmine —
    and ``edit`` is made in Redmine after Hub's batch read it, before that write. Returns the local
    item and the Redmine issue's id; the caller runs the engine."""
    integration, project = synced
    item = new_item("alpha", "DEMO", "Original")
    run(integration)
    issue_id = twin_id(item)
    change(item, summary="Renamed locally")
    redmine.update(issue_id, subject="Renamed in Redmine")
    detection.detect(integration.pk)
    ArtifactActivity.objects.filter(source_side="B", status="pending").update(priority=10)
    edit_in_the_window(monkeypatch, redmine, **edit)
    return item, issue_id


def test_a_conflicts_write_back_keeps_another_field_changed_in_its_window(synced, redmine, monkeypatch):
    """The write-back of a conflict's winner to Redmine (the source) met a change of another field
    made after the batch read the issue: that change is the source's, and reaches the twin (before,
    the read-back entered the snapshot as synchronized, and the priority never flowed)."""
    item, issue_id = write_back_meets_an_edit(synced, redmine, monkeypatch, priority_id=int(HIGH))
    run(synced[0])
    item.refresh_from_db()
    issue = redmine.issue(issue_id)
    assert (item.summary, issue["subject"]) == ("Renamed locally", "Renamed locally")
    assert (item.priority, str(issue["priority"]["id"])) == ("high", HIGH)


def test_a_conflicts_write_back_that_replaced_a_fresh_change_records_it_as_a_conflict(
    synced, redmine, monkeypatch, caplog
):
    """The write-back replaced a title set in Redmine after Hub read the issue. The local side wins
    by the strategy either way, but not silently: the replaced value is recorded as a conflict on
    the activity, and the window hit is counted (log line and metric)."""
    from hub import prometheus

    integration = synced[0]
    item, issue_id = write_back_meets_an_edit(synced, redmine, monkeypatch, subject="Renamed again")
    counter = prometheus.WRITE_WINDOW_CHANGES.labels(str(integration.pk), "write_back", "same_field")
    before = counter._value.get()
    with caplog.at_level("INFO", logger="hub.engine"):
        run(integration)
    item.refresh_from_db()
    assert (item.summary, redmine.issue(issue_id)["subject"]) == ("Renamed locally", "Renamed locally")
    recorded = [c for a in ArtifactActivity.objects.all() for c in a.conflicts or []]
    assert {"field": "title", "a": "Renamed locally", "b": "Renamed again"} in [
        {k: c[k] for k in ("field", "a", "b")} for c in recorded
    ]
    assert counter._value.get() == before + 1
    assert "write window hit (write_back, same_field)" in caplog.text


def test_bringing_a_twin_up_to_date_after_an_interrupted_create_keeps_a_change_made_in_its_window(
    synced, redmine, monkeypatch
):
    """Killed after the remote create: the retry finds the twin by its marker and writes it what the
    source changed meanwhile. A change of another field made on the twin between that read and the
    write stays the twin's change and reaches the source (before, it entered the new pair's
    snapshot as synchronized)."""
    integration, project = synced
    original = die_after_remote_create(monkeypatch)
    item = new_item("alpha", "DEMO", "Created once in Redmine")
    with pytest.raises(WorkerDied):
        run(integration)
    monkeypatch.setattr(RedmineConnector, "create_artifact", original)
    change(item, summary="Renamed while the worker was dead")
    edit_in_the_window(monkeypatch, redmine, priority_id=int(HIGH))
    resume_after_death(integration)
    # The twin's own activity waited (50013W, 5-10 s) for the pair the retry just committed: due now.
    ArtifactActivity.objects.filter(status="failed").update(next_retry_at=timezone.now())
    run(integration)
    [issue] = redmine.issues(project)
    item.refresh_from_db()
    assert twin_id(item) == str(issue["id"])
    assert issue["subject"] == item.summary == "Renamed while the worker was dead"
    assert (item.priority, str(issue["priority"]["id"])) == ("high", HIGH)
