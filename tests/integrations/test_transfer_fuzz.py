"""Fuzz of the configuration import (Hypothesis, bounded: tests/support/fuzz.py). A real export of a
whole configuration, damaged at random — values, keys, actions, element types, the zip's bytes — is
refused on upload or imported change by change through the screens: never a 5xx, a refused change
leaves nothing of itself, and no upload stays behind (only the changes not applied, offered for
download)."""

import json

import pytest
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st

from hub.models import ConfigurationChange
from integrations import snapshots, transfer
from tests.integrations.test_transfer import built, exported, upload  # noqa: F401 - fixture
from tests.support import fuzz


@pytest.fixture
def export_members(admin_client, built):  # noqa: F811 - the imported fixture, requested
    """The changes of a real export (repositories, model, collections, mapping, integration)."""
    return [change.as_dict() for change in transfer.read_zip(exported(admin_client))]


def as_zip(manifest: dict, changes: list) -> bytes:
    members = {"manifest.json": json.dumps(manifest).encode()}
    for number, change in enumerate(changes, start=1):
        members[f"changes/{number:05d}.json"] = json.dumps(change).encode()
    return fuzz.zipped(members)


def an_upload(data, changes: list[dict]) -> bytes:
    manifest = {"format": transfer.FORMAT, "version": transfer.VERSION, "count": len(changes)}
    how = data.draw(st.sampled_from(("changes", "changes", "changes", "manifest", "bytes")), label="damage")
    if how == "manifest":
        return as_zip(fuzz.edited(data, manifest), changes)
    if how == "bytes":
        return fuzz.damaged_bytes(data, as_zip(manifest, changes))
    index = data.draw(st.integers(0, len(changes) - 1), label="change")
    damaged = list(changes)
    damaged[index] = fuzz.edited(data, changes[index])
    return as_zip(manifest, damaged)


def state_of(change: transfer.ExportedChange):
    try:
        element = snapshots.find(change.element_type, change.element_name)
        return None if element is None else snapshots.snapshot(change.element_type, element)
    except Exception as error:  # noqa: BLE001 - a name no element can have: nothing to compare
        return repr(error)


@given(data=st.data())
@fuzz.bounded()
@fuzz.time_capped()
def test_any_damaged_export_is_refused_or_imported_never_half_and_never_a_server_error(
    admin_client, export_members, data
):
    imports = django_settings.HUB_HOME / "imports"
    content = an_upload(data, export_members)
    with fuzz.rolled_back():
        kept_before = fuzz.files_in(imports)
        response = upload(admin_client, content)
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 200:  # refused: the reason is shown, nothing is kept
            assert response.context["form"].errors["file"]
            assert fuzz.files_in(imports) == kept_before
            return
        review = admin_client.get(response["Location"])
        assert review.status_code == 200
        changes = transfer.read_zip(content)
        states = [state_of(change) for change in changes]
        imported_before = ConfigurationChange.objects.filter(source="import").count()
        finished = admin_client.post(response["Location"])
        assert finished.status_code == 200
        result = finished.context["result"]
        imported = ConfigurationChange.objects.filter(source="import").count() - imported_before
        assert imported == len(result.applied)  # one history entry for each change applied
        left = fuzz.files_in(imports) - kept_before
        if result.failed is None:
            assert not left
        else:  # the refused change kept nothing of itself; only the rest is kept, to download
            assert len(left) == 1 and result.remaining[0] is result.failed
            index = len(result.applied)
            touched_earlier = any(
                (c.element_type, c.element_name) == (result.failed.element_type, result.failed.element_name)
                for c in changes[:index]
            )
            if not touched_earlier:
                assert state_of(result.failed) == states[index]
            for path in left:
                path.unlink()
