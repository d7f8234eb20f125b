"""The guard of ``tests/hermetic.py``: a test that uses a file outside the repository fails."""

import shutil
import sys
import tempfile
import uuid
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


@pytest.fixture
def outside_folder():
    """A real folder outside the repository (in the home directory), removed afterwards."""
    folder = Path.home() / f".hub-hermetic-probe-{uuid.uuid4().hex}"
    folder.mkdir()
    (folder / "notes.txt").write_text("outside")
    hermetic.take_seen()  # making it is the fixture's business, not the test's
    yield folder
    shutil.rmtree(folder)
    hermetic.take_seen()


def test_opening_a_file_outside_is_seen(outside_folder):
    (outside_folder / "notes.txt").read_text()
    assert hermetic.take_seen() == [str(outside_folder / "notes.txt")]  # taken, so this test itself passes


def test_listing_a_folder_outside_is_seen(outside_folder):
    list(outside_folder.iterdir())
    assert hermetic.take_seen() == [str(outside_folder)]


def test_a_path_outside_that_does_not_exist_reads_nothing_and_is_not_counted():
    with pytest.raises(FileNotFoundError):
        ELSEWHERE.read_text()
    assert hermetic.take_seen() == []
