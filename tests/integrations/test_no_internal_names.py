"""Screens show labels, never Hub's internal names: transform ids (``value_map``), field type ids
(``single_select``), connector kinds (``local``) or the snapshot's ``__revision__`` key. Internal
names may sit in attributes (option values, ids); only the text a person reads is checked."""

import re
from html.parser import HTMLParser

import pytest

from activity.models import ArtifactPair

pytestmark = pytest.mark.django_db
INTERNAL = ("value_map", "single_select", "__revision__")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(response) -> str:
    parser = _Text()
    parser.feed(response.content.decode())
    return " ".join(parser.parts)


def assert_no_internal_names(text: str) -> None:
    found = [name for name in INTERNAL if name in text]
    assert not found, f"internal names on screen: {found}"


def test_the_mapping_list_names_transforms_by_their_label(admin_client, collections):
    text = visible_text(admin_client.get(f"/collections/{collections[0].pk}/mapping/"))
    assert "Map option values" in text
    assert_no_internal_names(text)


def test_pair_details_do_not_list_the_revision_bookkeeping(admin_client, integration):
    pair = ArtifactPair.objects.create(
        integration_id=integration.pk,
        a_artifact_id="1",
        b_artifact_id="2",
        a_snapshot={"title": "Same", "__revision__": "7"},
        b_snapshot={"title": "Same", "__revision__": "3"},
    )
    text = visible_text(admin_client.get(f"/activity/pairs/{pair.pk}/"))
    assert "Same" in text
    assert_no_internal_names(text)


def test_the_repository_page_names_its_connector_by_label(admin_client, repositories):
    text = visible_text(admin_client.get(f"/repositories/{repositories[0].pk}/"))
    assert "(Local tracker)" in text
    assert not re.search(r"\(local\)", text)


def test_the_model_page_names_field_types_by_label(admin_client, model):
    text = visible_text(admin_client.get(f"/models/{model.pk}/"))
    assert_no_internal_names(text)
