"""Loaded by pytest before Django (``-p tests.bootstrap`` in pyproject), because pytest-django reads
the settings before any conftest runs.

Every test session gets a data directory of its own, so tests never touch an operator's
HUB_HOME. ``HUB_TEST_DB`` picks the operational database: ``sqlite`` (default), ``postgres`` or
``mariadb`` — the real local servers; Django creates and drops a test database on them whose
name carries this process's id, so parallel runs do not collide.
"""

import os
import tempfile

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
