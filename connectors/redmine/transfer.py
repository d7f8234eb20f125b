"""Uploads with a size limit, shared by the Redmine and Roundup connectors: the content is spooled
first (memory while small, then a temporary file) and refused as soon as it passes the limit, so
nothing reaches the tool when it is too large, and the tool gets a Content-Length."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from connectors.errors import attachment_too_large

CHUNK = 64 * 1024


@contextmanager
def spooled(content: Iterable[bytes], filename: str, max_bytes: int) -> Iterator[tuple[IO[bytes], int]]:
    """The whole content in a temporary file, rewound, and its size."""
    with tempfile.SpooledTemporaryFile(max_size=4 * CHUNK) as spool:
        size = 0
        for chunk in content:
            size += len(chunk)
            if size > max_bytes:
                raise attachment_too_large(filename, max_bytes)
            spool.write(chunk)
        spool.seek(0)
        yield spool, size
