import pytest
from django.contrib.auth import get_user_model

from hub.roles import set_role

# The real peer servers, started at most once a test session whichever tests need them.
from tests.connectors.peers import redmine_peer_server, roundup_peer_server  # noqa: F401 - fixtures

# One Chromium per test process for every browser test, and a fresh page per test.
from tests.support.browser import browser, page  # noqa: F401 - fixtures

PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(db):
    def make(username: str, role: str):
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        set_role(user, role)
        return user

    return make


@pytest.fixture
def administrator(make_user):
    return make_user("ada", "administrator")


@pytest.fixture
def viewer(make_user):
    return make_user("victor", "viewer")


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def server_database():
    """A database for one real Hub server process, on the engine this suite runs on."""
    import os

    from tests.support.server import ServerDatabase

    database = ServerDatabase(os.environ.get("HUB_TEST_DB", "sqlite"))
    database.create()
    yield database
    database.drop()
