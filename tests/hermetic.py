"""No test reads or writes a file outside the repository (a pytest plugin, ``-p tests.hermetic``).

A fresh clone on a fresh machine has the repository, temporary directories and what the machine
installs (``deploy/test-requirements.sh``) — nothing else. Python's audit hook sees every file
the test process opens or lists; a path anywhere else (a sibling folder of the checkout, someone's home) fails
the test that used it, naming the path. Subprocesses are not watched: the clean-clone stage of
``.ci/run`` covers them.

If a test needs another installed location, add it to ``MACHINE_ROOTS`` with the reason.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = str(Path(__file__).resolve().parents[1])
EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
MACHINE_ROOTS = (
    # what the operating system and its packages install (Redmine, Chromium, zoneinfo, certificates)
    "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/var/lib", "/opt",
    # the kernel's views of processes and devices (tests find their servers' processes in /proc)
    "/proc", "/sys", "/dev", "/run",
)  # fmt: skip


def _allowed_roots() -> tuple[str, ...]:
    cache = os.environ.get("HUB_PEER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hub-peers"
    )  # the peer servers' prepared templates (tests/peers/servers.py), made by the tests themselves
    roots = {REPO, tempfile.gettempdir(), cache, *MACHINE_ROOTS}
    roots |= {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}  # Python, its packages
    roots |= {entry for entry in sys.path if entry.rstrip("/").endswith(("site-packages", "dist-packages"))}
    return tuple(sorted(os.path.realpath(root) for root in roots))


ALLOWED = _allowed_roots()
_seen: list[str] = []


def outside_repository(path: str) -> bool:
    """Whether ``path`` (absolute, or relative to the working directory) is none of the allowed places."""
    absolute = os.path.normpath(os.path.join(os.getcwd(), path))
    return not any(absolute == root or absolute.startswith(root + os.sep) for root in ALLOWED)


def _audit(event: str, args: tuple) -> None:
    if event not in EVENTS or not args or isinstance(args[0], int) or args[0] is None:
        return  # an open file descriptor, or a listing of the working directory
    try:
        path = os.fsdecode(args[0])
        if outside_repository(path):
            _seen.append(path)
    except Exception:  # noqa: S110 - an audit hook must never break the call it watches
        pass


def take_seen() -> list[str]:
    """The outside paths used since the last call that exist (and forget them all).

    A path that does not exist after the test has read nothing and written nothing: tests of
    error messages name such paths on purpose (``/nonexistent/pw``)."""
    found = sorted(path for path in set(_seen) if os.path.lexists(path))
    _seen.clear()
    return found


sys.addaudithook(_audit)  # cannot be removed again, so it is installed once, on import


def _message(what: str, found: list[str]) -> str:
    listed = "\n  ".join(found)
    return (
        f"{what} used files outside the repository (a fresh clone has none of them; keep what the"
        f" tests need under tests/):\n  {listed}"
    )


def pytest_collection_modifyitems(session: pytest.Session) -> None:
    found = take_seen()  # module-level code of test modules and conftests
    if found:
        raise pytest.UsageError(_message("collecting the tests", found))


def _check(item: pytest.Item, phase: str):
    outcome = yield
    found = take_seen()
    if found:
        pytest.fail(_message(f"{item.nodeid} ({phase})", found), pytrace=False)
    return outcome


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    return (yield from _check(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    return (yield from _check(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item):
    return (yield from _check(item, "teardown"))
