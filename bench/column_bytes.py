"""Where the bytes of the ledger go, on PostgreSQL: per column of the activity and pair tables the
average ``pg_column_size`` of a live row (by status for the activities), and each table's heap,
TOAST and every index per pair. Bytes do not depend on the machine's load; run it against a
database a bench kept (``bench/sync.py --keep``):

    PYTHONPATH=. python bench/column_bytes.py postgres://postgres@127.0.0.1:5432/hub_bench_xxxxxxxx

Not a test: it prints figures, it asserts nothing."""

from __future__ import annotations

import argparse

import psycopg2
from psycopg2 import sql

TABLES = ("activity_artifactactivity", "activity_artifactpair")


def columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def column_bytes(cursor, table: str, where: sql.Composable | None = None) -> tuple[int, dict[str, float]]:
    names = columns(cursor, table)
    sums = sql.SQL(", ").join(
        sql.SQL("COALESCE(AVG(pg_column_size({})), 0)").format(sql.Identifier(name)) for name in names
    )
    cursor.execute(
        sql.SQL("SELECT COUNT(*), AVG(pg_column_size(t.*)), {} FROM {} AS t WHERE {}").format(
            sums, sql.Identifier(table), where or sql.SQL("TRUE")
        )
    )
    count, row, *values = cursor.fetchone()
    return count, {"(whole row)": float(row or 0), **dict(zip(names, map(float, values), strict=True))}


def relation_bytes(cursor, table: str) -> dict[str, int]:
    cursor.execute(
        "SELECT pg_relation_size(c.oid), COALESCE(pg_total_relation_size(c.reltoastrelid), 0),"
        " pg_total_relation_size(c.oid) FROM pg_class c WHERE c.relname = %s",
        [table],
    )
    heap, toast, total = cursor.fetchone()
    sizes = {"heap": heap, "toast": toast}
    cursor.execute(
        "SELECT indexname, pg_relation_size(quote_ident(indexname)::regclass) FROM pg_indexes"
        " WHERE tablename = %s ORDER BY 2 DESC",
        [table],
    )
    sizes.update({f"index {name}": size for name, size in cursor.fetchall()})
    sizes["total"] = total
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="postgres://… of a kept bench database")
    args = parser.parse_args()
    with psycopg2.connect(args.database) as db, db.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM activity_artifactpair")
        pairs = max(1, cursor.fetchone()[0])
        print(f"{pairs} pairs")
        cursor.execute("SELECT status, COUNT(*) FROM activity_artifactactivity GROUP BY status ORDER BY 1")
        statuses = cursor.fetchall()
        print("activities: " + ", ".join(f"{status} {n}" for status, n in statuses))
        for table in TABLES:
            print(f"\n{table}: bytes per pair")
            for name, size in relation_bytes(cursor, table).items():
                print(f"  {name:<40} {size / pairs:8.1f}")
        for status, _ in statuses:
            where = sql.SQL("status = {}").format(sql.Literal(status))
            count, sizes = column_bytes(cursor, TABLES[0], where)
            print(f"\n{TABLES[0]} ({status}, {count} rows): average bytes per live row and column")
            for name, size in sizes.items():
                print(f"  {name:<40} {size:8.1f}")
        count, sizes = column_bytes(cursor, TABLES[1])
        print(f"\n{TABLES[1]} ({count} rows): average bytes per live row and column")
        for name, size in sizes.items():
            print(f"  {name:<40} {size:8.1f}")


if __name__ == "__main__":
    main()
