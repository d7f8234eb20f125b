"""What a Hub start does before any process serves or syncs: owner-only data directory, a reachable
database, the schema, the certificate, the evaluation license, the setup token.

``manage.py runhub`` runs it before it starts its children; an install whose services start the
processes directly (deploy/systemd) runs the same steps once per boot with ``manage.py prepare_hub``
(the ``hub-prepare`` unit every other unit waits for), so both shapes come up alike: licensed,
migrated, with the setup token printed while no administrator exists.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from hub import filemodes, gates, lease, licensing, setup, tls
from hub.config import StartupError

Say = Callable[..., None]  # say(message, level=logging.INFO)


def secure_home(say: Say) -> None:
    hub = settings.HUB
    say(f"Hub home: {hub.home}")
    for message, level in filemodes.report(*filemodes.secure_home(hub.home)):
        say(message, level)
    for warning in hub.warnings:
        say(f"WARNING: {warning}", logging.WARNING)


def check_ports(hub) -> None:
    """Both ports must be free to listen on at ``server.address``; say which is not, and why."""
    address = hub["server.address"]
    for key in ("server.port", "server.redirect.port"):
        try:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((address, hub[key]))
        except OSError as error:
            raise StartupError(
                f"Hub cannot start: it cannot listen on {address} port {hub[key]} ({key}): "
                f"{error.strerror or error}. Choose another {key} or server.address in "
                f"{hub.home / 'hub.properties'}, or stop what uses the port."
            ) from None


def check_database() -> None:
    """Reach the operational database before anything else uses it; one clear message if not."""
    from django.db import connection

    from hub.addresses import redact

    try:
        connection.ensure_connection()
    except Exception as error:  # noqa: BLE001 - every driver has its own errors; all mean "not reachable"
        detail = redact(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
        where = settings.HUB["hub.database.url"] or str(settings.DATABASES["default"]["NAME"])
        raise StartupError(
            f"Hub cannot start: the operational database ({redact(where)}) cannot be reached: {detail}. "
            "Check hub.database.url, that the database exists and that its server runs."
        ) from None
    finally:
        connection.close()


def pending_migrations() -> tuple[int, int]:
    """(migrations already applied, migrations still to apply) on the operational database."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return len(executor.loader.applied_migrations), len(plan)


def migrate(say: Say | None = None) -> None:
    """Apply the schema, holding the schema-migration lock (``hub.maintenance``): a second instance
    started meanwhile waits with CCRRTT-30011E instead of migrating the same database at once."""
    from hub import maintenance

    with maintenance.schema_lock(say):
        applied, pending = pending_migrations()  # inside the lock: another instance may have done it
        call_command("migrate", interactive=False, verbosity=0)
        if applied and pending:  # an upgrade of an existing database, not a first start
            after_upgrade()


def after_upgrade() -> int:
    """The Background Jobs tab is cleared after each upgrade: completed jobs go (jobs still pending,
    running or failed are work not done yet and stay). Then the integration data migrations the
    upgrade needs are queued, and the configuration history's, and the configuration migrations'
    job (what fails is an issue on Activity → Issues, with Retry). This runs inside the schema lock
    every other starting process waits for, so it only reads and writes the database: whatever asks
    a tool runs in those jobs, after the start. Returns how many jobs were removed."""
    from activity.models import BackgroundJob
    from integrations import configuration_migrations, data_migrations, history_migrations

    removed, _ = BackgroundJob.objects.filter(status=BackgroundJob.Status.COMPLETED).delete()
    if removed:
        logging.getLogger("hub").info("Upgrade: cleared %s completed background jobs", removed)
    # The operational data the new version reads differently is rewritten per integration, as
    # background jobs: the integrations not concerned start at once.
    data_migrations.plan()
    # The configuration history, when a migration rewrites it: one job; the History screen waits.
    history_migrations.plan()
    # The configuration itself, when the new version reads it differently: the collections that
    # need it wait (66003W) for a job that asks their tools after the start; one that cannot be
    # migrated blocks only its own integrations, until Retry on the Issues tab succeeds.
    configuration_migrations.plan()
    return removed


def certificate(say: Say) -> tuple[Path, Path]:
    hub = settings.HUB
    cert, key, self_signed = tls.certificate_paths(hub)
    if self_signed:
        say(
            f"WARNING: HTTPS uses a self-signed certificate ({cert}); browsers will call it insecure. "
            "Replace it by setting server.ssl.certificate and server.ssl.certificate-key (PEM files) "
            f"in {hub.home / 'hub.properties'}.",
            logging.WARNING,
        )
    return cert, key


def issue_license(say: Say) -> None:
    evaluation = licensing.ensure_evaluation_license()
    if evaluation:
        say(
            f"Issued a {licensing.EVALUATION_DAYS}-day evaluation license for this instance "
            f"(valid until {evaluation.expires:%Y-%m-%d}); see Settings → License."
        )


def setup_token(say: Say) -> None:
    token = setup.ensure_setup_token()
    if token:
        say(
            f"First start: open https://localhost:{settings.HUB['server.port']}/setup/ and enter the "
            f"setup token {token} (also in {settings.HUB.home / 'setup-token'})."
        )


def refresh_blockers(say: Say) -> None:
    gates.refresh_global_blockers()
    if gates.security_problem():
        say("Integrations wait for the master password: set it in Settings → General.")


def prepare(say: Say) -> None:
    """Everything a first start needs, for the services of deploy/systemd (``prepare_hub``)."""
    secure_home(say)
    check_database()
    migrate()
    certificate(say)
    issue_license(say)
    if lease.lost() is None:  # a database another instance holds is that instance's to describe
        refresh_blockers(say)
    setup_token(say)
