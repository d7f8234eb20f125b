"""Jira says who attached a file (``author``, as for comments): ``AttachmentMeta.author`` carries
that person's id, so a synchronized copy can name its uploader (inventory 2.46)."""

from __future__ import annotations

import pytest

from connectors import registry
from tests.connectors.cloud_peers import jira_settings
from tests.fakes.jira import JiraFake


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_an_attachment_names_who_attached_it_as_a_comment_names_its_author(flavor, db):
    with JiraFake(flavor=flavor) as fake:
        fake.add_project("ATT", "Attachments")
        with registry.connect(jira_settings(fake)) as connector:
            made = connector.create_artifact("ATT", "10001", {"summary": "With a file"})
            uploaded = connector.upload_attachment(made.id, "trace.log", [b"log bytes"])
            comment = connector.add_comment(made.id, "See the file")
            [listed] = connector.attachments(made.id)
            read = connector.read_artifact(made.id)
    assert comment.author and listed.author == uploaded.author == comment.author
    assert [a.author for a in read.attachments] == [comment.author]
