"""A collection's extension settings (Collections → a collection → Extensions): Comment
Configuration per direction, Person Reconciliation, State Transition with its fields, and the
transition graph edited from the tool's statuses."""

from __future__ import annotations

import pytest
from django.urls import reverse

from extensions.models import CollectionExtensions, Extension
from integrations.snapshots import ElementType

pytestmark = pytest.mark.django_db

COMMENTS = """var inputTypes = 'Comments'; var outputTypes = 'Comments';
function transform(context, input) { return input; }"""
PERSONS = """function mapPersonFromRepository(repositoryPerson, unresolvedPerson, context) { return 'x'; }
function mapPersonToRepository(modelPerson, context) { return modelPerson.id; }"""
TRANSITIONS = "function transitionArtifact(context, transitions) { return undefined; }"


@pytest.fixture
def extensions(make_extension):
    return (
        make_extension("Split comments", COMMENTS),
        make_extension("Directory", PERSONS, type="person_reconciliation"),
        make_extension("Resolve", TRANSITIONS, type="state_transition"),
        make_extension(
            "Shout", "var inputTypes='String'; var outputTypes='String'; function transform(c, i) {}"
        ),
    )


def test_the_screen_offers_each_extension_only_in_its_own_section(admin_client, collections, extensions):
    page = admin_client.get(reverse("collection-extensions", args=[collections[0].pk])).content.decode()
    for section in ("Comment Configuration", "Person Reconciliation", "State Transition", "Transition graph"):
        assert section in page
    comments = page.split('id="id_comments_to_model"')[1].split("</select>")[0]
    persons = page.split('id="id_person_reconciliation"')[1].split("</select>")[0]
    states = page.split('id="id_state_transition"')[1].split("</select>")[0]
    assert "Split comments" in comments and "Shout" not in comments and "Directory" not in comments
    assert "Directory" in persons and "Resolve" not in persons
    assert "Resolve" in states and "Directory" not in states


def test_saving_the_selections_stores_and_records_them(admin_client, collections, extensions):
    from hub.models import ConfigurationChange

    comments, persons, states, _ = extensions
    collection = collections[0]
    response = admin_client.post(
        reverse("collection-extensions", args=[collection.pk]),
        {
            "comments_to_model": comments.pk,
            "comments_to_repository": "",
            "person_reconciliation": persons.pk,
            "state_transition": states.pk,
            "state_transition_fields": ["title"],
        },
    )
    assert response.status_code == 302
    saved = CollectionExtensions.objects.get(collection=collection)
    assert (saved.comments_to_model, saved.comments_to_repository) == (comments, None)
    assert (saved.person_reconciliation, saved.state_transition) == (persons, states)
    assert saved.state_transition_fields == ["title"]
    assert ConfigurationChange.objects.filter(element_type=ElementType.COLLECTION_EXTENSIONS).exists()


def test_an_extension_of_another_type_is_refused_in_a_section(admin_client, collections, extensions):
    shout = extensions[3]
    response = admin_client.post(
        reverse("collection-extensions", args=[collections[0].pk]), {"person_reconciliation": shout.pk}
    )
    assert response.status_code == 200  # the form again, with its error
    assert not CollectionExtensions.objects.filter(person_reconciliation=shout).exists()
    assert Extension.objects.filter(pk=shout.pk).exists()


def test_transition_graph_edges_are_added_and_removed(admin_client, collections):
    collection = collections[0]
    url = reverse("collection-transition-graph", args=[collection.pk])
    admin_client.post(
        url, {"graph": "1", "action": "add", "from": "new", "to": "in_progress", "name": "Start"}
    )
    admin_client.post(url, {"graph": "1", "action": "add", "from": "new", "to": "new", "name": "Loop"})
    assert CollectionExtensions.objects.get(collection=collection).transition_graph == [
        {"from": "new", "to": "in_progress", "transition": "Start"}
    ]
    page = admin_client.get(reverse("collection-extensions", args=[collection.pk])).content.decode()
    assert page.count('data-testid="graph-edge"') == 1
    admin_client.post(url, {"graph": "1", "action": "remove", "index": "0"})
    assert CollectionExtensions.objects.get(collection=collection).transition_graph == []


def test_learn_adds_the_transitions_a_real_artifact_offers_from_its_status(admin_client, collections):
    """Learn reads the artifact and its transitions from the collection's tool (the local tracker:
    from New, Start work → In progress and Resolve → Resolved) and adds one edge each, once; an
    artifact the tool does not have adds nothing and says why."""
    from django.contrib.messages import get_messages

    from tests.engine.sync import new_item

    collection = collections[0]
    item = new_item("alpha", "DEMO", "Learn from me")
    url = reverse("collection-transition-graph", args=[collection.pk])
    for _ in range(2):  # learning twice adds no edge twice
        response = admin_client.post(url, {"graph": "1", "action": "learn", "artifact": str(item.pk)})
    assert CollectionExtensions.objects.get(collection=collection).transition_graph == [
        {"from": "new", "to": "in_progress", "transition": "Start work"},
        {"from": "new", "to": "resolved", "transition": "Resolve"},
    ]
    assert any("2 transition(s) from status 'new'" in str(m) for m in get_messages(response.wsgi_request))
    response = admin_client.post(url, {"graph": "1", "action": "learn", "artifact": "999999"})
    assert any(
        "could not read the transitions of '999999'" in str(m) for m in get_messages(response.wsgi_request)
    )
    assert len(CollectionExtensions.objects.get(collection=collection).transition_graph) == 2


def test_viewers_cannot_change_a_collections_extensions(viewer_client, collections, extensions):
    response = viewer_client.post(
        reverse("collection-extensions", args=[collections[0].pk]),
        {"person_reconciliation": extensions[1].pk},
    )
    assert response.status_code in (302, 403)
    assert not CollectionExtensions.objects.filter(person_reconciliation=extensions[1]).exists()
