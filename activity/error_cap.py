"""CCRRTT-0002E: the cap on failed activities (``hub.activity.maxErrors``).

When as many activities have failed as the cap allows, Hub raises a global blocker and pauses
change detection of every integration, so no new work (and no new failures) is recorded while an
administrator works through the failures already listed. Work already recorded goes on, retries
included: a retry that succeeds is what brings the number down, and a change left undetected
keeps its place behind the watermark, so nothing is lost. The product this follows discards the
errors beyond its maximum; Hub pauses instead, since a discarded failure would be a lost change.

``check`` runs before every change detection; it raises the blocker, refreshes its figures, or
clears it once fewer failures remain than the cap.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from activity.blockers import DETECTION_ONLY, clear_blocker, raise_blocker
from activity.models import ArtifactActivity, Blocker

KEY = DETECTION_ONLY[0]
CODE = "CCRRTT-0002E"
FAILED_LIST = ["activities", "failed"]  # the Activity screen's list of failed activities


def maximum() -> int:
    """The cap; 0 means none."""
    return int(settings.HUB["hub.activity.maxErrors"])


def message(failed: int, cap: int) -> str:
    return (
        f"{failed} activities have failed, and Hub keeps at most {cap} (hub.activity.maxErrors): change "
        "detection is paused for every integration until fewer remain. Work already recorded, retries "
        "included, goes on. Resolve, ignore, cancel or delete failed activities on the Activity screen."
    )


def check() -> bool:
    """Raise, refresh or clear the 0002E blocker; whether the cap is reached (detection pauses)."""
    cap = maximum()
    existing = Blocker.objects.filter(key=KEY).first()
    failed = ArtifactActivity.objects.filter(status=ArtifactActivity.Status.FAILED).count() if cap else 0
    if not cap or failed < cap:
        if existing is not None:
            clear_blocker(KEY)
        return False
    text = message(failed, cap)
    if existing is None or existing.message != text:
        raise_blocker(
            KEY,
            CODE,
            text,
            impact=Blocker.Impact.ALL,
            related=[{"label": "Failed activities", "url": reverse("activity-list", args=FAILED_LIST)}],
        )
    return True
