"""No planted secret, nor any credential of the live Hub, appears on any surface: the database and
its WAL, logs, broker files and uploads, pages, API answers, refusals, exports, CSVs and zips.
A new surface or a new way to give Hub a secret is one entry in tests/support/canary.py."""

import pytest

from tests.support import canary


def test_secrets_were_planted(planted_hub):
    live, planted = planted_hub
    assert len(planted.canaries) >= 10 and all(planted.canaries)


@pytest.mark.parametrize("surface", canary.SURFACES, ids=lambda surface: surface.name)
def test_no_canary_on(planted_hub, surface):
    live, planted = planted_hub
    assert canary.sightings(live, planted, surface) == []


def test_the_search_finds_a_canary_where_there_is_one(planted_hub, tmp_path):
    """The check itself works: a canary written into the data directory is found."""
    live, planted = planted_hub
    leak = live.home / "leak-check.txt"
    leak.write_text(planted.canaries[0])
    try:
        assert canary.sightings(live, planted, canary.SURFACES[0])
    finally:
        leak.unlink()
