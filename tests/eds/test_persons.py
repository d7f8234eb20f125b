"""Persons reach the table as display name plus id: the field's column holds the name the tool shows
(read once per pass), the ``<key>_id`` column beside it the person's id. Checked with plain SQL."""

from __future__ import annotations

import pytest

from connectors.local import service
from connectors.local.models import LocalProject, LocalUser
from integrations import eds
from integrations.models import FieldMapping, ModelField

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("target_database", ["sqlite", "postgres"], indirect=True)
def test_a_person_is_streamed_as_display_name_and_id(stream):
    ModelField.objects.create(
        model=stream.target.model, key="owner", label="Owner", type="person", position=6
    )
    FieldMapping.objects.create(
        collection=stream.source,
        repository_fields=["assignee"],
        repository_field_types={"assignee": "person"},
        model_fields=["owner"],
        model_field_types={"owner": "person"},
        direction="to_model",
    )
    tracker = service.tracker("alpha")
    ada = LocalUser.objects.create(tracker=tracker, username="ada", display_name="Ada Lovelace")
    project = LocalProject.objects.get(tracker=tracker, key="DEMO")
    service.create_item(
        project, "bug", {"summary": "Assigned", "assignee": str(ada.pk)}, reporter=service.hub_user(tracker)
    )
    assert "owner_id" in eds.proposed_ddl(stream.target)
    eds.create_table(stream.target)
    assert eds.stream(stream.integration.pk) == 1
    with eds.open_table(stream.target) as table:
        cursor = table.connection.cursor()
        cursor.execute("SELECT owner, owner_id FROM defects")
        assert [tuple(row) for row in cursor.fetchall()] == [("Ada Lovelace", str(ada.pk))]
