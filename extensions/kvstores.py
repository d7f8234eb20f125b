"""Key-value stores: reading them for extensions, and importing pairs from .csv or .json files.

An import is all or nothing: a duplicate key, a file over the size limit, more than 3,000 pairs,
or content that is not the documented layout is refused with a message, and nothing changes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.db import transaction

from extensions.models import MAX_PAIRS, KeyValuePair, KeyValueStore, digest
from extensions.runtime import HostError
from hub import jsonload

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_KEY = 500
MAX_VALUE = 100_000


class ImportRefused(Exception):
    """The file cannot be imported; nothing was changed."""


def _store(name: str) -> KeyValueStore:
    from extensions.licensing import require_stores

    require_stores()
    store = KeyValueStore.objects.filter(name=name).first()
    if store is None:
        raise HostError("NotFoundException", f"There is no key-value store named '{name}'.")
    return store


def _revealed(pair: KeyValuePair) -> str | None:
    if not pair.store.confidential:
        return pair.value
    if pair.sealed is None:
        return None  # erased by a master-password reset
    return pair.sealed.reveal()


def retrieve_value(store_name: str, key: str) -> str:
    from extensions.licensing import require_stores

    require_stores()
    pair = (
        KeyValuePair.objects.select_related("store")
        .filter(store__name=store_name, key_digest=digest(key))
        .first()
    )
    if pair is None:
        _store(store_name)  # NotFoundException for the store itself, if that is what is missing
        raise HostError("NotFoundException", f"The key-value store '{store_name}' has no key '{key}'.")
    value = _revealed(pair)
    if value is None:
        raise HostError(
            "NotFoundException",
            f"The value of '{key}' in '{store_name}' was erased by a master-password reset; "
            "enter it again on the store's page.",
        )
    return value


def retrieve_pairs(store_name: str) -> dict[str, str]:
    store = _store(store_name)
    if store.confidential:
        raise HostError(
            "HostException",
            f"'{store_name}' is a confidential store: read its values one by one with "
            "store.retrieveValue(store, key).",
        )
    return dict(store.pairs.values_list("key", "value"))


# --- import ------------------------------------------------------------------------------------


@dataclass
class Parsed:
    pairs: list[tuple[str, str]]


def _refuse_duplicates(pairs: list[tuple[str, str]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ImportRefused(f"The key '{key}' appears more than once in the file; keys must be unique.")
        seen.add(key)


def _check(pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        if not key:
            raise ImportRefused("The file has an empty key; every pair needs a key.")
        if len(key) > MAX_KEY:
            raise ImportRefused(f"The key '{key[:40]}…' is longer than {MAX_KEY} characters.")
        if len(value) > MAX_VALUE:
            raise ImportRefused(f"The value of '{key}' is longer than {MAX_VALUE:,} characters.")
    _refuse_duplicates(pairs)


def parse(filename: str, data: bytes) -> list[tuple[str, str]]:
    """The pairs in an uploaded file, or ImportRefused saying what is wrong."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("The file is not UTF-8 text.") from None
    lower = filename.lower()
    if lower.endswith(".json"):
        pairs = _parse_json(text)
    elif lower.endswith(".csv"):
        pairs = _parse_csv(text)
    else:
        raise ImportRefused("Import a .csv file (key,value a line) or a .json file (one object).")
    _check(pairs)
    return pairs


def _parse_json(text: str) -> list[tuple[str, str]]:
    def keep_order(items):
        return items  # a list of (key, value): duplicates stay visible

    try:
        document = jsonload.loads(text, object_pairs_hook=keep_order)
    except jsonload.JsonRefused as error:
        raise ImportRefused(f"The file is {error}.") from None
    if not isinstance(document, list) or (document and not isinstance(document[0], tuple)):
        raise ImportRefused('The JSON file must hold one object, e.g. {"key": "value", …}.')
    pairs = []
    for key, value in document:
        if not isinstance(value, str):
            raise ImportRefused(f"The value of '{key}' is not a string; every value must be text.")
        pairs.append((key, value))
    return pairs


def _parse_csv(text: str) -> list[tuple[str, str]]:
    pairs = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), strict=True), start=1):
            if not row or row == [""]:
                continue
            if len(row) != 2:
                raise ImportRefused(
                    f"Line {number} of the CSV file has {len(row)} column(s); each line is key,value."
                )
            pairs.append((row[0], row[1]))
    except csv.Error as error:
        raise ImportRefused(f"The CSV file cannot be read: {error}.") from None
    return pairs


def replace_pairs(store: KeyValueStore, pairs: list[tuple[str, str]], *, merge: bool = True) -> int:
    """Put ``pairs`` into the store (merged with what it holds, imported values winning), all or
    nothing; refuses beyond 3,000 pairs. Returns the store's pair count afterwards."""
    _check(pairs)
    with transaction.atomic():
        existing = {p.key: p for p in store.pairs.select_for_update()} if merge else {}
        if not merge:
            store.pairs.all().delete()
        total = len(set(existing) | {k for k, _ in pairs})
        if total > MAX_PAIRS:
            raise ImportRefused(f"The store would hold {total:,} pairs; a store holds at most {MAX_PAIRS:,}.")
        for key, value in pairs:
            pair = existing.get(key) or KeyValuePair(store=store, key=key)
            set_value(pair, value)
            pair.save()
        store.save(update_fields=["updated"])
    return store.pairs.count()


def set_value(pair: KeyValuePair, value: str) -> None:
    if pair.store.confidential:
        pair.sealed, pair.value = value, ""
    else:
        pair.value, pair.sealed = value, None
