import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
application = get_wsgi_application()


def _freeze_startup_objects() -> None:
    """Load the URL patterns and views now rather than in the first request, then move everything
    start-up made into the collector's permanent generation (as the workers do, hub.celery): a full
    collection in a web process then walks what requests made, not Django's whole heap, which held
    up every thread of the process for that long (the Gateway endpoint's answer-time tail)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module
    gc.collect()
    gc.freeze()


_freeze_startup_objects()
