"""Planner statistics and dead rows of the engine's tables, looked after by the engine itself
while a backfill fills them (issue #19: scale).

The database plans every claim, page and pair lookup from statistics that ``ANALYZE`` gathers.
PostgreSQL's autovacuum analyzes a table once about 10 % of it has changed, but a backfill grows
the activity and pair tables from nothing to a million rows in minutes, and where autovacuum is
off (it was on this machine's PostgreSQL, 2026-12-04) nothing analyzes them at all. The planner
then believes a table still holds the few rows it had at its last analyze. Two plans that went
wrong that way:

- each claim read and sorted every pending activity (1.1 s at 156,000 pending, 27 ms analyzed);
- detection's look-up of 500 pairs by artifact id became a bitmap scan over every pair of the
  integration (610 ms a page at 680,000 pairs, 1.2 ms analyzed): the 1,000,000 run fell from
  1,500 to 200 pairs/s (docs/performance.md, "The million run").

So detection analyzes the activity table at fixed marks of what it has recorded
(``detection.ANALYZE_AT``), and the workers, after their batches, analyze whichever table has
changed well past its last analyze (``refresh_stale``). The threshold is above autovacuum's
default, so where autovacuum keeps up this never fires.

Where autovacuum is off, nothing makes the space of dead rows reusable either: every activity is
written three times (pending, claimed, completed) and the cap deletes completed ones without
pause, so the activity table would grow as if nothing were ever deleted. There the workers also
``VACUUM`` (never ``FULL``) a table whose dead rows pass the same threshold (``vacuum_dead``).
With autovacuum on they leave vacuuming to it."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger("hub.engine")

STALE_ROWS = 10_000  # rows changed since the last analyze, at least ...
STALE_FRACTION = 0.2  # ... and this fraction of the table's rows
MOST_AT_ONCE = 4  # tables analyzed by one call (the others wait for the next)


def analyze(tables: list[str]) -> None:
    """``ANALYZE`` each table (a sample: well under a second at a million rows)."""
    statement = "ANALYZE TABLE {}" if connection.vendor == "mysql" else "ANALYZE {}"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(statement.format(connection.ops.quote_name(table)))


def stale_tables() -> list[str]:
    """Hub's tables (PostgreSQL) changed by more than ``STALE_ROWS`` rows and ``STALE_FRACTION``
    of their size since their last analyze, most changed first. Elsewhere: none (MariaDB's InnoDB
    recalculates its statistics itself once 10 % of a table has changed; SQLite's are analyzed by
    detection's marks only)."""
    if connection.vendor != "postgresql":
        return []
    return _tables_past("s.n_mod_since_analyze", "c.reltuples")


def refresh_stale() -> list[str]:
    """Analyze the stale tables; returns their names. Two workers finding the same table stale
    analyze it once: each table is taken under a transaction-scoped advisory lock, and a table
    another worker holds is left to it. A failure is logged, never raised: the batch's work is
    committed already and must not fail for housekeeping."""
    analyzed = []
    try:
        for table in stale_tables():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [f"hub:analyze:{table}"])
                if cursor.fetchone()[0]:
                    analyze([table])
                    analyzed.append(table)
    except DatabaseError:
        logger.warning("Refreshing the planner statistics failed; the next batch tries again", exc_info=True)
    if analyzed:
        logger.info("Planner statistics refreshed: %s", ", ".join(analyzed))
    return analyzed


def autovacuum_off() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('autovacuum') = 'off'")
        return cursor.fetchone()[0]


def dead_tables() -> list[str]:
    """Hub's tables (PostgreSQL) holding more dead rows than ``STALE_ROWS`` and ``STALE_FRACTION``
    of their live rows, most dead first."""
    return _tables_past("s.n_dead_tup", "s.n_live_tup")


def _tables_past(count: str, size: str) -> list[str]:
    """Hub's tables whose ``count`` (a column of the statistics views) passes ``STALE_ROWS`` and
    ``STALE_FRACTION`` of ``size``, the largest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"  # noqa: S608 - our own column names
            f" WHERE s.schemaname = current_schema() AND {count} > %s AND {count} > %s * GREATEST({size}, 0)"
            f" ORDER BY {count} DESC LIMIT %s",
            [STALE_ROWS, STALE_FRACTION, MOST_AT_ONCE],
        )
        return [name for (name,) in cursor.fetchall()]


def vacuum_dead() -> list[str]:
    """Where PostgreSQL's autovacuum is off, ``VACUUM`` the tables with many dead rows; returns
    their names. ``VACUUM`` cannot run in a transaction, so this does nothing inside one; a table
    another worker is vacuuming (a session advisory lock) is left to it. Failures are logged."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    vacuumed = []
    try:
        if not autovacuum_off():
            return []
        with connection.cursor() as cursor:
            for table in dead_tables():
                key = f"hub:vacuum:{table}"
                cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
                if not cursor.fetchone()[0]:
                    continue
                try:
                    cursor.execute(f"VACUUM {connection.ops.quote_name(table)}")
                    vacuumed.append(table)
                finally:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
    except DatabaseError:
        logger.warning("Vacuuming Hub's tables failed; the next batch tries again", exc_info=True)
    if vacuumed:
        logger.info("Dead rows made reusable (autovacuum is off): %s", ", ".join(vacuumed))
    return vacuumed
