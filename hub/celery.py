"""The Celery app. Tasks are thin shells around plain functions; the database is the record of
work and the broker only carries wake-up signals, so losing the broker loses no work."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _follow_log_level(**_kwargs):
    from hub.logconfig import apply_current_level

    apply_current_level()
