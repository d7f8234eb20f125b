"""Everything a running Hub writes is its user's only (directories 0700, files 0600), whatever the
umask it was started with, and a data directory left open by an older Hub is closed at start."""

import stat

from hub.filemodes import loose_paths


def test_every_file_and_directory_hub_creates_is_owner_only(planted_hub):
    live, _ = planted_hub
    written = [p for p in live.home.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {
        "hub.sqlite3-wal",
        "hub.log",
        "configuration-changes.log",
    } <= names or live.server.database.engine != "sqlite"
    assert any(p.suffix == ".zip" for p in written)  # the pair export and the configuration upload
    assert loose_paths(live.home) == []
    assert stat.S_IMODE(live.home.stat().st_mode) == 0o700


def test_the_master_password_file_is_owner_only(planted_hub):
    live, _ = planted_hub
    key_file = live.home.parent / "master-password.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_an_open_data_directory_is_made_owner_only_at_start_and_hub_says_so(planted_hub):
    live, _ = planted_hub
    assert "readable by this user only" in live.server.log()
    assert stat.S_IMODE((live.home / "hub.properties").stat().st_mode) == 0o600
    assert stat.S_IMODE((live.home / "old-logs").stat().st_mode) == 0o700
