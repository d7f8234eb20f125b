"""``/api/health``: the checks operations poll, each computed from real state.

Every check answers ``pass``, ``fail`` or ``not-applicable`` with a short reason. A check whose
subsystem is not part of this instance yet answers ``not-applicable`` rather than a hopeful
``pass``. Apps that own a subsystem replace its check with ``register``. No check reveals a
secret: reasons name states, never values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not-applicable"

# The documented name of our ``hubIsRunning`` check; kept so existing monitors keep working.
ALIASES = {"tasktopIsRunning": "hubIsRunning"}


@dataclass(frozen=True)
class Result:
    status: str
    reason: str

    def as_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason}


Check = Callable[[], Result]
_checks: dict[str, Check] = {}


def register(name: str) -> Callable[[Check], Check]:
    def decorate(check: Check) -> Check:
        _checks[name] = check
        return check

    return decorate


def not_applicable(what: str) -> Check:
    return lambda: Result(NOT_APPLICABLE, f"{what} is not part of this instance yet.")


def database_result(settings_dict: dict | None = None, alias: str = DEFAULT_DB_ALIAS) -> Result:
    """Open a connection of its own (never the request's) and run ``SELECT 1``."""
    settings_dict = settings_dict or connections.settings[alias]
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(dict(settings_dict), alias)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 — any driver error means "not available"
        return Result(FAIL, f"The operational database cannot be reached ({type(exc).__name__}).")
    finally:
        wrapper.close()
    return Result(PASS, f"The operational database ({wrapper.vendor}) answers.")


@register("databaseIsAvailable")
def _database() -> Result:
    from hub import storage

    if settings.HUB_DATABASE_BACKOFF_SECONDS and (state := storage.backoff_state(storage.run_dir())):
        return Result(FAIL, storage.backoff_message(state))
    return database_result()


@register("configurationMigration")
def _configuration_migration() -> Result:
    from django.db.migrations.executor import MigrationExecutor

    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return Result(FAIL, f"The migration state cannot be read ({type(exc).__name__}).")
    if pending:
        return Result(FAIL, f"{len(pending)} database migration(s) have not been applied.")
    from activity.models import Blocker

    issues = Blocker.objects.filter(kind=Blocker.Kind.MIGRATION).count()
    if issues:
        return Result(
            FAIL,
            f"{issues} configuration migration issue(s) on Activity → Issues: resolve the cause, then Retry.",
        )
    return Result(PASS, "The operational database schema is up to date; no configuration migration issue.")


@register("memoryUsage")
def _memory_usage() -> Result:
    available = _meminfo_kib("MemAvailable")
    total = _meminfo_kib("MemTotal")
    if not available or not total:
        return Result(NOT_APPLICABLE, "This system does not report its memory.")
    share = available / total
    if share < 0.05:
        return Result(FAIL, f"Only {share:.0%} of the machine's memory is available.")
    return Result(PASS, f"{share:.0%} of the machine's memory is available.")


def _meminfo_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@register("hubIsRunning")
def _hub_is_running() -> Result:
    from hub import lifecycle

    state = lifecycle.read_state()
    if state == lifecycle.STARTING:
        return Result(FAIL, f"{lifecycle.STARTING_CODE}: Hub is starting.")
    if state == lifecycle.STOPPING:
        return Result(FAIL, "Hub is stopping.")
    return Result(PASS, "Hub is running.")


@register("activitiesCanProcess")
def _activities_can_process() -> Result:
    if settings.SAFE_MODE:
        return Result(FAIL, "Hub was started in safe mode: no change detection and no processing.")
    return Result(NOT_APPLICABLE, "The sync engine is not part of this instance yet.")


register("notificationSettingsValid")(not_applicable("Email notification"))
# passwordEncryptionInitialized, securityIsSetUp and the license checks: hub.security_health.

ORDER = (
    "notificationSettingsValid",
    "databaseIsAvailable",
    "licenseConfigured",
    "configurationMigration",
    "memoryUsage",
    "passwordEncryptionInitialized",
    "hubIsRunning",
    "securityIsSetUp",
    "licenseExpired",
    "licensesValid",
    "activitiesCanProcess",
)


def report() -> tuple[dict, bool]:
    """Run every check; return the JSON body and whether Hub is healthy (no check failed)."""
    results: dict[str, Result] = {}
    database = _checks["databaseIsAvailable"]()
    for name in ORDER:
        if name == "databaseIsAvailable":
            results[name] = database
        elif database.status == FAIL and name == "configurationMigration":
            # Asking a stopped database again would only add its timeout to the answer.
            results[name] = Result(FAIL, "The operational database cannot be reached.")
        else:
            results[name] = _checks[name]()
    healthy = all(result.status != FAIL for result in results.values())
    checks = {name: result.as_dict() for name, result in results.items()}
    for alias, name in ALIASES.items():
        checks[alias] = checks[name]
    return {"status": "pass" if healthy else "fail", "checks": checks}, healthy
