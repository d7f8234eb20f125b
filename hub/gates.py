"""Whether integrations may do any work now, and the global blockers that say why not.

The sync engine calls ``integration_work_allowed()`` before it detects changes or claims a batch
of activities; it is computed from the real state each time (so an expired license or a lost
lease stops work at once, and a new license lets it resume by itself). ``refresh_global_blockers``
writes the same problems as blockers with impact "all integrations" for the Activity screen;
it runs whenever one of them changes and on every lease heartbeat.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from activity.blockers import DETECTION_ONLY, clear_blocker, global_blockers, raise_blocker
from activity.jobs import recover_holding_jobs
from activity.models import Blocker
from hub import lease, licensing, vault

SECURITY_BLOCKER = "security:master-password"
LICENSE_BLOCKER = "license"
OWN_BLOCKERS = (SECURITY_BLOCKER, LICENSE_BLOCKER)
SECURITY_CODE = "CCRRTT-16001E"


def security_problem() -> str | None:
    state = vault.state()
    if state == vault.SecurityState.NOT_SET:
        return "Integration services cannot start: no master password is set. Set it in Settings → General."
    if state == vault.SecurityState.LOCKED:
        return (
            "Integration services cannot start: the master password must be re-entered in Settings → General "
            "(its file is missing on this machine)."
        )
    return None


def integration_work_allowed() -> tuple[bool, str]:
    """``(True, "")`` when integrations may work, else ``(False, "<catalog code>: <reason>")``."""
    if settings.SAFE_MODE:
        return False, "Hub was started in safe mode: no change detection and no synchronization."
    other = lease.lost()
    if other is not None:
        return False, (
            f"{lease.CODE}: the operational database is in use by another Hub instance ({other.host}); "
            "this instance stopped processing."
        )
    problem = security_problem()
    if problem:
        return False, f"{SECURITY_CODE}: {problem}"
    status = licensing.current()
    if status.problem:
        return False, f"{status.code}: {status.message}"
    blocker = global_blockers().exclude(key__in=OWN_BLOCKERS + DETECTION_ONLY).first()
    if blocker is not None:
        return False, f"{blocker.code}: {blocker.message}"
    return True, ""


def _keep_blocker(key: str, code: str | None, message: str, settings_url: str, label: str) -> None:
    """Raise, refresh or clear one of our blockers, writing only when something changed (this runs on
    every heartbeat)."""
    existing = Blocker.objects.filter(key=key).first()
    if code is None:
        if existing is not None:
            clear_blocker(key)
    elif existing is None or (existing.code, existing.message) != (code, message):
        raise_blocker(
            key,
            code,
            message,
            impact=Blocker.Impact.ALL,
            related=[{"label": label, "url": reverse(settings_url)}],
        )


def refresh_global_blockers() -> None:
    recover_holding_jobs()  # a job whose process died (a database transfer) no longer holds integrations
    problem = security_problem()
    _keep_blocker(
        SECURITY_BLOCKER,
        SECURITY_CODE if problem else None,
        problem or "",
        "settings-general",
        "Settings → General",
    )
    status = licensing.current()
    _keep_blocker(LICENSE_BLOCKER, status.code, status.message, "settings-license", "Settings → License")
