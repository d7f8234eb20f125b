"""Fuzz of the artifact pair import (Hypothesis, bounded: tests/support/fuzz.py). Exports — as JSON
or zipped, well-formed or damaged in their header, their pairs or their bytes — are refused on
upload or imported by the background job all or nothing: never a 5xx, and no upload kept."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activity import jobs, pair_transfer
from activity.models import ArtifactPair, BackgroundJob
from tests.activity.test_pair_import_limits import upload_pairs
from tests.support import fuzz

pytestmark = pytest.mark.django_db


def a_pair(number: int) -> dict:
    side = lambda n: {  # noqa: E731 - a table of the export's fields
        "artifact_id": str(n), "formatted_id": f"DEMO-{n}", "summary": f"Item {n}",
        "url": f"local://alpha/items/{n}", "project": "DEMO", "snapshot": {"title": f"Item {n}"},
    }  # fmt: skip
    return {
        "a": side(number),
        "b": side(1000 + number),
        "comment_map": {"1": "2"},
        "attachment_map": {},
        "integration": "Alpha ↔ Beta",
        "last_synced_at": "2026-11-30T10:00:00+00:00",
    }


@st.composite
def exports(draw):
    document = {
        "format": pair_transfer.FORMAT,
        "version": pair_transfer.VERSION,
        "integrations": [{"id": 1, "name": "Alpha ↔ Beta"}],
        "pairs": [a_pair(n) for n in range(1, draw(st.integers(1, 4)) + 1)],
    }
    how = draw(st.sampled_from(("pairs", "pairs", "header", "bytes", "valid")))
    if how != "valid":
        data = draw(st.data())
        if how == "pairs":
            document["pairs"] = fuzz.edited(data, document["pairs"])
        elif how == "header":
            document = fuzz.edited(data, document)
    content = json.dumps(document).encode()
    if how == "bytes":
        content = fuzz.damaged_bytes(draw(st.data()), content)
    if draw(st.booleans()):
        return "pairs.zip", fuzz.zipped({pair_transfer.JSON_NAME: content})
    return "pairs.json", content


@given(upload=exports())
@fuzz.bounded()
@fuzz.time_capped()
def test_any_export_is_refused_or_imported_all_or_nothing_never_a_server_error(
    admin_client, integrations_running, upload
):
    name, content = upload
    imports = pair_transfer.transfer_dir("import")
    with fuzz.rolled_back():
        pairs_before = ArtifactPair.objects.count()
        response = upload_pairs(admin_client, content, name)
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 200:
            assert response.context["form"].errors["file"]
        else:
            jobs.run_due_jobs()
            job = BackgroundJob.objects.get(kind="pair_import")
            assert job.status in ("completed", "failed"), job.status
            imported = job.details.get("imported", 0) if job.status == "completed" else 0
            assert ArtifactPair.objects.count() == pairs_before + imported
        assert not fuzz.files_in(imports)
