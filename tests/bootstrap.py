"""Loaded by pytest before Django (``-p tests.bootstrap`` in pyproject), because pytest-django reads
the settings before any conftest runs.

Every test session gets a data directory of its own, so tests never touch an operator's
HUB_HOME. ``HUB_TEST_DB`` picks the operational database: ``sqlite`` (default), ``postgres`` or
``mariadb`` — the real local servers; Django creates and drops a test database on them whose
name carries this process's id, so parallel runs do not collide.
"""

import importlib.util
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Tests run this checkout's code, in-process and in the servers they start: a virtualenv made for
# another checkout (an editable install) must not slip that one's Hub in instead.
_hub = importlib.util.find_spec("hub")
if _hub is None or Path(_hub.origin).resolve() != REPO / "hub" / "__init__.py":
    raise SystemExit(
        f"these tests are {REPO}'s, but Python imports Hub from {_hub and _hub.origin}: run pytest from"
        f" {REPO} (python -m pytest), with {REPO}/.venv or a virtualenv of no other checkout"
    )

TEST_DATABASE_URLS = {
    "sqlite": "",
    "postgres": os.environ.get("HUB_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    "mariadb": os.environ.get("HUB_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/mysql"),
}

database = os.environ.get("HUB_TEST_DB", "sqlite")
if database not in TEST_DATABASE_URLS:
    raise SystemExit(f"HUB_TEST_DB must be one of {', '.join(TEST_DATABASE_URLS)}, not {database!r}")

os.environ["HUB_HOME"] = tempfile.mkdtemp(prefix="hub-test-home-")
os.environ["HUB_DATABASE_URL"] = TEST_DATABASE_URLS[database]
os.environ["HUB_BROKER_URL"] = ""
os.environ.setdefault("HUB_TEST_DATABASE_NAME", f"test_hub_{os.getpid()}")
os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto`` (make test, .ci/run): HUB_TEST_WORKERS, or twice the cores — most tests wait on
    servers and subprocesses rather than compute (figures in docs/operations.md)."""
    return int(os.environ.get("HUB_TEST_WORKERS") or 2 * (os.cpu_count() or 1))
