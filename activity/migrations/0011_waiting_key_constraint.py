"""``waiting_key`` is unique through a constraint instead of ``unique=True``: the same unique index on
every engine, without the ``varchar_pattern_ops`` twin PostgreSQL adds for a unique CharField (for
LIKE, which no query of the key uses): 69 B per activity at 10,000 (docs/performance.md, Branch
scale10). SQLite rebuilds the table for it; 0012 comes after it, so its index is made on the
rebuilt table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0010_compact_json"),
    ]

    operations = [
        migrations.AlterField(
            model_name="artifactactivity",
            name="waiting_key",
            field=models.CharField(blank=True, editable=False, max_length=320, null=True),
        ),
        migrations.AddConstraint(
            model_name="artifactactivity",
            constraint=models.UniqueConstraint(fields=("waiting_key",), name="activity_one_waiting"),
        ),
    ]
