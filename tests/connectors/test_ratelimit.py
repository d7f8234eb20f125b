"""The per-repository event rate limit, shared by every worker through the operational database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from connectors.errors import EventRateLimited
from connectors.http import HttpSession
from connectors.ratelimit import acquire, try_acquire
from connectors.types import RepositorySettings
from tests.support.netservers import Answer, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]


def test_a_full_bucket_allows_a_burst_then_asks_to_wait(db):
    granted = [try_acquire("repository:1", 60) for _ in range(12)]  # capacity: 10 seconds' worth
    assert granted[:10] == [0.0] * 10
    assert 0 < granted[10] <= 1.0


def test_no_limit_means_no_waiting(db):
    assert all(try_acquire("repository:2", 0) == 0 for _ in range(100))


def test_buckets_are_per_repository(db):
    assert try_acquire("repository:3", 1) == 0
    assert try_acquire("repository:3", 1) > 0
    assert try_acquire("repository:4", 1) == 0


def test_a_wait_longer_than_allowed_raises_a_transient_error(db):
    acquire("repository:5", 1, max_wait=0)
    with pytest.raises(EventRateLimited) as raised:
        acquire("repository:5", 1, max_wait=0.5)
    assert raised.value.code == "CCRRTT-1115I" and raised.value.transient
    assert 55 < raised.value.retry_after <= 60


def test_http_session_sends_no_request_past_the_limit(db):
    server = ScriptedServer(lambda seen: Answer())
    try:
        repository = RepositorySettings(
            kind="test", url=server.url, events_per_minute=1, rate_limit_key="repository:6", timeout=5
        )
        http = HttpSession(repository, max_inline_wait=0.1)
        http.get_json("ping")
        with pytest.raises(EventRateLimited):
            http.get_json("ping")
        assert len(server.seen) == 1
    finally:
        server.close()


def _database_environment(tmp_path: Path) -> dict[str, str]:
    """Environment for worker processes that share this test's database (for SQLite, whose test
    database lives in memory, a file database made for the purpose)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HUB_HOME": str(tmp_path)}
    env.pop("HUB_TEST_DATABASE_NAME", None)
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        env["HUB_DATABASE_URL"] = ""
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert migrated.returncode == 0, migrated.stderr[-2000:]
    else:
        scheme = {"postgresql": "postgres", "mysql": "mysql"}[connection.vendor]
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        env["HUB_DATABASE_URL"] = (
            f"{scheme}://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
        )
    return env


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_bucket(tmp_path):
    env = _database_environment(tmp_path)
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.ratelimit_worker", "repository:shared", "30", "40"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    elapsed = time.monotonic() - started
    assert all(worker.returncode == 0 for worker in workers), outputs
    granted = [int(out.strip()) for out, _ in outputs]
    # 30 per minute: a bucket of 5 (ten seconds' worth), refilled by 0.5 a second. 80 attempts
    # against one bucket can win at most that, however the two processes interleave.
    assert 5 <= sum(granted) <= 5 + int(0.5 * elapsed) + 1, (granted, elapsed)
