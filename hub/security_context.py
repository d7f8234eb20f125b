"""The global problems every console page shows at its top: the master password prompt and the
license, until they are dealt with."""

from __future__ import annotations

from django.db import DatabaseError
from django.urls import reverse

from hub import gates, licensing


def global_problems(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    problems = []
    try:
        security = gates.security_problem()
        if security:
            problems.append(
                {
                    "code": gates.SECURITY_CODE,
                    "message": security,
                    "url": reverse("settings-general"),
                    "action": "Set the master password",
                }
            )
        status = licensing.current()
    except DatabaseError:
        return {}  # the database page and health tell about that; a banner would only fail too
    if status.problem:
        problems.append(
            {
                "code": status.code,
                "message": status.message,
                "url": reverse("settings-license"),
                "action": "License",
            }
        )
    return {"global_problems": problems}
