"""Everything Hub writes into its data directory is for its own user only: directories 0700, files
0600. The database and its WAL, the logs, the broker's messages and uploads hold session data,
configuration and artifacts, so no other local user of the host may read them.

Every process sets ``UMASK`` when it loads Hub's settings (and ``runhub``, the deploy scripts and
the systemd units set it before that), so new files are owner-only from the start; ``secure_home``
tightens a data directory made by an older Hub, or by hand, and says what it changed.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def restrict_umask() -> None:
    os.umask(UMASK)


def secure_home(home: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Take group and other permissions away from everything under ``home`` (symbolic links are
    neither followed nor changed). Returns what was changed, and what could not be (with why)."""
    changed: list[Path] = []
    failed: list[tuple[Path, str]] = []

    def tighten(path: Path, keep: int) -> None:
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                return
            mode = stat.S_IMODE(info.st_mode)
            if mode & 0o077:
                path.chmod(mode & 0o700 | keep)
                changed.append(path)
        except OSError as error:
            failed.append((path, error.strerror or str(error)))

    def unreadable(error: OSError) -> None:
        failed.append((Path(error.filename), error.strerror or str(error)))

    tighten(home, DIRECTORY_MODE)
    for root, directories, files in os.walk(home, onerror=unreadable):
        for name in directories:
            tighten(Path(root) / name, DIRECTORY_MODE)
        for name in files:
            tighten(Path(root) / name, FILE_MODE)
    return changed, failed


def report(changed: list[Path], failed: list[tuple[Path, str]]) -> list[tuple[str, int]]:
    """What ``secure_home`` did, as messages for the person starting Hub."""
    messages = []
    if changed:
        shown = ", ".join(str(path) for path in changed[:3]) + (" …" if len(changed) > 3 else "")
        messages.append(
            (
                f"Made {len(changed)} files and directories of the data directory readable by this user "
                f"only; other users of this host could read them ({shown}).",
                logging.WARNING,
            )
        )
    messages += [
        (f"WARNING: {path} cannot be made owner-only ({why}); other users may read it.", logging.WARNING)
        for path, why in failed[:10]
    ]
    return messages


def loose_paths(home: Path) -> list[str]:
    """Paths under ``home`` that someone other than the owner may read, write or enter (for tests
    and for the start-up check)."""
    found = []
    for root, directories, files in os.walk(home):
        for name in [*directories, *files]:
            path = Path(root) / name
            info = path.lstat()
            if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077:
                found.append(f"{path.relative_to(home)} {stat.S_IMODE(info.st_mode):o}")
    return found
