"""The guard of ``tests/hermetic.py``: a test that uses a file outside the repository fails."""

import sys
import tempfile
from pathlib import Path

import pytest

from tests import hermetic

REPO = Path(__file__).resolve().parents[1]
ELSEWHERE = Path("/hub-not-in-any-checkout/seed/documentation.txt")


def test_a_path_outside_the_repository_and_the_machine_is_outside():
    assert hermetic.outside_repository(str(ELSEWHERE))
    assert hermetic.outside_repository(str(Path.home() / "notes.txt"))


@pytest.mark.parametrize(
    "path",
    [
        REPO / "tests" / "activity" / "appendix.txt",
        Path(tempfile.gettempdir()) / "hub-test-home-x" / "hub.sqlite3",
        Path(sys.base_prefix) / "lib",
        Path("/usr/share/redmine/Gemfile.lock"),
        Path("/proc/self/environ"),
    ],
)
def test_the_repository_temporary_files_and_installed_software_are_allowed(path):
    assert not hermetic.outside_repository(str(path))


def test_a_relative_path_is_taken_from_the_working_directory(monkeypatch):
    monkeypatch.chdir(REPO)
    assert not hermetic.outside_repository("tests/activity/appendix.txt")
    assert hermetic.outside_repository("../" * len(REPO.parts) + ELSEWHERE.relative_to("/").as_posix())


def test_opening_a_file_outside_is_seen_even_when_it_does_not_exist():
    with pytest.raises(FileNotFoundError):
        ELSEWHERE.read_text()
    assert hermetic.take_seen() == [str(ELSEWHERE)]  # taken, so this test itself passes


def test_listing_a_folder_outside_is_seen():
    with pytest.raises(FileNotFoundError):
        list(ELSEWHERE.parent.iterdir())
    assert hermetic.take_seen() == [str(ELSEWHERE.parent)]
