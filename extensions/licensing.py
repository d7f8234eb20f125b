"""The license gates of extensions (CCRRTT-65001E): each extension type, and key-value stores."""

from __future__ import annotations

import contextlib
import threading
import time

from extensions.errors import LicenseRefused
from hub import licensing

# The engine asks for every call of an extension; reading and verifying the license each time
# would cost more than the call. A new license takes effect within this many seconds.
TTL = 10.0
_answers: dict[tuple[str, str], tuple[float, object]] = {}


class _Batch(threading.local):
    # Inside ``per_batch``: the answers this block has had, by (feature, value).
    answers: dict[tuple, object] | None = None


_batch = _Batch()


@contextlib.contextmanager
def per_batch():
    """Within the block — one batch of the engine — each gate is asked once: the first answer
    holds for the rest of the block (a license that changes meanwhile counts from the next batch,
    as it would within ``TTL`` anyway). Nested blocks share the outer one's answers."""
    if _batch.answers is not None:
        yield
        return
    _batch.answers = {}
    try:
        yield
    finally:
        _batch.answers = None


def _refusal(feature, value: str | None):
    held = _batch.answers
    if held is not None:
        answer = held.get((feature, value), _UNASKED)
        if answer is not _UNASKED:
            return answer
    answer = _cached((str(feature), value or ""), feature, value)
    if held is not None:
        held[feature, value] = answer
    return answer


_UNASKED = object()


def _cached(key: tuple[str, str], feature, value: str | None):
    now = time.monotonic()
    cached = _answers.get(key)
    if cached is not None and now - cached[0] < TTL:
        return cached[1]
    answer = licensing.refusal(feature, value)
    _answers[key] = (now, answer)
    return answer


def forget() -> None:
    _answers.clear()


def refusal_of_type(extension_type: str):
    return _refusal(licensing.Feature.EXTENSION_TYPE, extension_type)


def require_type(extension_type: str) -> None:
    refused = refusal_of_type(extension_type)
    if refused is not None:
        raise LicenseRefused(f"Extension cannot be used: {refused.message}", code=refused.code)


def refusal_of_stores():
    return _refusal(licensing.Feature.KEY_VALUE_STORES, None)


def require_stores() -> None:
    refused = refusal_of_stores()
    if refused is not None:
        raise LicenseRefused(f"Key-value stores cannot be used: {refused.message}", code=refused.code)
