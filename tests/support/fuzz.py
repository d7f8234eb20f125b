"""Bounded property-based fuzzing of what people upload (Hypothesis).

Each fuzz test starts from a real, valid document (an export Hub wrote, a license it signed) and
lets Hypothesis damage it: values replaced by awkward ones (wrong types, huge or odd text, markup,
credentials in URLs), keys dropped, bytes cut or flipped. Whatever arrives, Hub must answer with a
refusal or apply it — never a 5xx, never half of a change, never an upload left on disk.

The runs are bounded twice, so `make test` stays predictable on a busy machine: a number of
examples per test (``HUB_TEST_FUZZ_EXAMPLES``, default 40) and a time cap per test
(``HUB_TEST_FUZZ_SECONDS``, default 30): once the cap is reached the remaining examples are not run.
A failing example is never cut short, so Hypothesis can still shrink it and print it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.hub.test_uploads import zipped  # noqa: F401 - the fuzz tests build zips with it

EXAMPLES = int(os.environ.get("HUB_TEST_FUZZ_EXAMPLES", "40"))
SECONDS = float(os.environ.get("HUB_TEST_FUZZ_SECONDS", "30"))

# The values that broke Hub before (issue #12) or that each validator must know about.
AWKWARD_TEXT = (
    "",
    " ",
    "²",
    "٣",
    "-1",
    "0",
    "9" * 40,
    "#3",
    "x" * 300,
    "x" * 5000,
    "<img src=x onerror=alert(26)>",
    "javascript:alert(1)",
    "http://user:secret@host.example/",
    "local://alpha",
    "a\x00b",
    "line\r\nLocation: http://evil.example/",
    "NaN",
    "null",
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(AWKWARD_TEXT)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def bounded(examples: int | None = None):
    """Hypothesis settings for an upload fuzz: few examples, no per-example deadline (the machine
    is shared), no example database written into the checkout."""
    return settings(
        max_examples=examples or EXAMPLES,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


def time_capped(seconds: float | None = None):
    """Stop running new examples of the decorated test once ``seconds`` have passed since its
    first example (put it below ``@given``). After a failure the cap is off, so shrinking works."""
    cap = SECONDS if seconds is None else seconds

    def decorate(test):
        state = {"started": None, "failed": False}

        @functools.wraps(test)
        def run(*args, **kwargs):
            now = time.monotonic()
            if state["started"] is None:
                state["started"] = now
            if not state["failed"] and now - state["started"] > cap:
                return None
            try:
                return test(*args, **kwargs)
            except BaseException:
                state["failed"] = True
                raise

        return run

    return decorate


def edited(data, value, edits: int | None = None):
    """``value`` (JSON-like) with one to three random edits somewhere inside it."""
    for _ in range(edits or data.draw(st.integers(1, 3), label="edits")):
        value = _edit(data, value)
    return value


def _edit(data, value):
    if isinstance(value, dict | list) and value and data.draw(st.integers(0, 4)):
        copy = dict(value) if isinstance(value, dict) else list(value)
        where = data.draw(st.sampled_from(sorted(value) if isinstance(value, dict) else range(len(value))))
        how = data.draw(st.sampled_from(("into", "into", "replace", "drop", "grow")))
        if how == "drop":
            del copy[where]
        elif how == "replace":
            copy[where] = data.draw(json_values)
        elif how == "grow":  # a new key, or an entry repeated
            if isinstance(copy, dict):
                copy[data.draw(st.text(max_size=10))] = data.draw(json_values)
            else:
                copy.insert(where, copy[where])
        else:
            copy[where] = _edit(data, value[where])
        return copy
    return data.draw(json_values)


def damaged_bytes(data, content: bytes) -> bytes:
    """``content`` cut short, with bytes flipped, or with garbage appended."""
    how = data.draw(st.sampled_from(("cut", "flip", "append")))
    if how == "cut":
        return content[: data.draw(st.integers(0, max(len(content) - 1, 0)))]
    if how == "append":
        return content + data.draw(st.binary(min_size=1, max_size=64))
    flipped = bytearray(content)
    for _ in range(data.draw(st.integers(1, 8))):
        if flipped:
            index = data.draw(st.integers(0, len(flipped) - 1))
            flipped[index] = data.draw(st.integers(0, 255))
    return bytes(flipped)


@contextlib.contextmanager
def rolled_back():
    """Each example starts from the same database: its writes are undone afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def files_in(folder) -> set:
    return set(folder.iterdir()) if folder.exists() else set()
