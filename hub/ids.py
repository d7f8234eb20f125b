"""Strict parsing of numeric ids from the outside world: form fields, query strings, URLs, tool
answers.

``str.isdigit`` and ``int`` accept far more than ASCII digits — superscripts (``²``), other
scripts' digits (``٣``), surrounding blanks, underscores (``1_000``) — and ``int`` raises on some of
what ``isdigit`` lets through. A number too large for a database key fails only when the query
runs. Every id Hub reads from input goes through this module instead, so none of that reaches a
query or raises (``tests/hub/test_ids.py`` keeps the rest of the code from using ``isdigit``).

Standard library only: connectors and settings import it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGITS = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1  # the largest value of a 64-bit signed database key


def is_digits(value: object) -> bool:
    """Whether ``value`` is a non-empty string of ASCII digits (any length)."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def parse_id(value: object) -> int | None:
    """The id ``value`` spells in ASCII digits (0 … 2⁶³−1), or None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def parse_ids(values: Iterable[object]) -> list[int]:
    """The valid ids among ``values``, in order, without repeats; anything else is left out."""
    ids: list[int] = []
    seen: set[int] = set()
    for value in values:
        number = parse_id(value)
        if number is not None and number not in seen:
            seen.add(number)
            ids.append(number)
    return ids
