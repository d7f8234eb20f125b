"""Celery tasks: thin shells around ``settings_app.notifications``."""

from celery import shared_task

from settings_app import notifications


@shared_task(name="settings_app.send_notifications")
def send_notifications() -> str:
    return notifications.notify()
