"""The ledger's JSON columns are written without spaces (activity.models.CompactJSON), and a
completed activity keeps its changed fields as [new] / [original, new]. The encoder is Python's
alone: the columns stay as they are, so no table is rebuilt (SQLite would copy every pair for an
AlterField), and rows written before read as they did (ArtifactActivity.changed_values)."""

from django.db import migrations, models

import activity.models

# (model, field) -> the field's arguments besides blank and the encoder
COMPACT = {
    ("artifactactivity", "changed_fields"): {
        "default": dict,
        "help_text": "Completed: {field: [new]} or {field: [original, new]} (changed_values reads it)",
    },
    ("artifactactivity", "conflicts"): {
        "default": list,
        "help_text": "Conflict decisions: [{'field', 'a', 'b', 'winner': 'A'|'B'|'' (none), 'strategy'}]",
    },
    ("artifactpair", "a_snapshot"): {"default": dict},
    ("artifactpair", "attachment_map"): {"default": dict},
    ("artifactpair", "b_snapshot"): {"default": dict},
    ("artifactpair", "comment_map"): {
        "default": dict,
        "help_text": "{'A:<comment id>': 'B:<comment id>', …} both ways",
    },
    ("artifactpair", "time_entry_map"): {
        "default": dict,
        "help_text": "Time Tracking: {'A:<entry id>': {'twin': 'B:<entry id>', 'seconds': n}, …} both ways",
    },
}


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0009_configuration_migration_job"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name=model,
                    name=name,
                    field=models.JSONField(blank=True, encoder=activity.models.CompactJSON, **arguments),
                )
                for (model, name), arguments in COMPACT.items()
            ],
        ),
    ]
