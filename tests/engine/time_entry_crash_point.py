"""Fault injection for one real worker process: stop it in the middle of filing worklogs, right
after a time entry was created in Redmine and before the engine commits the pair that records it.

Only tests/engine/test_redmine_time_tracking.py imports this, into its own ``celery -A hub worker``
subprocess (``--include tests.engine.time_entry_crash_point``); Hub never imports it. After the
``HUB_TEST_CRASH_AFTER``-th real create it writes that number to ``HUB_TEST_CRASH_SENTINEL`` and
blocks for good; the test then kills the worker with SIGKILL.
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path

from connectors.redmine.connector import RedmineConnector

SENTINEL = Path(os.environ["HUB_TEST_CRASH_SENTINEL"])
AFTER = int(os.environ.get("HUB_TEST_CRASH_AFTER", "1"))
_created = itertools.count(1)
_create = RedmineConnector.create_time_entry


def create_then_hang(self, *args, **kwargs):
    entry = _create(self, *args, **kwargs)
    number = next(_created)
    if number >= AFTER:
        SENTINEL.write_text(str(number))
        threading.Event().wait()  # never set: the test kills this process here
    return entry


RedmineConnector.create_time_entry = create_then_hang
