"""The global blockers — no or locked master password, no, expired or invalid license, and any other
problem that stops all integrations — shown at the top of every console page.

Read from the blocker rows (one query) that ``hub.gates.refresh_global_blockers`` keeps current
on every change and every lease heartbeat, so the banner and the Activity screen always agree.
"""

from __future__ import annotations

from django.db import DatabaseError

from activity.blockers import global_blockers

MAX_SHOWN = 5


def global_problems(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        blockers = list(global_blockers().order_by("created", "id")[:MAX_SHOWN])
    except DatabaseError:
        return {}  # the database page and health tell about that; a banner would only fail too
    problems = []
    for blocker in blockers:
        link = blocker.related[0] if blocker.related else {}
        problems.append(
            {
                "code": blocker.code,
                "message": blocker.message,
                "url": link.get("url", ""),
                "action": link.get("label", ""),
            }
        )
    return {"global_problems": problems}
