"""The worker heartbeats live in ``integrations.WorkerHeartbeat`` alone (its 0010 moved the rows)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0003_sighting_indexes"),
        ("integrations", "0010_one_worker_heartbeat"),
    ]

    operations = [
        migrations.DeleteModel(name="WorkerHeartbeat"),
    ]
