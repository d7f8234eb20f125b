"""Fault injection for one real worker process, for a cloud tool's connector: stop the worker right
after the twin was created in the tool and before the engine records the pair.

Like ``crash_point.py`` (which does this for the local tracker), only a test imports it, into its
own ``celery -A hub worker`` subprocess (``--include tests.engine.cloud_crash_point``). The class to
wrap is named by ``HUB_TEST_CRASH_CONNECTOR`` (``module:Class``); the real create runs (the issue
exists in the fake), then the wrapper writes the new twin's id to ``HUB_TEST_CRASH_SENTINEL`` and
blocks for good, and the test kills the worker with SIGKILL.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

SENTINEL = Path(os.environ["HUB_TEST_CRASH_SENTINEL"])
module_name, class_name = os.environ["HUB_TEST_CRASH_CONNECTOR"].split(":")
connector_class = getattr(importlib.import_module(module_name), class_name)
create = connector_class.create_artifact


def create_then_hang(self, *args, **kwargs):
    twin = create(self, *args, **kwargs)
    SENTINEL.write_text(twin.id)
    threading.Event().wait()  # never set: the test kills this process here


connector_class.create_artifact = create_then_hang
