from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The configuration domain — repositories, collections, models, mappings, integrations, their
    validation and configuration history — and the sync engine that detects changes and keeps
    artifacts in step on Celery workers."""

    name = "integrations"
    verbose_name = "Integrations"
