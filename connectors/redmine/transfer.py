"""Attachment transfer with a size limit, shared by the Redmine and Roundup connectors: spool an
upload (refusing it as soon as it passes the limit, before anything reaches the tool) and stream
a download (refusing it as soon as more than the limit would be delivered)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO

import httpx

from connectors.errors import ConnectorError, ValuesNotAccepted

CHUNK = 64 * 1024


def too_large(filename: str, max_bytes: int) -> ValuesNotAccepted:
    return ValuesNotAccepted(
        "The attachment is too large", fields={filename: f"larger than {max_bytes} bytes"}
    )


@contextmanager
def spooled(content: Iterable[bytes], filename: str, max_bytes: int) -> Iterator[tuple[IO[bytes], int]]:
    """The whole content in a temporary file (memory while small) and its size."""
    with tempfile.SpooledTemporaryFile(max_size=4 * CHUNK) as spool:
        size = 0
        for chunk in content:
            size += len(chunk)
            if size > max_bytes:
                raise too_large(filename, max_bytes)
            spool.write(chunk)
        spool.seek(0)
        yield spool, size


def limited(response: httpx.Response, filename: str, max_bytes: int, tool: str) -> Iterator[bytes]:
    """The body of a streamed response in chunks; closes the response however iteration ends."""
    try:
        if response.status_code != 200:
            raise ConnectorError(f"{tool} answered {response.status_code} to the download of {filename}.")
        delivered = 0
        for chunk in response.iter_bytes(CHUNK):
            delivered += len(chunk)
            if delivered > max_bytes:
                raise too_large(filename, max_bytes)
            yield chunk
    finally:
        response.close()
