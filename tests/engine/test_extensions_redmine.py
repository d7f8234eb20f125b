"""Extensions between the local tracker (A) and the real Redmine (B): a custom data transformation,
a person reconciliation extension, and a transition graph walking Redmine's workflow, which is
configured here (for a tracker of this test's own) to need several steps from New to Closed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from activity.models import ArtifactPair
from connectors.local import service
from connectors.local.models import LocalItem, LocalUser
from extensions.models import CollectionExtensions, Extension
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
from tests.connectors.peers import MEMBER_LOGIN
from tests.engine.sync import change, new_item, run
from tests.engine.test_redmine_sync import redmine  # noqa: F401 - the fixture
from tests.extensions.conftest import ALL_FEATURES

pytestmark = pytest.mark.django_db(transaction=True)

NEW, IN_PROGRESS, RESOLVED, CLOSED = "1", "2", "3", "5"
CHAIN = [(NEW, IN_PROGRESS), (IN_PROGRESS, RESOLVED), (RESOLVED, CLOSED)]
STATUSES = [
    {"id": "new", "label": "New"},
    {"id": "in_progress", "label": "In Progress"},
    {"id": "resolved", "label": "Resolved"},
    {"id": "closed", "label": "Closed"},
]
TAG = """var inputTypes = 'String'; var outputTypes = 'String';
function transform(context, input) { return input ? '[alpha] ' + input : input; }"""
UNTAG = """var inputTypes = 'String'; var outputTypes = 'String';
function transform(context, input) { return input ? input.replace(/^\\[alpha\\] /, '') : input; }"""
REDMINE_PERSONS = f"""
function mapPersonFromRepository(repositoryPerson, unresolvedPerson, context) {{
  var mapping = {{ '{MEMBER_LOGIN}': 'jsmith' }};
  if (repositoryPerson) {{
    return mapping[repositoryPerson['person-username']] || repositoryPerson['person-username'];
  }}
}}
function mapPersonToRepository(modelPerson, context) {{
  var mapping = {{ 'jsmith': '{MEMBER_LOGIN}' }};
  var person = persons.searchPerson('person-username', mapping[modelPerson.id] || modelPerson.id);
  return person['person-id'];
}}
"""


def workflow_tracker(prepared, project: str) -> str:
    """A Redmine tracker of this test whose workflow, for every role, goes New → In Progress →
    Resolved → Closed one step at a time (Redmine's REST API cannot configure workflows)."""
    db_file = Path(prepared.server.info["instance_dir"]) / "db" / "redmine.sqlite3"
    with sqlite3.connect(db_file) as db:
        cursor = db.execute(
            "INSERT INTO trackers (name, position, is_in_roadmap, fields_bits, default_status_id,"
            " description) VALUES (?, 99, 0, 0, 1, '')",
            (f"Workflow {project}",),
        )
        tracker = cursor.lastrowid
        roles = [row[0] for row in db.execute("SELECT id FROM roles WHERE builtin = 0")]
        for role in roles:
            for old, new in [("0", NEW), *CHAIN]:
                db.execute(
                    "INSERT INTO workflows (tracker_id, old_status_id, new_status_id, role_id, assignee,"
                    " author, type) VALUES (?, ?, ?, ?, 0, 0, 'WorkflowTransition')",
                    (tracker, int(old), int(new), role),
                )
        db.execute(
            "INSERT INTO projects_trackers (project_id, tracker_id) VALUES (?, ?)", (int(project), tracker)
        )
    return str(tracker)


def lines(collection, spec):
    for repository_field, kind, model_field, transform, params in spec:
        FieldMapping.objects.create(
            collection=collection,
            repository_fields=[repository_field],
            repository_field_types={repository_field: kind},
            model_fields=[model_field],
            model_field_types={model_field: kind},
            transform=transform,
            params=params,
        )


@pytest.fixture
def bridge(trackers, redmine, master_password, issue):  # noqa: F811 - the imported fixture
    from hub import licensing

    licensing.apply(issue(features=ALL_FEATURES))
    project = redmine.new_project()
    tracker = workflow_tracker(redmine.prepared, project)
    model = Model.objects.create(name="Defect")
    for position, (key, kind, options) in enumerate(
        [("title", "string", []), ("status", "single_select", STATUSES), ("owner", "person", [])]
    ):
        ModelField.objects.create(
            model=model, key=key, label=key.title(), type=kind, position=position, options=options
        )
    alpha = Repository.objects.create(label="Alpha", kind="local", url="local://alpha")
    local = RepositoryCollection.objects.create(
        name="Alpha", repository=alpha, model=model, artifact_types=["bug"]
    )
    set_projects(local, [{"id": "DEMO", "key": "DEMO", "name": "Demo"}])
    lines(
        local,
        [
            ("summary", "string", "title", "copy", {}),
            ("status", "single_select", "status", "copy", {}),
            ("assignee", "person", "owner", "copy", {}),
        ],
    )
    remote_repository = Repository.objects.create(
        label="Redmine",
        kind="redmine",
        url=redmine.prepared.server.url,
        auth_method="api_key",
        token=redmine.prepared.server.api_key,
    )
    remote = RepositoryCollection.objects.create(
        name="Redmine", repository=remote_repository, model=model, artifact_types=[tracker]
    )
    set_projects(remote, [{"id": project, "key": project, "name": project}])
    to_model = {NEW: "new", IN_PROGRESS: "in_progress", RESOLVED: "resolved", CLOSED: "closed"}
    lines(
        remote,
        [
            (
                "subject",
                "string",
                "title",
                "extension",
                {"to_model_extension": "Untag", "to_repository_extension": "Tag"},
            ),
            (
                "status",
                "single_select",
                "status",
                "value_map",
                {"to_model": to_model, "to_repository": {v: k for k, v in to_model.items()}},
            ),
            ("assigned_to", "person", "owner", "copy", {}),
        ],
    )
    Extension.objects.create(name="Tag", type="custom_data_transformation", script=TAG)
    Extension.objects.create(name="Untag", type="custom_data_transformation", script=UNTAG)
    integration = Integration.objects.create(
        name="Alpha ↔ Redmine",
        collection_a=local,
        collection_b=remote,
        creation_flow="both",
        field_flows={"title": "both", "status": "a_to_b", "owner": "both"},
        conflict_strategy="a_wins",
        running=True,
    )
    Route.objects.create(integration=integration, project_a="DEMO", project_b=project)
    return integration, redmine


def twin(item) -> str:
    return ArtifactPair.objects.get(a_artifact_id=str(item.pk)).b_artifact_id


def test_a_custom_transformation_shapes_the_redmine_twin_and_reads_back_without_writes(bridge):
    integration, admin = bridge
    item = new_item("alpha", "DEMO", "Crash on save")
    run(integration)
    issue = admin.issue(twin(item))
    assert issue["subject"] == "[alpha] Crash on save"
    admin.update(issue["id"], subject="[alpha] Crash on load")
    run(integration)
    item.refresh_from_db()
    assert item.summary == "Crash on load"


def test_a_person_reconciliation_extension_maps_persons_to_redmine_and_back(bridge):
    integration, admin = bridge
    jsmith = LocalUser.objects.create(
        tracker=service.tracker("alpha"), username="jsmith", email="john.s@x.org"
    )
    item = new_item("alpha", "DEMO", "Assigned", assignee=jsmith.pk)
    collection = integration.collection_b
    extension = Extension.objects.create(
        name="Redmine persons", type="person_reconciliation", script=REDMINE_PERSONS
    )
    CollectionExtensions.objects.create(collection=collection, person_reconciliation=extension)
    run(integration)
    issue_id = twin(item)
    assert str(admin.issue(issue_id)["assigned_to"]["id"]) == admin.prepared.member_id
    change(item, assignee=None)
    run(integration)
    assert "assigned_to" not in admin.issue(issue_id)
    admin.update(issue_id, assigned_to_id=int(admin.prepared.member_id))
    run(integration)
    item.refresh_from_db()
    assert item.assignee_id == jsmith.pk


def test_the_transition_graph_walks_redmines_workflow_from_new_to_closed(bridge):
    integration, admin = bridge
    CollectionExtensions.objects.create(
        collection=integration.collection_b,
        transition_graph=[{"from": old, "to": new, "transition": ""} for old, new in CHAIN],
    )
    item = new_item("alpha", "DEMO", "Close me")
    run(integration)
    issue_id = twin(item)
    assert admin.issue(issue_id)["status"]["id"] == int(NEW)
    service.perform_transition(item.pk, "resolve", {"resolution": "fixed"})
    service.perform_transition(item.pk, "close", None)
    run(integration)
    assert admin.issue(issue_id)["status"]["id"] == int(CLOSED)
    statuses = [
        detail["new_value"]
        for journal in admin.issue(issue_id)["journals"]
        for detail in journal["details"]
        if detail["name"] == "status_id"
    ]
    assert statuses == [IN_PROGRESS, RESOLVED, CLOSED]
    assert LocalItem.objects.get(pk=item.pk).status == "closed"
