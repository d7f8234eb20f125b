"""Person reconciliation extensions and comment extensions, end to end between two local trackers:
the documented examples, persons in comments, and splitting and leaving out comments."""

from __future__ import annotations

import pytest

from activity.models import ArtifactActivity, ArtifactPair
from connectors.local import service
from connectors.local.models import LocalComment, LocalItem, LocalUser
from extensions.models import CollectionExtensions, Extension
from integrations.models import FieldMapping, ModelField
from tests.engine.sync import change, items, new_item, run

pytestmark = pytest.mark.django_db(transaction=True)

ALL = {
    "integration_styles": ["*"],
    "connector_kinds": ["*"],
    "extension_types": ["*"],
    "key_value_stores": True,
}

# Scenario 1 of the guide (mismatched e-mails), with the dictionary of the SimplePersonReconciliation
# script: john.s@email.com in alpha is john.smith@email.com in beta.
FROM_ALPHA = """
function mapPersonFromRepository(repositoryPerson, unresolvedPerson, context) {
  if (repositoryPerson) {
    return repositoryPerson['person-email'];
  }
}
function mapPersonToRepository(modelPerson, context) {
  return modelPerson.id;
}
"""
TO_BETA = """
function mapPersonFromRepository(repositoryPerson, unresolvedPerson, context) {
  var mapping = { 'john.smith@email.com' : 'john.s@email.com' };
  if (repositoryPerson) {
    return mapping[repositoryPerson['person-email']] || repositoryPerson['person-email'];
  }
}
function mapPersonToRepository(modelPerson, context) {
  var mapping = { 'john.s@email.com' : 'john.smith@email.com' };
  if (modelPerson) {
    try {
      var person = persons.searchPerson('email', mapping[modelPerson.id] || modelPerson.id);
      console.log("found match " + person.id);
      return person.id;
    } catch (e) {
      console.log("no match found mapping to " + context.targetField.id);
      if (context.targetField.id === "assignee") {
        return "default-assignee";
      }
    }
  }
}
"""


@pytest.fixture
def with_assignee(running, issue):
    from hub import licensing

    licensing.apply(issue(features=ALL))
    model = running.collection_a.model
    ModelField.objects.create(model=model, key="assignee", label="Assignee", type="person", position=5)
    for collection in (running.collection_a, running.collection_b):
        FieldMapping.objects.create(
            collection=collection,
            repository_fields=["assignee"],
            repository_field_types={"assignee": "person"},
            model_fields=["assignee"],
            model_field_types={"assignee": "person"},
            direction="both",
            transform="copy",
        )
    running.field_flows = {**running.field_flows, "assignee": "both"}
    running.save()
    alpha, beta = service.tracker("alpha"), service.tracker("beta")
    LocalUser.objects.create(
        tracker=alpha, username="jsmith", email="john.s@email.com", display_name="John S"
    )
    LocalUser.objects.create(tracker=beta, username="john", email="john.smith@email.com", display_name="John")
    LocalUser.objects.create(tracker=beta, username="default-assignee", email="", display_name="Default")
    return running


def reconcile(collection, script, name):
    extension = Extension.objects.create(name=name, type="person_reconciliation", script=script)
    CollectionExtensions.objects.update_or_create(
        collection=collection, defaults={"person_reconciliation": extension}
    )


def test_without_an_extension_mismatched_persons_are_not_matched(with_assignee):
    jsmith = LocalUser.objects.get(username="jsmith")
    new_item("alpha", "DEMO", "Who?", assignee=jsmith.pk)
    run(with_assignee)
    [twin] = items("beta", "WEB")
    assert twin.assignee is None


def test_person_reconciliation_maps_persons_both_ways(with_assignee):
    reconcile(with_assignee.collection_a, FROM_ALPHA, "Alpha persons")
    reconcile(with_assignee.collection_b, TO_BETA, "Beta persons")
    jsmith = LocalUser.objects.get(username="jsmith")
    item = new_item("alpha", "DEMO", "Assigned", assignee=jsmith.pk)
    run(with_assignee)
    [twin] = items("beta", "WEB")
    assert twin.assignee.username == "john"
    # and back: beta's John is alpha's jsmith
    change(item, assignee=None)
    run(with_assignee)
    twin.refresh_from_db()
    assert twin.assignee is None
    change(twin, assignee=LocalUser.objects.get(username="john").pk)
    run(with_assignee)
    item.refresh_from_db()
    assert item.assignee.username == "jsmith"


def test_no_match_falls_back_to_the_default_person_by_field(with_assignee):
    reconcile(with_assignee.collection_b, TO_BETA, "Beta persons")
    stranger = LocalUser.objects.create(tracker=service.tracker("alpha"), username="zed", email="zed@x.org")
    new_item("alpha", "DEMO", "Stranger", assignee=stranger.pk)
    run(with_assignee)
    [twin] = items("beta", "WEB")
    assert twin.assignee.username == "default-assignee"


