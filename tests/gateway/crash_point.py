"""Fault injection for one real worker process: it stops inside the transaction that turns a
received payload into activities, after the transformation and before the commit.

Only tests/gateway/test_crash.py imports it, into its own ``celery -A hub worker`` subprocess
(``--include tests.gateway.crash_point``); Hub never imports it. The wrapper writes the payload's id
to the file named by ``HUB_TEST_CRASH_SENTINEL`` and blocks for good; the test kills the worker
with SIGKILL there.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from integrations.gateway import work

SENTINEL = Path(os.environ["HUB_TEST_CRASH_SENTINEL"])
_transformed = work.transformed


def transformed_then_hang(payload):
    artifacts = _transformed(payload)
    SENTINEL.write_text(str(payload.pk))
    threading.Event().wait()  # never set: the test kills this process here
    return artifacts


work.transformed = transformed_then_hang
