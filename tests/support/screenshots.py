"""Screenshots taken by the browser tests.

They go to ``build/screenshots/`` (untracked) on every run, for a look after a failure. The
tracked ones in ``docs/screenshots/`` (the README's pictures) change only when asked::

    HUB_SCREENSHOTS=1 .venv/bin/python -m pytest -m browser

so a plain ``make test`` never leaves the checkout modified.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TRACKED = REPO / "docs" / "screenshots"
UNTRACKED = REPO / "build" / "screenshots"


def folder() -> Path:
    """Where this run's screenshots go."""
    return TRACKED if os.environ.get("HUB_SCREENSHOTS") == "1" else UNTRACKED


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save ``page`` as ``<name>.png`` in this run's screenshot folder; returns the file."""
    target = folder() / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=full_page)
    return target
