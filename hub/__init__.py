"""Hub core: settings and external configuration, the Celery app, accounts and roles, /api/health,
logging, the HTTPS server supervisor (``manage.py runhub``) and the console shell."""

from hub.celery import app as celery_app

__all__ = ["celery_app"]