def test_a_throwing_reconciliation_fails_the_activity_with_17011E(with_assignee):
    reconcile(
        with_assignee.collection_b,
        "function mapPersonFromRepository(p) { return p.id; }"
        "function mapPersonToRepository(p) { throw 'no person for ' + p.id; }",
        "Strict",
    )
    jsmith = LocalUser.objects.get(username="jsmith")
    item = new_item("alpha", "DEMO", "Strict", assignee=jsmith.pk)
    run(with_assignee, rounds=1)
    activity = ArtifactActivity.objects.get(artifact_id=str(item.pk), source_side="A")
    assert (activity.status, activity.code) == ("failed", "CCRRTT-17011E")
    assert "no person for jsmith" in activity.message


def test_returning_undefined_leaves_the_person_empty(with_assignee):
    reconcile(
        with_assignee.collection_b,
        "function mapPersonFromRepository(p) {} function mapPersonToRepository(p) { return undefined; }",
        "Nobody",
    )
    jsmith = LocalUser.objects.get(username="jsmith")
    new_item("alpha", "DEMO", "Nobody", assignee=jsmith.pk)
    run(with_assignee)
    [twin] = items("beta", "WEB")
    assert twin.assignee is None


# --- comments ------------------------------------------------------------------------------------

SPLIT_LONG = """
var inputTypes = 'Comments';
var outputTypes = 'Comments';
function transform(context, input) {
  var out = [];
  input.forEach(function (comment) {
    if (comment['comment-content'].indexOf('[internal]') === 0) { return; }  // left out
    var parts = comment['comment-content'].split('\\n---\\n');
    parts.forEach(function (part) {
      out.push({ id: comment.id, 'is-private': comment['is-private'], content: part });
    });
  });
  return out;
}
"""


def comments_of(item: LocalItem) -> list[str]:
    return list(LocalComment.objects.filter(item=item).order_by("id").values_list("body", flat=True))


@pytest.fixture
def splitting(running, issue):
    from hub import licensing

    licensing.apply(issue(features=ALL))
    extension = Extension.objects.create(name="Split", type="custom_data_transformation", script=SPLIT_LONG)
    CollectionExtensions.objects.create(collection=running.collection_a, comments_to_model=extension)
    return running


def test_a_comment_extension_splits_and_leaves_out_comments(splitting):
    hub = service.hub_user(service.tracker("alpha"))
    item = new_item("alpha", "DEMO", "Talkative")
    service.add_comment(item.pk, hub, "first part\n---\nsecond part")
    service.add_comment(item.pk, hub, "[internal] not for beta")
    service.add_comment(item.pk, hub, "plain")
    run(splitting)
    [twin] = items("beta", "WEB")
    assert comments_of(twin) == ["first part", "second part", "plain"]


def test_a_comment_extension_acts_only_on_new_comments(splitting):
    hub = service.hub_user(service.tracker("alpha"))
    item = new_item("alpha", "DEMO", "Old and new")
    service.add_comment(item.pk, hub, "old\n---\ncomment")
    run(splitting)
    [twin] = items("beta", "WEB")
    before = comments_of(twin)
    Extension.objects.filter(name="Split").update(
        script=SPLIT_LONG.replace("content: part", "content: part.toUpperCase()")
    )
    service.add_comment(item.pk, hub, "new one")
    run(splitting)
    assert comments_of(twin) == [*before, "NEW ONE"]
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    assert len([k for k in pair.comment_map if k.startswith("A:")]) == 2


def test_a_comment_author_goes_through_the_person_reconciliation_extension(with_assignee):
    """A comment by alpha's jsmith is written in beta by John: the same extensions that map the
    assignee map the comment's author (the default rules find no one: the e-mails differ)."""
    reconcile(with_assignee.collection_a, FROM_ALPHA, "Alpha persons")
    reconcile(with_assignee.collection_b, TO_BETA, "Beta persons")
    item = new_item("alpha", "DEMO", "Commented")
    run(with_assignee)
    service.add_comment(item.pk, LocalUser.objects.get(username="jsmith"), "Seen on 2.3 too")
    run(with_assignee)
    [twin] = items("beta", "WEB")
    [copy] = LocalComment.objects.filter(item=twin)
    assert copy.author.username == "john"
    assert copy.body.endswith("Seen on 2.3 too") and "wrote:" not in copy.body



def test_an_attachment_uploader_goes_through_the_person_reconciliation_extension(with_assignee):
    """A file alpha's jsmith attached is attached in beta by John, through the same extensions
    (inventory 2.46: every person field, attachment authors included)."""
    with_assignee.attachment_flow = {"a_to_b": {"enabled": True, "max_size_mb": 1}}
    with_assignee.save()
    reconcile(with_assignee.collection_a, FROM_ALPHA, "Alpha persons")
    reconcile(with_assignee.collection_b, TO_BETA, "Beta persons")
    item = new_item("alpha", "DEMO", "With a file")
    run(with_assignee)
    jsmith = LocalUser.objects.get(username="jsmith")
    service.add_attachment(item.pk, "trace.log", [b"log bytes"], uploader=jsmith)
    run(with_assignee)
    [twin] = items("beta", "WEB")
    [copy] = twin.attachments.all()
    assert copy.filename == "trace.log" and copy.uploader.username == "john"
