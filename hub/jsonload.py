"""The one way Hub reads JSON it did not write itself: API bodies, uploaded exports, imports.

``json.loads`` alone accepts documents that break whoever uses the result: nesting deep enough to
exhaust the stack (a ``RecursionError`` while parsing, or later in code that walks the value),
``NaN`` and ``Infinity`` (which no database's JSON column takes), and numbers too long to convert.
``loads`` refuses all of them with ``JsonRefused``, whose message says what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # far deeper than any document Hub reads; an attacker's 100,000 is refused


class JsonRefused(ValueError):
    """The text is not JSON Hub accepts; the message says why (for the person who sent it)."""

    def __init__(self, message: str, *, too_deep: bool = False):
        super().__init__(message)
        self.too_deep = too_deep


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, object_pairs_hook=None) -> Any:
    """Parse ``data`` (UTF-8 bytes or text); raise ``JsonRefused`` instead of any other error.
    ``object_pairs_hook`` is json's: e.g. to keep repeated keys of an object visible."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise too_deep(max_depth) from None
    except (ValueError, TypeError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JsonRefused(f"not valid JSON: {error}") from None
    check_depth(value, max_depth)
    return value


def too_deep(max_depth: int) -> JsonRefused:
    return JsonRefused(f"nested deeper than {max_depth} levels", too_deep=True)


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):  # a tuple: what an object_pairs_hook may make
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list | tuple))
    return deepest


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    if depth(value) > max_depth:
        raise too_deep(max_depth)
