"""A synchronized comment carries its original author: in the target's own author field where the
tool lets Hub set one and knows the person, otherwise as a first line "<name> wrote:"."""

import dataclasses

import pytest

from activity.models import ArtifactPair
from connectors.local import service
from connectors.local.connector import LocalConnector
from connectors.local.models import LocalItem, LocalUser
from tests.engine.sync import new_item, run, user

pytestmark = pytest.mark.django_db(transaction=True)


def commented_and_synchronized(running, author: LocalUser, body: str = "Seen on 2.3 too"):
    item = new_item("alpha", "DEMO", "Needs a comment")
    run(running)
    service.add_comment(item.pk, author, body)
    run(running)
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    return LocalItem.objects.get(pk=int(pair.b_artifact_id)).comments.get()


def test_the_copy_is_authored_by_the_same_person_when_the_target_knows_them(running):
    ann_in_beta = user("beta", "ann", "Ann Example")
    copy = commented_and_synchronized(running, user("alpha", "ann", "Ann Example"))
    assert copy.author == ann_in_beta
    assert copy.body == "Seen on 2.3 too"


def test_a_person_the_target_does_not_know_is_named_in_a_first_line(running):
    copy = commented_and_synchronized(running, user("alpha", "ann", "Ann Example"))
    assert copy.author == service.hub_user(service.tracker("beta"))
    assert copy.body.splitlines()[0] == "Ann Example wrote:"
    assert copy.body.endswith("Seen on 2.3 too")


def test_a_tool_that_lets_hub_set_no_author_gets_the_first_line(running, monkeypatch):
    user("beta", "ann", "Ann Example")
    capabilities = dataclasses.replace(LocalConnector.capabilities, comment_author=False)
    monkeypatch.setattr(LocalConnector, "capabilities", capabilities)
    copy = commented_and_synchronized(running, user("alpha", "ann", "Ann Example"))
    assert copy.author == service.hub_user(service.tracker("beta"))
    assert copy.body == "Ann Example wrote:\n\nSeen on 2.3 too"


def test_the_copy_is_not_copied_back(running):
    item = new_item("alpha", "DEMO", "Round trip")
    run(running)
    service.add_comment(item.pk, user("alpha", "ann", "Ann Example"), "once")
    run(running)
    run(running)
    assert [c.body for c in item.comments.all()] == ["once"]
