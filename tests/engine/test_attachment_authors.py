"""A synchronized attachment carries who attached it: as the copy's uploader where the target lets
Hub set one and the person reconciliation finds the person (the same persons as every other person
field, issue #13 / inventory 2.46); the Redmine side, which names them in the file's description,
is in tests/engine/test_redmine_sync.py."""

import dataclasses

import pytest

from activity.models import ArtifactPair
from connectors import registry
from connectors.local import service
from connectors.local.connector import LocalConnector
from connectors.local.models import LocalItem, LocalUser
from connectors.types import RepositorySettings
from metrics.models import PersonSighting
from tests.engine.sync import new_item, run, user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def with_files(running):
    running.attachment_flow = {
        "a_to_b": {"enabled": True, "max_size_mb": 1},
        "b_to_a": {"enabled": True, "max_size_mb": 1},
    }
    running.save()
    return running


def attached_and_synchronized(integration, uploader: LocalUser | None):
    item = new_item("alpha", "DEMO", "Needs a file")
    run(integration)
    service.add_attachment(item.pk, "trace.log", [b"log bytes"], content_type="text/plain", uploader=uploader)
    run(integration)
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    return LocalItem.objects.get(pk=int(pair.b_artifact_id)).attachments.get()


def test_the_local_tracker_reports_who_attached_a_file(running):
    ann = user("alpha", "ann", "Ann Example")
    item = new_item("alpha", "DEMO", "Has a file")
    service.add_attachment(item.pk, "a.txt", [b"a"], uploader=ann)
    service.add_attachment(item.pk, "b.txt", [b"b"])
    connector = registry.connect(RepositorySettings(kind="local", url="local://alpha"))
    assert [(a.filename, a.author) for a in connector.attachments(str(item.pk))] == [
        ("a.txt", str(ann.pk)),
        ("b.txt", ""),
    ]
    assert [a.author for a in connector.read_artifact(str(item.pk)).attachments] == [str(ann.pk), ""]


def test_the_copy_is_attached_by_the_same_person_when_the_target_knows_them(with_files):
    ann_in_beta = user("beta", "ann", "Ann Example")
    copy = attached_and_synchronized(with_files, user("alpha", "ann", "Ann Example"))
    assert copy.uploader == ann_in_beta
    assert service.attachment_path(copy).read_bytes() == b"log bytes"
    assert PersonSighting.objects.filter(field="attachments", username="ann").exists()


def test_a_person_the_target_does_not_know_leaves_the_copy_without_uploader(with_files):
    copy = attached_and_synchronized(with_files, user("alpha", "ann", "Ann Example"))
    assert copy.uploader is None
    assert copy.filename == "trace.log"


def test_a_file_nobody_attached_in_particular_is_copied_as_before(with_files):
    copy = attached_and_synchronized(with_files, None)
    assert copy.uploader is None and copy.filename == "trace.log"


def test_a_tool_that_lets_hub_set_no_uploader_gets_the_file_without_one(with_files, monkeypatch):
    user("beta", "ann", "Ann Example")
    capabilities = dataclasses.replace(LocalConnector.capabilities, attachment_author=False)
    monkeypatch.setattr(LocalConnector, "capabilities", capabilities)
    copy = attached_and_synchronized(with_files, user("alpha", "ann", "Ann Example"))
    assert copy.uploader is None
