"""A local tracker with a real tool's latency, for the scale-out tests and bench: imported into a
worker process with ``celery -A hub worker --include tests.support.latent_tool``, it makes every
call of the local connector cost ``HUB_TEST_TOOL_LATENCY`` seconds (default 0.05, a remote tool's
round trip) and, like the HTTP layer before each request (``HttpSession._take_event``), take a
token from the repository's event rate limit — the one ``EventRateBucket`` row every worker on
every host shares.

A call made from inside another call is part of that request. Reads in batches are one request
(as Redmine's ``issue_id=1,2,3``), but a batch create is one request per item: REST trackers create
one issue a request, so the engine's batching cannot hide the latency of writes. With
``HUB_TEST_TOOL_LOG`` set to a directory, each request is also written there (one file per process,
a line ``<unix time> <repository url>`` each), so a bench can count the requests every host sent to
a tool in any ten seconds.

With ``HUB_TEST_TOOL_HOLD`` set to a directory, the first create of each process stops before its
first request (its batch holds its claims, locks and creation intents): it leaves ``<pid>.held``
there and goes on only once a file ``release`` exists — never, for a host the test kills. A fault
test so strikes a host mid-batch for certain, instead of hoping a batch is running at that moment.
Hub never imports this module.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import time

from connectors import ratelimit
from connectors.local.connector import LocalConnector

LATENCY = float(os.environ.get("HUB_TEST_TOOL_LATENCY", "0.05"))
LOG = os.environ.get("HUB_TEST_TOOL_LOG", "")
HOLD = os.environ.get("HUB_TEST_TOOL_HOLD", "")
_depth = threading.local()
_held: set[int] = set()  # the processes whose first create was held (a forked child is new)


def hold_first_create() -> None:
    """Wait for ``HOLD/release`` at this process's first create (see the module's docstring)."""
    if not HOLD or os.getpid() in _held:
        return
    _held.add(os.getpid())
    release = os.path.join(HOLD, "release")
    if os.path.exists(release):
        return
    with open(os.path.join(HOLD, f"{os.getpid()}.held"), "w"):
        pass
    while not os.path.exists(release):  # the test's gate, opened by the test (or never: kill -9)
        time.sleep(0.05)


def record(url: str) -> None:
    with open(os.path.join(LOG, f"{os.getpid()}.log"), "a") as log:
        log.write(f"{time.time():.3f} {url}\n")


def requests_of(name: str, args: tuple) -> int:
    return len(args[2]) if name == "create_artifacts" else 1


def as_requests(name: str, method):
    @functools.wraps(method)
    def request(self, *args, **kwargs):
        outermost = not getattr(_depth, "n", 0)
        _depth.n = getattr(_depth, "n", 0) + 1
        try:
            if outermost:
                if name.startswith("create_artifact"):
                    hold_first_create()
                settings = self.settings
                for _ in range(requests_of(name, args)):
                    if settings.events_per_minute > 0 and settings.rate_limit_key:
                        ratelimit.acquire(
                            settings.rate_limit_key,
                            settings.events_per_minute,
                            max_wait=min(5.0, settings.timeout),
                        )
                    if LOG:
                        record(settings.url)
                    time.sleep(LATENCY)  # the tool's round trip (not a synchronisation)
            return method(self, *args, **kwargs)
        finally:
            _depth.n -= 1

    return request


for _name, _method in list(vars(LocalConnector).items()):
    if not _name.startswith("_") and _name != "actor" and inspect.isfunction(_method):
        setattr(LocalConnector, _name, as_requests(_name, _method))
