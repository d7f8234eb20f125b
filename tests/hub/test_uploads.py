"""Uploads are read within limits (hub.uploads): a zip bomb is refused while it inflates, with the
limit named, in bounded memory; a large JSON export streams; deep nesting and wrong shapes are
clear refusals; an upload that is not applied is not left behind."""

import contextlib
import io
import json
import os
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activity import pair_transfer
from hub import uploads
from integrations import transfer

LIMITS = uploads.ZipLimits(compressed=1_000_000, uncompressed=10_000_000, member=5_000_000, members=10)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def bomb(size: int = 200 * 1024 * 1024, name: str = "changes/00001.json") -> bytes:
    return zipped(
        {"manifest.json": b'{"format": "hub-configuration-changes", "version": 1}', name: b" " * size}
    )


def lying_bomb(size: int) -> bytes:
    """A zip whose header claims a tiny member that inflates to ``size`` bytes."""
    data = bytearray(zipped({"a.json": b"0" * size}))
    small = (100).to_bytes(4, "little")
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)
        data[start + offset : start + offset + 4] = small
    return bytes(data)


def peak_memory(work) -> int:
    tracemalloc.start()
    with contextlib.suppress(uploads.UploadRefused, transfer.ImportRefused, pair_transfer.ImportFileError):
        work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


# --- the bounded zip reader ---------------------------------------------------------------------


def test_a_zip_bomb_is_refused_on_its_declared_size_naming_the_limit():
    data = bomb()
    assert len(data) < 300_000
    with pytest.raises(uploads.UploadRefused, match="more than 4.77 MB"):
        uploads.BoundedZip(data, LIMITS)


def test_a_member_that_lies_about_its_size_is_stopped_while_it_inflates():
    data = lying_bomb(50 * 1024 * 1024)
    with uploads.BoundedZip(data, LIMITS) as archive, pytest.raises(uploads.UploadRefused):
        archive.read("a.json")


def test_too_many_members_are_refused():
    with pytest.raises(uploads.UploadRefused, match="more than 10 files"):
        uploads.BoundedZip(zipped({f"{i}.json": b"{}" for i in range(11)}), LIMITS)


def test_all_members_together_are_limited_too():
    members = {f"{i}.json": b" " * 4_000_000 for i in range(3)}
    with pytest.raises(uploads.UploadRefused, match="unpacks to more than 9.54 MB"):
        uploads.BoundedZip(zipped(members), LIMITS)


def test_a_file_that_is_not_a_zip_is_refused():
    with pytest.raises(uploads.UploadRefused, match="not a zip file"):
        uploads.BoundedZip(b"PK\x03\x04 not really", LIMITS)


def test_a_member_whose_compressed_data_is_damaged_is_refused_as_damaged():
    data = bytearray(zipped({"a.json": json.dumps(list(range(1000))).encode()}))
    data[30 + len("a.json")] = 0xFF  # the first deflate block: reserved block type, zlib refuses it
    with uploads.BoundedZip(bytes(data), LIMITS) as archive:
        with pytest.raises(uploads.UploadRefused, match=r"damaged \(a.json: .*invalid block type"):
            archive.read("a.json")
        with pytest.raises(uploads.UploadRefused, match="damaged"), archive.open("a.json") as stream:
            stream.read()


# --- streamed JSON ------------------------------------------------------------------------------


def stream(data: bytes, **limits):
    found = uploads.stream_json(io.BytesIO(data), "pairs", total=limits.get("total", 10**7), per_item=10**5)
    return found.header, list(found.items)


def test_the_header_comes_first_and_the_list_streams():
    header, items = stream(json.dumps({"format": "f", "pairs": [{"x": 1}, {"x": 2.5}]}).encode())
    assert header == {"format": "f", "pairs": []} and items == [{"x": 1}, {"x": 2.5}]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"pairs": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nested deeper than 64 levels"),
        (b'{"pairs": [NaN]}', "not valid JSON"),
        (b'{"pairs": [1, 2', "not valid JSON"),
        (b'{"pairs": []} trailing', "not valid JSON"),
        (b'{"pairs": ["' + b"x" * 300_000 + b'"]}', "an entry larger than"),
        (b"[1]", "not a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_or_oversized_json_is_refused_with_its_reason(data, reason):
    with pytest.raises(uploads.UploadRefused, match=reason):
        stream(data)


def test_a_document_over_the_total_is_refused():
    with pytest.raises(uploads.UploadRefused, match="larger than"):
        stream(json.dumps({"pairs": [{"x": "y" * 1000}] * 200}).encode(), total=100_000)


def test_old_stale_uploads_are_removed_and_fresh_ones_kept(tmp_path):
    old, fresh = tmp_path / "old.zip", tmp_path / "fresh.zip"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert uploads.remove_stale(tmp_path, 3600) == 1
    assert not old.exists() and fresh.exists()


# --- the configuration import -------------------------------------------------------------------


def test_the_history_import_refuses_a_200_mb_bomb_in_bounded_memory():
    data = bomb()
    with pytest.raises(transfer.ImportRefused, match="unpacks to more than"):
        transfer.read_zip(data)
    assert peak_memory(lambda: transfer.read_zip(data)) < 20 * 1024 * 1024


def test_the_history_import_stops_a_lying_bomb_while_reading():
    data = bytearray(bomb(50 * 1024 * 1024))
    small = (100).to_bytes(4, "little")
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature, data.find(b"changes/") - 40)
        data[start + offset : start + offset + 4] = small
    assert peak_memory(lambda: transfer.read_zip(bytes(data))) < 20 * 1024 * 1024
    with pytest.raises(transfer.ImportRefused):
        transfer.read_zip(bytes(data))


def test_the_history_import_refuses_json_nested_too_deep():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(transfer.ImportRefused, match="nested deeper"):
        transfer.read_zip(zipped({"manifest.json": deep}))


@pytest.mark.django_db
def test_a_refused_configuration_upload_leaves_no_file_behind(admin_client, settings):
    response = admin_client.post("/history/import/", {"file": SimpleUploadedFile("c.zip", bomb())})
    assert response.status_code == 200 and "unpacks to more than" in response.content.decode()
    assert not list((settings.HUB_HOME / "imports").glob("*"))


@pytest.mark.django_db
def test_a_configuration_upload_nobody_imports_is_removed_after_a_day(admin_client, settings):
    from integrations.tasks import purge_stale_imports

    stale = settings.HUB_HOME / "imports" / "0123456789abcdef0123456789abcdef.zip"
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    assert purge_stale_imports() == 1 and not stale.exists()
