import pytest
from django.core.cache import cache

from activity import services
from tests.activity import factories


@pytest.fixture(autouse=True)
def fresh_integration_names():
    """known_integrations() is cached for a minute; each test starts from its own data."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def integrations_running():
    """Stand-in for the integrations app: 1 and 2 run, everything else is stopped."""
    stopped = []
    previous = services.set_integration_hooks(
        state=lambda i: services.RUNNING if i in (1, 2) and i not in stopped else services.STOPPED,
        stop=stopped.append,
        names=lambda: dict(factories.INTEGRATIONS),
        exportable=lambda: set(factories.INTEGRATIONS),
    )
    yield stopped
    services.set_integration_hooks(**previous.__dict__)
