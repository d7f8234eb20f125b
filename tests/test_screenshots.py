"""Browser tests refresh the tracked screenshots only when asked (tests/support/screenshots.py)."""

from tests.support import screenshots


def test_screenshots_go_to_the_untracked_folder_by_default(monkeypatch):
    monkeypatch.delenv("HUB_SCREENSHOTS", raising=False)
    assert screenshots.folder() == screenshots.REPO / "build" / "screenshots"


def test_hub_screenshots_1_refreshes_the_tracked_ones(monkeypatch):
    monkeypatch.setenv("HUB_SCREENSHOTS", "1")
    assert screenshots.folder() == screenshots.REPO / "docs" / "screenshots"
