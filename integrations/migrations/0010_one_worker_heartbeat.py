"""One heartbeat table: the engine's ``WorkerHeartbeat`` takes the node name and pid that metrics'
table held, and the rows of that table move here (metrics 0004 then drops it)."""

from django.db import migrations, models


def move_in(apps, schema_editor):
    Old = apps.get_model("metrics", "WorkerHeartbeat")
    New = apps.get_model("integrations", "WorkerHeartbeat")
    db = schema_editor.connection.alias  # the database being migrated (a transfer's target too)
    taken = set(New.objects.using(db).values_list("worker", flat=True))
    New.objects.using(db).bulk_create(
        [
            # a node row is named by its node: no process of today has that name, so no claim is
            # ever thought alive because of a moved row
            New(worker=row.name[:200], name=row.name, pid=row.pid, started=row.started, beat_at=row.seen)
            for row in Old.objects.using(db).all()
            if row.name[:200] not in taken
        ]
    )


def move_out(apps, schema_editor):
    Old = apps.get_model("metrics", "WorkerHeartbeat")
    New = apps.get_model("integrations", "WorkerHeartbeat")
    db = schema_editor.connection.alias
    latest = {}
    for row in New.objects.using(db).exclude(name="").order_by("beat_at"):
        latest[row.name] = row
    Old.objects.using(db).bulk_create(
        [Old(name=name, pid=row.pid, started=row.started, seen=row.beat_at) for name, row in latest.items()]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0009_creation_intent_source_values"),
        ("metrics", "0003_sighting_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="workerheartbeat",
            name="name",
            field=models.CharField(blank=True, help_text="Celery's name of the worker node.", max_length=255),
        ),
        migrations.AddField(
            model_name="workerheartbeat",
            name="pid",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(move_in, move_out),
    ]
