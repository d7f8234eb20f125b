import pytest

from tests.engine.workers import RedisServer
from tests.hub.security_fixtures import (  # noqa: F401
    isolated_security,
    issue,
    licensed,
    master_password,
    signing_key,
)
from tests.integrations.factories import *  # noqa: F403


@pytest.fixture
def redis_server():
    """A Redis server of this test's own (tests/engine/workers.py)."""
    server = RedisServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def running(integration, request):
    """The factories' integration (Alpha DEMO ↔ Beta WEB, title both ways, priority A → B, A wins),
    running, with comments flowing both ways."""
    request.getfixturevalue("licensed")
    integration.comment_flow = {
        "a_to_b": {"enabled": True, "internal": "skip"},
        "b_to_a": {"enabled": True, "internal": "skip"},
    }
    integration.running = True
    integration.save()
    return integration
