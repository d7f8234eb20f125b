"""One live Hub for the tests of what Hub writes and answers (file modes, the canary secret): started
once a session from an open data directory, with secrets planted through every way Hub takes them."""

import os

import pytest

from tests.support import canary
from tests.support.live import start_from_an_open_data_directory
from tests.support.server import ServerDatabase


@pytest.fixture(scope="session")
def planted_hub(tmp_path_factory):
    database = ServerDatabase(os.environ.get("HUB_TEST_DB", "sqlite"))
    database.create()
    live = start_from_an_open_data_directory(tmp_path_factory.mktemp("live"), database)
    try:
        yield live, canary.plant_all(live)
    finally:
        live.stop()
        database.drop()
