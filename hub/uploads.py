"""Reading uploaded files within limits: the one way Hub opens an uploaded zip or streams a large
uploaded JSON document.

A zip's headers say how large its members are, but a zip bomb says little (204 KB holding
200 MB), so ``BoundedZip`` refuses on the declared sizes first and then counts the bytes it
actually inflates, stopping at the limit while reading. ``stream_json`` reads a JSON document of
any length from a stream with bounded memory: the top-level fields, then one element of a named
list at a time, each within a size and nesting limit. Every refusal is ``UploadRefused`` with a
message that names the limit.
"""

from __future__ import annotations

import io
import itertools
import os
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hub import jsonload


class UploadRefused(ValueError):
    """The upload is not one Hub will read; the message says why, with the limit where one applies."""


def size_text(number: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if number >= size:
            return f"{number / size:.3g} {unit}"
    return f"{number} bytes"


@dataclass(frozen=True)
class ZipLimits:
    compressed: int  # the zip file itself
    uncompressed: int  # all members together, inflated
    member: int  # any one member, inflated
    members: int  # how many members


class _Counted(io.RawIOBase):
    """A member's stream that refuses once more bytes come out than the limits allow."""

    def __init__(self, raw: IO[bytes], name: str, owner: BoundedZip):
        self.raw, self.name, self.owner, self.read_here = raw, name, owner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.raw.read(len(buffer))
        except (zlib.error, zipfile.BadZipFile, EOFError, OSError) as error:
            # deflate data damaged inside an intact directory: zlib's own error, not zipfile's
            raise UploadRefused(f"{self.owner.what} is damaged ({self.name}: {error}).") from None
        self.read_here += len(data)
        self.owner.count(self.name, len(data), self.read_here)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


class BoundedZip:
    """A zip opened for reading within ``ZipLimits``; use as a context manager."""

    def __init__(self, source: bytes | Path | IO[bytes], limits: ZipLimits, *, what: str = "The zip"):
        self.limits, self.what, self.inflated = limits, what, 0
        size = len(source) if isinstance(source, bytes) else _size_of(source)
        if size > limits.compressed:
            raise UploadRefused(f"{what} is larger than {size_text(limits.compressed)}.")
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise UploadRefused(f"{what} is not a zip file (or it is damaged).") from None
        infos = self.archive.infolist()
        if len(infos) > limits.members:
            self.archive.close()
            raise UploadRefused(f"{what} holds more than {limits.members} files.")
        for info in infos:
            if info.flag_bits & 0x1:
                self.archive.close()
                raise UploadRefused(f"{what} is encrypted; Hub reads only the zips it exports.")
            if info.file_size > limits.member:
                self.archive.close()
                raise UploadRefused(
                    f"{what} holds {info.filename}, which unpacks to more than {size_text(limits.member)}."
                )
        if sum(info.file_size for info in infos) > limits.uncompressed:
            self.archive.close()
            raise UploadRefused(f"{what} unpacks to more than {size_text(limits.uncompressed)}.")

    def __enter__(self) -> BoundedZip:
        return self

    def __exit__(self, *exc) -> None:
        self.archive.close()

    def names(self) -> list[str]:
        return self.archive.namelist()

    def count(self, name: str, new: int, in_member: int) -> None:
        self.inflated += new
        if in_member > self.limits.member:
            limit = size_text(self.limits.member)
            raise UploadRefused(f"{self.what} holds {name}, which unpacks to more than {limit}.")
        if self.inflated > self.limits.uncompressed:
            raise UploadRefused(f"{self.what} unpacks to more than {size_text(self.limits.uncompressed)}.")

    def open(self, name: str) -> IO[bytes]:
        """A stream of the member, counted against the limits as it is read."""
        try:
            raw = self.archive.open(name)
        except (KeyError, zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as error:
            raise UploadRefused(f"{self.what} is damaged ({name}: {error}).") from None
        return io.BufferedReader(_Counted(raw, name, self), buffer_size=64 * 1024)

    def read(self, name: str) -> bytes:
        try:
            with self.open(name) as stream:
                return stream.read()
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as error:
            if isinstance(error, UploadRefused):
                raise
            raise UploadRefused(f"{self.what} is damaged ({name}: {error}).") from None

    def read_json(self, name: str) -> Any:
        try:
            return jsonload.loads(self.read(name))
        except jsonload.JsonRefused as error:
            raise UploadRefused(f"{name} in {self.what.lower()} is {error}.") from None


def _size_of(source: Path | IO[bytes]) -> int:
    if isinstance(source, Path):
        return source.stat().st_size
    position = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


class _Limited(io.RawIOBase):
    """Counts the bytes read; refuses past ``total`` or more than ``per_item`` since ``mark``."""

    def __init__(self, raw: IO[bytes], total: int, per_item: int, what: str):
        self.raw, self.total, self.per_item, self.what = raw, total, per_item, what
        self.position = self.marked = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.raw.read(len(buffer))
        except (zlib.error, zipfile.BadZipFile, EOFError, OSError) as error:
            # deflate data damaged inside an intact directory: zlib's own error, not zipfile's
            raise UploadRefused(f"{self.owner.what} is damaged ({self.name}: {error}).") from None
        self.position += len(data)
        if self.position > self.total:
            raise UploadRefused(f"{self.what} is larger than {size_text(self.total)}.")
        if self.position - self.marked > self.per_item + len(buffer):
            raise UploadRefused(f"{self.what} has an entry larger than {size_text(self.per_item)}.")
        buffer[: len(data)] = data
        return len(data)

    def mark(self) -> None:
        self.marked = self.position


@dataclass
class StreamedJson:
    """What ``stream_json`` found before the list: the top-level scalar and small fields."""

    header: dict[str, Any]
    items: Iterator[Any]


def stream_json(
    raw: IO[bytes],
    list_name: str,
    *,
    total: int,
    per_item: int,
    max_depth: int = jsonload.MAX_DEPTH,
    what: str = "The file",
) -> StreamedJson:
    """Parse a JSON object from ``raw`` whose ``list_name`` field is a long list, without holding
    the list: ``header`` has the fields before it (they must come first, as Hub writes them) and
    ``items`` yields its elements one by one. Raises ``UploadRefused`` for anything malformed,
    too large (``total`` bytes, ``per_item`` bytes an element) or nested deeper than ``max_depth``."""
    import ijson

    limited = _Limited(raw, total, per_item, what)
    parser = ijson.basic_parse(io.BufferedReader(limited, 64 * 1024), use_float=True)
    events = _events(parser, max_depth, what)
    try:
        first = next(events, None)
        if first != ("start_map", None):
            raise UploadRefused(f"{what} is not a JSON object.")
        header: dict[str, Any] = {}
        for event, value in events:
            if event == "end_map":
                header.setdefault(list_name, None)
                return StreamedJson(header, iter(()))
            key = value
            if key == list_name:
                start = next(events)
                if start != ("start_array", None):
                    raise UploadRefused(f"{what}: “{list_name}” is not a list.")
                return StreamedJson({**header, list_name: []}, _elements(events, limited, what))
            header[key] = _value(events, what)
        raise UploadRefused(f"{what} ends too early.")
    except UploadRefused:
        raise
    except Exception as error:  # ijson's errors and decoding problems: the file is not JSON
        raise UploadRefused(f"{what} is not valid JSON: {_first_line(error)}") from None


def _events(parser, max_depth: int, what: str):
    depth = 0
    try:
        for event, value in parser:
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > max_depth + 1:  # +1: the document's own object
                    raise jsonload.too_deep(max_depth)
            elif event in ("end_map", "end_array"):
                depth -= 1
            yield event, value
    except jsonload.JsonRefused as error:
        raise UploadRefused(f"{what} is {error}.") from None
    except UploadRefused:
        raise
    except Exception as error:
        raise UploadRefused(f"{what} is not valid JSON: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    text = error.args[0] if error.args else str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__


def _value(events, what: str) -> Any:
    """The next complete value from ``events`` (an ObjectBuilder is iterative, so no recursion)."""
    import ijson

    builder = ijson.ObjectBuilder()
    depth = 0
    for event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:
            return builder.value
    raise UploadRefused(f"{what} ends too early.")


def _elements(events, limited: _Limited, what: str) -> Iterator[Any]:
    while True:
        limited.mark()
        peek = next(events, None)
        if peek is None:
            raise UploadRefused(f"{what} ends too early.")
        if peek[0] == "end_array":
            trailing = next(events, None)
            if trailing is None or trailing[0] != "end_map" or next(events, None) is not None:
                raise UploadRefused(f"{what}: nothing may follow the list.")
            return
        # chain, not a generator that yields from ``events``: closing that would close ``events`` too
        yield _value(itertools.chain([peek], events), what)


def remove_stale(directory: Path, older_than_seconds: float, pattern: str = "*") -> int:
    """Delete files in ``directory`` older than the age given (uploads nobody applied); returns how many."""
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in directory.glob(pattern):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
