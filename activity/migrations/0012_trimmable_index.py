"""An index that hands the cap's trim (``activity.retention``) the completed activities it may
remove newest first, by id, without reading or sorting anything else: measured with 100,000
completed and 300,000 pending activities newer than them (a backfill's backlog), the bound query
took 30-40 ms on PostgreSQL (bitmap scan and sort) and 160-500 ms on MariaDB (filesort); with this
index 9 ms, and about 30 ms on MariaDB counting the client's start (docs/performance.md, Branch
scale10). Each worker runs it every thousand activities.

PostgreSQL and SQLite: partial, only the rows the cap counts (about 20 B each, for at most the
100,000 kept). MariaDB has no partial indexes: ``(status, conflict)``, whose InnoDB entries end
with the primary key, so equal ``status`` and ``conflict`` come in id order. Created here rather
than in the model's Meta because its form differs per engine (Django would skip the condition on
MariaDB and warn), as the trigram indexes of 0003. Django's state does not know it: a later
migration that makes SQLite rebuild this table must create it again."""

from django.db import migrations

INDEX = "activity_trimmable"
TABLE = "activity_artifactactivity"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"CREATE INDEX {INDEX} ON {TABLE} (status, conflict)")
    else:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} (id) WHERE status = 'completed' AND conflict = ''"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"DROP INDEX {INDEX} ON {TABLE}")
    else:
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0011_waiting_key_constraint"),
    ]

    # Not in a transaction: MariaDB commits DDL at once (Django refuses DDL inside atomic there).
    operations = [migrations.RunPython(create, drop, atomic=False)]
