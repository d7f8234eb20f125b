"""The web and redirect listeners as ``hub.properties`` describes them (``server.address``,
``server.port``, ``server.redirect.port``, ``server.ssl.*``, ``server.web.workers``,
``server.shutdown.timeout``): one definition for ``runhub`` and for ``manage.py serve`` (what
deploy/hub-web.sh and the systemd units run), so both shapes listen where the file says."""

from __future__ import annotations

import sys

from django.conf import settings


def web_argv(cert: str, key: str) -> list[str]:
    hub = settings.HUB
    return [
        sys.executable, "-m", "gunicorn", "hub.wsgi:application",
        "--bind", f"{hub['server.address']}:{hub['server.port']}",
        "--certfile", cert,
        "--keyfile", key,
        "--workers", str(hub["server.web.workers"] or 2),
        "--threads", "4",
        "--graceful-timeout", str(hub["server.shutdown.timeout"]),
        "--timeout", "120",
        "--access-logfile", str(hub.logs_dir / "access.log"),
        "--error-logfile", "-",
        "--log-level", "warning",
    ]  # fmt: skip


def redirect_argv() -> list[str]:
    hub = settings.HUB
    return [
        sys.executable, "-m", "gunicorn", "hub.redirect:application",
        "--bind", f"{hub['server.address']}:{hub['server.redirect.port']}",
        "--workers", "1",
        "--error-logfile", "-",
        "--log-level", "warning",
    ]  # fmt: skip
