"""Fault injection for one real worker process: stop it right after the twin was created remotely
and before the engine records the pair.

Only a test imports this, into its own ``celery -A hub worker`` subprocess, with ``--include
tests.engine.crash_point`` (see ``Processes.worker(include=...)``); Hub never imports it, and no
production code path has a hook for it. On import it wraps ``LocalConnector.create_artifact`` and
``create_artifacts`` (the engine creates a batch's twins together where the tool can) of that one
process: the real create runs and commits (the local tracker's service is its own transaction),
then the wrapper writes the new twins' ids to the file named by ``HUB_TEST_CRASH_SENTINEL`` and
blocks for good. Only the first create of the worker's processes hangs (a prefork worker's pool
children race for it with an exclusive create, and the winner writes its pid next to the file):
the others go on, so a second pool child never sits on claims nobody kills. The test waits for
the file, checks the database is in the state the crash is about (twin in the target, creation
intent, no pair) and kills the worker with SIGKILL. A SIGKILL at a random moment rarely lands in
this window, which is why the random-kill test alone does not prove invariant 2.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from connectors.local.connector import LocalConnector

SENTINEL = Path(os.environ["HUB_TEST_CRASH_SENTINEL"])


PID_FILE = SENTINEL.with_name(SENTINEL.name + ".pid")


def hang_after(create):
    def create_then_hang(self, *args, **kwargs):
        created = create(self, *args, **kwargs)
        try:
            PID_FILE.open("x").close()  # the first create of any process of this worker, only
        except FileExistsError:
            return created
        PID_FILE.write_text(str(os.getpid()))
        twins = created if isinstance(created, list) else [created]
        SENTINEL.write_text(",".join(twin.id for twin in twins))
        threading.Event().wait()  # never set: the test kills this process here

    return create_then_hang


for name in ("create_artifact", "create_artifacts"):
    setattr(LocalConnector, name, hang_after(getattr(LocalConnector, name)))
